"""Read and write files on a boot partition: inside an image file (mtools) or a mounted card (a folder).

Both classes offer the same four operations (``exists``, ``read``, ``write``, ``listing``) on paths
relative to the partition root written with ``/``. :class:`ImagePartition` drives the mtools programs
(``mdir``, ``mcopy``, ``mmd``) with ``-i IMAGE@@OFFSET``, so nothing is mounted and no root is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from congress.errors import FlashError

_MTOOLS = ("mdir", "mcopy", "mmd")


def _rel(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise FlashError(f"invalid path on the boot partition: {path!r}")
    return p


class ImagePartition:
    """The FAT partition at byte ``offset`` of ``image``, reached through mtools."""

    def __init__(self, image: Path, offset: int) -> None:
        missing = [t for t in _MTOOLS if shutil.which(t) is None]
        if missing:
            raise FlashError(
                f"mtools is not installed (missing {', '.join(missing)})",
                hint="sudo apt-get install mtools dosfstools (or run scripts/setup-system.sh as root)",
            )
        self.image = image
        self.offset = offset
        self._spec = f"{image}@@{offset}"
        # No user/site mtools.conf may change how the image is read; skip the geometry sanity check
        # that refuses some valid Raspberry Pi OS images.
        self._env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLSRC": os.devnull}

    @property
    def description(self) -> str:
        return f"{self.image} (FAT partition at byte {self.offset})"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(args, env=self._env, capture_output=True, timeout=120)
        if check and proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip() or f"exit code {proc.returncode}"
            if "Disk full" in msg or "No free" in msg:
                raise FlashError(f"the boot partition of {self.image} is full ({msg})")
            raise FlashError(f"{args[0]} failed on {self.description}: {msg}")
        return proc

    def listing(self) -> set[str]:
        """Every file and folder on the partition, as relative paths (folders end with ``/``)."""
        proc = self._run("mdir", "-b", "-/", "-i", self._spec, "::/")
        names = set()
        for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
            if line.startswith("::/"):
                names.add(line[3:])
        return names

    def exists(self, path: str) -> bool:
        rel = str(_rel(path))
        names = {n.rstrip("/").lower() for n in self.listing()}
        return rel.lower() in names

    def read(self, path: str) -> bytes:
        rel = _rel(path)
        proc = self._run("mcopy", "-n", "-i", self._spec, f"::/{rel}", "-", check=False)
        if proc.returncode != 0:
            raise FlashError(
                f"cannot read {rel} from {self.description}: "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return proc.stdout

    def _mkdirs(self, rel: PurePosixPath, existing: set[str]) -> None:
        for i in range(1, len(rel.parts)):
            folder = "/".join(rel.parts[:i])
            if folder.lower() not in existing:
                self._run("mmd", "-i", self._spec, f"::/{folder}")
                existing.add(folder.lower())

    def write_many(self, files: dict[str, bytes]) -> None:
        """Write several files, creating folders as needed and replacing existing files."""
        existing = {n.rstrip("/").lower() for n in self.listing()}
        with tempfile.TemporaryDirectory(prefix="congress-flash-") as tmp:
            for i, (path, data) in enumerate(sorted(files.items())):
                rel = _rel(path)
                self._mkdirs(rel, existing)
                src = Path(tmp) / f"f{i}"
                src.write_bytes(data)
                self._run("mcopy", "-o", "-n", "-i", self._spec, str(src), f"::/{rel}")
                src.unlink()

    def write(self, path: str, data: bytes) -> None:
        self.write_many({path: data})


class DirPartition:
    """A boot partition the operating system has mounted (``--boot-dir``)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise FlashError(
                f"{root} is not a folder", hint="pass the mount point of the card's boot partition"
            )
        self.root = root

    @property
    def description(self) -> str:
        return str(self.root)

    def listing(self) -> set[str]:
        out = set()
        for p in self.root.rglob("*"):
            rel = p.relative_to(self.root).as_posix()
            out.add(rel + "/" if p.is_dir() else rel)
        return out

    def exists(self, path: str) -> bool:
        return (self.root / _rel(path)).exists()

    def read(self, path: str) -> bytes:
        try:
            return (self.root / _rel(path)).read_bytes()
        except OSError as exc:
            raise FlashError(f"cannot read {path} from {self.root}: {exc.strerror}") from None

    def write_many(self, files: dict[str, bytes]) -> None:
        for path, data in sorted(files.items()):
            target = self.root / _rel(path)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                raise FlashError(f"cannot write {path} to {self.root}: {exc.strerror}") from None

    def write(self, path: str, data: bytes) -> None:
        self.write_many({path: data})
