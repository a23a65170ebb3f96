"""``congress faces`` commands on a small subset of the real data (the full runs are benchmarks)."""

from __future__ import annotations

import csv
import json

import pytest

from congress.cli import main


def run_json(capsys, *argv) -> dict:
    assert main(["faces", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def lfw(faces_dir):
    return faces_dir / "lfw-dev"


@pytest.mark.parametrize("model", ["sface", "dlib-resnet"])
def test_eval_pairs_subset(tmp_path, capsys, lfw, model):
    rows = [ln for ln in (lfw / "pairs.txt").read_text().splitlines()[1:] if ln.strip()]
    same, different = rows[:300][:20], rows[300:][:20]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("1\t20\n" + "\n".join(same + different) + "\n")
    images = str(lfw / "images")
    result = run_json(capsys, "eval", "--pairs", str(pairs), "--images", images, "--folds", "2",
                      "--model", model)
    assert set(result) >= {"accuracy", "std", "threshold", "no_face"}
    assert result["accuracy"] >= 0.9 and result["no_face"] == 0


def test_eval_open_set_and_calibrate_subset(tmp_path, capsys, lfw):
    def subset(name, keep, out_name=None):
        with (lfw / name).open() as handle:
            rows = [r for r in csv.DictReader(handle) if keep(r)]
        out = tmp_path / (out_name or name)
        with out.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["path", "identity"])
            writer.writeheader()
            for r in rows:
                writer.writerow({"path": str(lfw / r["path"]), "identity": r["identity"]})
        return out, rows

    _, everyone = subset("enroll.csv", lambda r: True)
    all_enrolled = {r["identity"] for r in everyone}
    names = {r["identity"] for r in everyone[:10]}
    enroll, _ = subset("enroll.csv", lambda r: r["identity"] in names)
    strangers = []

    def keep(row):
        if row["identity"] in names:
            return True
        if row["identity"] not in all_enrolled and len(strangers) < 12:
            strangers.append(row)
            return True
        return False

    probes, _ = subset("probes.csv", keep)
    result = run_json(capsys, "eval", "--enroll", str(enroll), "--probes", str(probes))
    assert set(result) >= {"rank1", "tpir@fpir=0.001", "tpir@fpir=0.01", "tpir@fpir=0.05", "no_face"}
    assert result["rank1"] >= 0.9 and result["enrolled"] == 10 and result["impostor_probes"] == 12

    # Distractors make the gallery larger; they are enrolled, never probed.
    others = sorted({r["identity"] for r in everyone} - names)[:15]
    distractors, _ = subset("enroll.csv", lambda r: r["identity"] in others, "distractors.csv")
    bigger = run_json(capsys, "eval", "--enroll", str(enroll), "--probes", str(probes),
                      "--distractors", str(distractors))
    assert bigger["gallery_size"] == 25 and bigger["enrolled"] == 25 and bigger["rank1"] >= 0.9
    assert main(["faces", "eval", "--enroll", str(enroll), "--probes", str(probes),
                 "--distractors", str(enroll)]) == 2
    assert "a probe belongs to a distractor identity" in capsys.readouterr().err

    gallery = tmp_path / "gallery.npz"
    calibrated = run_json(capsys, "calibrate", "--enroll", str(enroll), "--probes", str(probes),
                          "--far", "0.1", "--gallery-out", str(gallery))
    assert calibrated["far"] <= 0.1 and 0 < calibrated["threshold"] < 1
    from congress.faces import Gallery

    saved = Gallery.from_bytes(gallery.read_bytes())
    assert saved.threshold == pytest.approx(calibrated["threshold"], abs=1e-4)
    assert saved.model == "sface"


def test_bench_subset(capsys, faces_dir):
    result = run_json(capsys, "bench", "--images", str(faces_dir / "single"), "--gallery-size", "50")
    assert result["gallery_size"] == 50 and result["images"] == 4
    for stage in ("decode", "detect", "align", "embed", "search", "end_to_end"):
        assert result["stages"][stage]["p50_ms"] > 0
    assert result["p50_ms"] > 0 and result["p95_ms"] >= result["p50_ms"] and result["rss_mb"] > 0


def test_check_models_and_bad_arguments(capsys):
    assert run_json(capsys, "check-models")["ok"] is True
    assert main(["faces", "eval", "--pairs", "x.txt"]) == 2
    assert "needs --images" in capsys.readouterr().err


def test_bad_lists_are_refused_clearly(tmp_path, capsys):
    bad = tmp_path / "pairs.txt"
    bad.write_text("1\t2\nAlice 1 2\n")
    assert main(["faces", "eval", "--pairs", str(bad), "--images", str(tmp_path)]) == 2
    assert "expected 4 pairs, found 1" in capsys.readouterr().err
    assert main(["faces", "eval", "--pairs", str(tmp_path / "none.txt"), "--images", str(tmp_path)]) == 2
    assert "cannot read pairs file" in capsys.readouterr().err
    csv_file = tmp_path / "enroll.csv"
    csv_file.write_text("file,name\na.jpg,x\n")
    assert main(["faces", "eval", "--enroll", str(csv_file), "--probes", str(csv_file)]) == 2
    assert "columns must be path,identity" in capsys.readouterr().err


def small_pairs(tmp_path, lfw, per_kind: int = 4):
    rows = [ln for ln in (lfw / "pairs.txt").read_text().splitlines()[1:] if ln.strip()]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(f"1\t{per_kind}\n" + "\n".join(rows[:per_kind] + rows[300 : 300 + per_kind]) + "\n")
    return pairs


@pytest.mark.parametrize(("folds", "says"), [
    ("1", "--folds 1: at least 2 folds are needed"),
    ("0", "--folds 0: at least 2 folds are needed"),
    ("-3", "--folds -3: at least 2 folds are needed"),
    ("5", "can be cut into at most 4 folds"),
])
def test_eval_refuses_folds_that_cannot_give_a_figure(tmp_path, capsys, lfw, folds, says):
    pairs = small_pairs(tmp_path, lfw)
    code = main(["faces", "eval", "--pairs", str(pairs), "--images", str(lfw / "images"), "--folds", folds,
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and says in err


def test_eval_with_the_wrong_image_folder_says_so_once(tmp_path, capsys, lfw):
    pairs = small_pairs(tmp_path, lfw)
    wrong = tmp_path / "photos"
    wrong.mkdir()
    (wrong / "somebody.jpg").write_bytes(b"not the LFW layout")
    for images, says in ((wrong, "none of the"), (tmp_path / "nowhere", "does not exist")):
        code = main(["faces", "eval", "--pairs", str(pairs), "--images", str(images), "--folds", "2",
                     "--json"])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and says in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    # Some images missing (a partial copy): refused too, naming the first missing one.
    partial = tmp_path / "partial"
    partial.mkdir()
    first = next(iter(ln.split() for ln in pairs.read_text().splitlines()[1:]))
    (partial / first[0]).symlink_to(lfw / "images" / first[0])
    code = main(["faces", "eval", "--pairs", str(pairs), "--images", str(partial), "--folds", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "images named in" in err and "are missing" in err and "none of" not in err


def test_eval_open_set_with_paths_that_do_not_exist(tmp_path, capsys):
    listed = tmp_path / "enroll.csv"
    listed.write_text("path,identity\nnobody/1.jpg,nobody\nnobody/2.jpg,nobody\n")
    code = main(["faces", "eval", "--enroll", str(listed), "--probes", str(listed), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "none of the 2 images named in" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("path,identity\n")
    assert main(["faces", "eval", "--enroll", str(empty), "--probes", str(listed)]) == 2
    assert "lists no images" in capsys.readouterr().err


def test_eval_with_no_face_anywhere_is_an_error_not_a_figure(tmp_path, capsys, faces_dir):
    images = tmp_path / "images"
    clock = (faces_dir / "no_face" / "clock_motion.jpg").read_bytes()
    for name in ("Aa", "Bb"):
        (images / name).mkdir(parents=True)
        for i in (1, 2):
            (images / name / f"{name}_{i:04d}.jpg").write_bytes(clock)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("1\t2\nAa\t1\t2\nBb\t1\t2\nAa\t1\tBb\t1\nAa\t2\tBb\t2\n")
    code = main(["faces", "eval", "--pairs", str(pairs), "--images", str(images), "--folds", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "no pair of these folds has a face in both images" in err
