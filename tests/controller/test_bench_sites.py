"""``congress bench sites`` end to end at a small size: real site brokers bridged to a real central one,
link stalls and resets, kill -9 of site and central brokers, a short central outage; every delegate's
check-in stored once. The recorded runs (20, 100 and 220 sites) are in docs/benchmarks.md."""

from __future__ import annotations

import json

from congress.cli import main


def test_cli_prints_the_contract_fields(capsys):
    assert main(["bench", "sites", "--sites", "3", "--delegates", "45", "--outage-s", "3", "--rate", "40",
                 "--keepalive-s", "5", "--door-workers", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    contract = {"sites", "delegates", "sent", "stored", "lost", "duplicates", "p99_ms", "drain_s", "rss_mb"}
    assert contract <= set(r)
    assert (r["sites"], r["delegates"], r["sent"], r["stored"]) == (3, 45, 45, 45)
    assert r["lost"] == 0 and r["duplicates"] == 0 and r["unexpected"] == 0
    assert r["faults_stored"] == r["faults_sent"] == 30  # nothing missing right after the faults either
    assert r["faults"]["central_kills"] == 1 and r["faults"]["site_kills"] == 1 and r["faults"]["reset"] >= 1
    assert r["backlog_at_restart"] >= 15  # the last third checked in while the central broker was down
    assert r["drain_s"] >= 0 and r["rss_mb"] > 0 and r["p99_ms"] is not None
    assert r["door_workers"] == 2 and set(r["start_s"]) == {"brokers", "bridges", "doors"}
