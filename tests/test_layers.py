"""The layers hold: import contracts (``make lint``), a door unit without the controller's stack, and
command groups discovered from the programs' entry points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from congress import cli

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("congress", "edge", "controller", "flash", "demo", "models")


def squeezed(text: str) -> str:
    """``text`` without any whitespace (argparse wraps long help lines anywhere)."""
    return "".join(text.split())


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--config", str(tree / "pyproject.toml")], cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def tree(tmp_path):
    """A copy of the sources (Python files only) with the project's contracts."""
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg,
                        ignore=lambda d, names: [n for n in names if n == "__pycache__"
                                                 or not (n.endswith(".py") or (Path(d) / n).is_dir())])
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold_and_a_violation_fails_lint(tree):
    ok = _lint(tree)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 broken" in ok.stdout
    # The library reaching into the controller, hidden inside a function as such imports used to be.
    wire = tree / "congress" / "wire" / "topics.py"
    wire.write_text(wire.read_text() + "\n\ndef _sneaky():\n    from controller.storage import tables\n\n"
                    "    return tables\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "the library (congress) imports no program BROKEN" in broken.stdout
    assert "congress.wire.topics -> controller.storage.tables" in broken.stdout


def test_door_unit_and_controller_may_not_import_each_other(tree):
    door = tree / "edge" / "door.py"
    door.write_text(door.read_text() + "\nimport controller.live  # noqa\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "the door unit and the controller never import each other BROKEN" in broken.stdout


def test_importing_the_door_unit_loads_no_controller_flask_or_sqlalchemy():
    code = (
        "import json, sys\n"
        "import edge.main, edge.cli, edge.door, edge.selftest, edge.bench, edge.gallery_sync\n"
        "from congress import cli\n"
        "cli.build_parser(installed=lambda extra: extra == 'edge')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, check=True)
    loaded = set(json.loads(out.stdout))
    assert "edge" in loaded
    assert not loaded & {"flask", "sqlalchemy", "alembic", "cheroot", "werkzeug", "controller", "demo"}


def test_every_program_registers_its_command_groups_with_the_extra_that_installs_it():
    groups = {g.name: (g.entry_point.value.split(":")[0], g.extras) for g in cli.discover()}
    assert groups["edge"] == ("edge.cli", ("edge",))
    assert groups["controller"] == ("controller.cli.controller_cmd", ("controller",))
    assert groups["keypads"][1] == groups["bench"][1] == groups["audit"][1] == ("controller",)
    assert groups["demo"] == ("demo.cli", ("edge", "controller"))
    assert {groups[n] for n in ("config", "ca", "faces")} == {
        ("congress.cli.config_cmd", ()), ("congress.cli.ca_cmd", ()), ("congress.cli.faces_cmd", ())}
    assert groups["flash"][0].startswith("flash.") and groups["venue"][0].startswith("flash.")
    # Every extra named exists, and this development install (make setup) has the programs' extras.
    declared = set(metadata.metadata(cli.DISTRIBUTION).get_all("Provides-Extra"))
    assert {e for _, extras in groups.values() for e in extras} <= declared
    assert all(cli.extra_installed(e) for e in ("edge", "controller", "dev"))


def test_a_door_unit_lists_the_missing_programs_with_their_extra(capsys):
    parser = cli.build_parser(installed=lambda extra: extra == "edge")
    text = squeezed(parser.format_help())

    def listed(line: str) -> bool:
        return squeezed(line) in text

    assert listed("edge door unit: run, selftest, bench")  # the door unit's own group
    assert listed("controller not installed — pip install 'digital-congress[controller]'")
    assert listed("keypads not installed — pip install 'digital-congress[controller]'")
    assert listed("demo not installed — pip install 'digital-congress[edge,controller]'")
    args = parser.parse_args(["controller", "run", "--config", "controller.toml"])
    assert args.handler(args) == cli.NOT_INSTALLED
    assert "pip install 'digital-congress[controller]'" in capsys.readouterr().err


@pytest.mark.install
@pytest.mark.skipif(not os.environ.get("CONGRESS_INSTALL_TEST"), reason="make test-install (about 80 s)")
def test_a_fresh_door_unit_install_runs_without_the_controller(tmp_path):
    """``pip install '.[edge]'`` in a new venv: the door-unit groups work, the others name their extra."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{ROOT}[edge]"], check=True, timeout=900,
                   capture_output=True)
    helped = subprocess.run([str(venv / "bin" / "congress"), "--help"], capture_output=True, text=True,
                            check=True, timeout=60)
    text = squeezed(helped.stdout)
    assert squeezed("edge door unit: run, selftest, bench") in text
    assert squeezed("controller not installed — pip install 'digital-congress[controller]'") in text
    refused = subprocess.run([str(venv / "bin" / "congress"), "controller", "migrate", "--config", "x"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == cli.NOT_INSTALLED and "digital-congress[controller]" in refused.stderr
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import sys, edge.main, edge.cli; print(sorted(m for m in sys.modules "
                            "if m.split('.')[0] in ('flask', 'sqlalchemy', 'controller')))"],
                           capture_output=True, text=True, check=True, timeout=60, cwd=tmp_path)
    assert probe.stdout.strip() == "[]"
