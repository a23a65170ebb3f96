#!/usr/bin/env python3
"""Copy the npm-installed browser assets and fonts into the packages (``make setup`` runs it).

Reads ``assets/files.txt`` (source under ``assets/node_modules``, destination folder) and copies each
file whose bytes differ, so a second run touches nothing. Fails with the missing file's name when
``npm ci`` has not installed it. Standard library only: it runs before the project is installed.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "assets" / "node_modules"


def entries(listing: Path) -> list[tuple[Path, Path]]:
    out = []
    for n, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            sys.exit(f"{listing}:{n}: expected 'source destination-folder', got {line!r}")
        out.append((MODULES / parts[0], ROOT / parts[1]))
    return out


def main() -> int:
    copied = 0
    for src, folder in entries(ROOT / "assets" / "files.txt"):
        if not src.is_file():
            sys.exit(f"{src.relative_to(ROOT)} is missing: run `make setup` (npm ci in assets/)")
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / src.name
        if not dest.is_file() or not filecmp.cmp(src, dest, shallow=False):
            shutil.copyfile(src, dest)
            copied += 1
    if copied:
        print(f"assets: {copied} file(s) copied into the packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
