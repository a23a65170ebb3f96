"""``congress bench keypads`` end to end on a small hall (the 2,000-keypad run is a benchmark)."""

from __future__ import annotations

import json

from congress.cli import main


def test_bench_keypads_small(capsys):
    assert main(["bench", "keypads", "--keypads", "40", "--baud", "115200", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["votes"], r["counted"], r["lost"], r["acked"]) == (40, 40, 0, 40)
    assert r["wire_bytes"] == 40 * 46 and r["wire_seconds"] == round(40 * 46 * 10 / 115200, 3)
    assert r["seconds"] >= r["send_seconds"] > 0 and r["rejected"] == {}


def test_bench_keypads_secret_election(capsys):
    assert main(["bench", "keypads", "--keypads", "30", "--baud", "57600", "--secret", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["secret"] and r["counted"] == r["cast"] == 30 and r["lost"] == 0
