"""The check-in bench end to end (real broker, controller ingest in its own process, simulated doors),
with small counts: every check-in stored once, also across kill -9 of the controller and of the broker,
on SQLite and PostgreSQL. The full-size run is ``congress bench checkins`` (docs/benchmarks.md)."""

from __future__ import annotations

import json

import pytest

from congress.cli import main
from controller.bench.checkins import run_bench


def assert_complete(result: dict, count: int) -> None:
    assert result["sent"] == count
    assert result["stored"] == count, result
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["unexpected"] == 0
    assert result["unacked"] == 0
    assert result["per_s"] > 0 and result["p99_ms"] is not None


def test_cli_prints_the_contract_fields(capsys):
    assert main(["bench", "checkins", "--count", "300", "--doors", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"sent", "stored", "lost", "duplicates", "per_s", "p99_ms"} <= set(result)
    assert_complete(result, 300)
    assert result["backend"] == "sqlite" and result["doors"] == 3


def test_kill9_controller_mid_stream_loses_nothing():
    result = run_bench(500, 4, rate=250, kill_controller_at=120, resend_s=2.0)
    assert [k["what"] for k in result["kills"]] == ["controller"]
    assert result["kills"][0]["stored"] < 500  # killed while check-ins were still coming
    assert_complete(result, 500)


def test_kill9_broker_mid_stream_loses_nothing():
    result = run_bench(500, 4, rate=250, kill_broker_at=120, resend_s=2.0)
    assert [k["what"] for k in result["kills"]] == ["broker"]
    assert result["kills"][0]["stored"] < 500
    assert_complete(result, 500)


@pytest.mark.postgres
def test_bench_on_postgresql_with_controller_kill(pg_server):
    admin = pg_server.url("postgres")
    result = run_bench(400, 3, rate=250, kill_controller_at=100, resend_s=2.0, database=admin)
    assert result["backend"] == "postgresql"
    assert_complete(result, 400)
