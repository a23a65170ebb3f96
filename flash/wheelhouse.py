"""The door unit's software for one Raspberry Pi OS release, as wheels, so first boot installs offline.

``congress venue wheelhouse --out DIR`` downloads (pip's own cache makes a second run quick) every wheel
that ``digital-congress[edge]`` needs for the image's Python and architecture, builds the pure-Python
packages that exist only as source (``sdnotify``) into wheels beforehand, and leaves out what the image
brings from Debian because picamera2 is built against it (numpy). ``congress flash --wheelhouse DIR``
puts the folder on the card; ``firstboot.sh`` compares ``TARGET`` with the running system before it
touches anything and installs with ``pip install --no-index``.

Only 64-bit Raspberry Pi OS is supported: numpy, OpenCV, LiteRT and cryptography publish no wheels
for 32-bit ARM. Only the trixie release is supported: bookworm's picamera2 is built against numpy 1.24,
and the OpenCV the unit needs requires numpy 2 (picamera2 then fails with "numpy.dtype size changed").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from congress.errors import FlashError

PROJECT = "digital-congress"
TARGET_FILE = "TARGET"


@dataclass(frozen=True)
class Release:
    """What a Raspberry Pi OS (64-bit) release runs, as far as wheels are concerned."""

    name: str
    python: str  # major.minor of /usr/bin/python3
    glibc: tuple[int, int]
    multiarch: str  # sysconfig MULTIARCH of /usr/bin/python3
    debian: dict[str, str]  # pip name -> version Debian ships; these come from apt, not from the card
    apt: tuple[str, ...]  # Debian packages first boot needs

    @property
    def pip_args(self) -> list[str]:
        """pip's options that select wheels for this release's Python and C library (arm64 only)."""
        plat = [a for m in range(17, self.glibc[1] + 1) for a in ("--platform", f"manylinux_2_{m}_aarch64")]
        return ["--only-binary=:all:", *plat, "--python-version", self.python, "--implementation", "cp",
                "--abi", "cp" + self.python.replace(".", "")]


RELEASES = {
    "trixie": Release(
        name="trixie", python="3.13", glibc=(2, 41), multiarch="aarch64-linux-gnu",
        debian={"numpy": "2.2.4"}, apt=("python3-venv", "python3-numpy"),
    ),
}
#: Releases first boot recognises and refuses, with the reason (firstboot.sh prints it).
UNSUPPORTED = {
    "bookworm": "Raspberry Pi OS bookworm: its picamera2 is built against numpy 1.24 and the unit's OpenCV "
                "needs numpy 2; flash a trixie image (2025-10-01 or later)",
}

_NO_MATCH = re.compile(r"No matching distribution found for ([A-Za-z0-9_.\-]+)")


def _pip(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout)


def project_wheel(out: Path) -> Path:
    """Build this project's wheel from its checkout into ``out``."""
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout / "pyproject.toml").is_file():
        raise FlashError("the project's wheel is needed and this is not a checkout of the project",
                         hint="pass --wheel digital_congress-VERSION-py3-none-any.whl")
    proc = _pip("wheel", "--no-deps", "--quiet", "-w", str(out), str(checkout))
    if proc.returncode != 0:
        raise FlashError(f"building the project wheel failed: {proc.stderr.strip()[-800:]}")
    wheels = sorted(out.glob("digital_congress-*.whl"))
    if not wheels:
        raise FlashError(f"pip wheel wrote no digital_congress wheel into {out}")
    return wheels[-1]


def _source_only_wheel(requirement: str, out: Path) -> Path:
    """Build a pure-Python package that exists only as source into a wheel (any platform)."""
    with tempfile.TemporaryDirectory(prefix="congress-sdist-") as tmp:
        proc = _pip("wheel", "--no-deps", "--quiet", "--no-binary=:all:", "-w", tmp, requirement)
        built = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not built:
            raise FlashError(f"{requirement} has no wheel for the unit and cannot be built: "
                             f"{proc.stderr.strip()[-600:]}")
        if not built[0].name.endswith(("-py3-none-any.whl", "-py2.py3-none-any.whl")):
            raise FlashError(
                f"{requirement} has no wheel for the unit and is not pure Python ({built[0].name})",
                hint="it cannot go into the wheelhouse; the door unit cannot use it",
            )
        dst = out / built[0].name
        shutil.move(str(built[0]), dst)
        return dst


def _name(wheel_file: str) -> str:
    return wheel_file.split("-")[0].lower().replace("_", "-")


def _target_values(out: Path, key: str) -> list[str]:
    try:
        lines = (out / TARGET_FILE).read_text().splitlines()
    except OSError:
        return []
    return [line.partition("=")[2] for line in lines if line.startswith(f"{key}=")]


def _resolve_offline(out: Path, rel: Release, wheel: Path, constraints: Path, tmp: Path) -> set[str]:
    """Resolve the unit's requirements from ``out`` alone, as first boot will; the wheel files it uses."""
    import json

    report = tmp / "report.json"
    proc = _pip("install", "--dry-run", "--quiet", "--ignore-installed", "--no-index", *rel.pip_args,
                "--find-links", str(out), "--target", str(tmp / "target"), "-c", str(constraints),
                "--report", str(report), f"{wheel}[edge]")
    if proc.returncode != 0:
        raise FlashError(f"the wheelhouse does not resolve offline: {proc.stderr.strip()[-1200:]}")
    items = json.loads(report.read_text())["install"]
    return {Path(i["download_info"]["url"].removeprefix("file://")).name for i in items}


def build(out: Path, *, release: str = "trixie", wheel: Path | None = None) -> dict:
    """Fill ``out`` with the unit's wheels for ``release`` and its ``TARGET`` file; return a summary."""
    if release not in RELEASES:
        reason = UNSUPPORTED.get(release, "unknown release")
        raise FlashError(f"no wheelhouse for Raspberry Pi OS {release!r}: {reason}",
                         hint=f"supported: {', '.join(RELEASES)}")
    rel = RELEASES[release]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="congress-wheelhouse-") as tmp:
        tmpdir = Path(tmp)
        if wheel is None:
            wheel = project_wheel(tmpdir)
        constraints = tmpdir / "debian.txt"
        constraints.write_text("".join(f"{k}=={v}\n" for k, v in rel.debian.items()))
        built: list[str] = []
        for _ in range(6):
            proc = _pip("download", "--quiet", "--dest", str(out), *rel.pip_args, "--find-links", str(out),
                        "-c", str(constraints), f"{wheel}[edge]")
            if proc.returncode == 0:
                break
            missing = _NO_MATCH.search(proc.stderr)
            if missing is None or missing.group(1) in built:
                raise FlashError(f"pip could not collect the unit's wheels: {proc.stderr.strip()[-1200:]}")
            name = re.split(r"[<>=!~;\[ ]", missing.group(1))[0]
            _source_only_wheel(name, out)
            built.append(name)
        else:  # pragma: no cover - more than six source-only packages
            raise FlashError("too many packages exist only as source")
        for old in out.glob("digital_congress-*.whl"):
            old.unlink()
        shutil.copy2(wheel, out / wheel.name)
        wheel = out / wheel.name
        used = _resolve_offline(out, rel, wheel, constraints, tmpdir)
    built = sorted(set(built) | set(_target_values(out, "built")))
    for w in out.glob("*.whl"):  # left from an earlier run, or what Debian provides (picamera2 uses it)
        if w.name not in used or _name(w.name) in rel.debian:
            w.unlink()
    wheels = sorted(p.name for p in out.glob("*.whl"))
    version = wheel.name.split("-")[1]
    (out / TARGET_FILE).write_text(
        f"release={rel.name}\npython={rel.python}\nmultiarch={rel.multiarch}\n"
        f"project={PROJECT}=={version}\napt={' '.join(rel.apt)}\n"
        + "".join(f"debian={k}=={v}\n" for k, v in rel.debian.items())
        + "".join(f"built={b}\n" for b in built)
    )
    return {
        "release": rel.name, "python": rel.python, "multiarch": rel.multiarch, "wheelhouse": str(out),
        "wheels": wheels, "bytes": sum((out / w).stat().st_size for w in wheels),
        "built_from_source": built, "from_debian": sorted(rel.debian), "project": f"{PROJECT}=={version}",
    }


def read(folder: Path) -> dict[str, bytes]:
    """The wheelhouse's files for the card (``wheels/NAME``); refuse a folder without ``TARGET``."""
    target = folder / TARGET_FILE
    if not target.is_file():
        raise FlashError(f"{folder} is not a wheelhouse (no {TARGET_FILE} file)",
                         hint="make one with: congress venue wheelhouse --out DIR")
    files = {f"wheels/{TARGET_FILE}": target.read_bytes()}
    wheels = sorted(folder.glob("*.whl"))
    if not any(w.name.startswith("digital_congress-") for w in wheels):
        raise FlashError(f"{folder} holds no digital_congress wheel",
                         hint="make it again with: congress venue wheelhouse --out DIR")
    for w in wheels:
        files[f"wheels/{w.name}"] = w.read_bytes()
    return files
