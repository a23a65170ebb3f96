"""The project as a wheel installs and finds everything from there: no checkout behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from congress.cli import build_parser

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json
from congress.faces.manifest import Manifest, models_dir
from flash import payload
files = payload._systemd_files()
print(json.dumps({"systemd": str(payload.SYSTEMD_DIR), "models": str(models_dir()),
                  "models_listed": len(Manifest().entries), "files": sorted(files)}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "-w", str(tmp / "dist"), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("digital_congress-*.whl")
    site = tmp / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-2000:]
    return site


def test_installed_flash_and_models_need_no_checkout(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CONGRESS_MODELS_DIR"}
    env["PYTHONPATH"] = str(installed)
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert Path(out["systemd"]).resolve().is_relative_to(installed.resolve())
    assert Path(out["models"]).resolve() == (installed / "models").resolve()
    assert out["models_listed"] >= 3
    assert "systemd/congress-edge.service" in out["files"]
    unit = (installed / "flash/systemd/congress-edge.service").read_text()
    assert unit == (REPO / "systemd/congress-edge.service").read_text()


def test_edge_bench_takes_a_models_folder():
    args = build_parser().parse_args(["edge", "bench", "--images", "faces", "--models", "/srv/models"])
    assert args.models == "/srv/models"


def test_only_64_bit_arm_is_declared():
    # numpy, OpenCV, LiteRT and cryptography have no 32-bit ARM wheels; first boot refuses such an image.
    assert "armv7l" not in (REPO / "pyproject.toml").read_text()
