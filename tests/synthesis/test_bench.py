"""The benchmark command on two clusters of the shared corpus (skipped when the data is absent)."""

from __future__ import annotations

import json

import pytest

from controller.synthesis import bench

pytest.importorskip("sumy", reason="the LexRank baseline needs sumy (dev extra)")

KEYS = {
    "clusters",
    "rouge1",
    "rouge2",
    "rougeL",
    "lead_rouge2",
    "lexrank_rouge2",
    "human_rouge2",
    "purity",
    "ari",
    "seconds",
    "rss_mb",
}


@pytest.mark.slow
def test_bench_prints_one_json_object_with_the_contract_keys(summaries, capsys):
    assert bench.main(["--data", str(summaries), "--limit", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= KEYS
    assert out["clusters"] == 2
    for key in ("rouge1", "rouge2", "rougeL", "lead_rouge2", "lexrank_rouge2", "human_rouge2", "purity"):
        assert 0.0 < out[key] <= 1.0, key
    assert out["split"]["dev_odd"]["clusters"] + out["split"]["heldout_even"]["clusters"] == 2


def test_lead_takes_documents_in_turn():
    assert bench.lead([["a1", "a2", "a3"], ["b1"], ["c1", "c2"]]) == ["a1", "b1", "c1", "a2", "c2", "a3"]


def test_purity_and_ari_by_hand():
    assert bench._purity([0, 0, 1, 1], [5, 5, 6, 7]) == 0.75
    assert bench._ari([0, 0, 1, 1], [5, 5, 6, 6]) == 1.0
    assert bench._ari([0, 1, 0, 1], [5, 5, 6, 6]) == pytest.approx(-0.5)


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no cluster_N folders"):
        bench.load(tmp_path)
    with pytest.raises(SystemExit, match="no data folder"):
        bench.load(tmp_path / "absent")
