"""An emulated Raspberry Pi 4 to run the door unit in: the cached arm64 root under qemu-user.

:func:`base_root` builds (once) and returns the cached Debian trixie arm64 root (scripts/pi-root.sh).
:class:`PiRoot` mounts a throw-away overlay on it (so every run starts from the same clean image), a fresh
``/proc`` with a Raspberry Pi 4's ``/proc/cpuinfo`` over it and its four-core CPU list in
``/sys/devices/system/cpu``, a minimal ``/dev``, tmpfs ``/run`` and ``/tmp``, and read-only binds of host
folders; :meth:`PiRoot.run` and :meth:`PiRoot.popen` run a command inside as a given user in a given
directory with ``QEMU_CPU=cortex-a72``, the CPU of a Pi 4 (qemu's default CPU would offer SVE and dot product
instructions a Pi has not), optionally with no network at all.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CPUINFO = Path(__file__).with_name("cpuinfo-pi4.txt")
QEMU_CPU = "cortex-a72"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9),
            "tty": (5, 0)}


def base_root() -> Path:
    """The cached arm64 root (built by scripts/pi-root.sh the first time: about ten minutes)."""
    proc = subprocess.run([str(REPO / "scripts/pi-root.sh"), "build"], capture_output=True, text=True,
                          timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/pi-root.sh build failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=60)


class PiRoot:
    """A clean overlay of ``base`` at ``work/merged``; use as a context manager."""

    def __init__(self, base: Path, work: Path, binds: dict[str, Path] | None = None) -> None:
        self.base, self.work = base, work
        self.path = work / "merged"
        self.binds = binds or {}
        self._mounts: list[Path] = []

    def __enter__(self) -> PiRoot:
        for d in ("upper", "ovl-work", "merged"):
            (self.work / d).mkdir(parents=True, exist_ok=True)
        try:
            self._add(self.path, "-t", "overlay", "overlay", "-o",
                      f"lowerdir={self.base},upperdir={self.work / 'upper'},workdir={self.work / 'ovl-work'}")
        except subprocess.CalledProcessError:  # no overlayfs here: a full copy (slower, same result)
            shutil.rmtree(self.path)
            subprocess.run(["cp", "-a", f"{self.base}/.", str(self.path)], check=True, timeout=1800)
        self._add(self.path / "proc", "-t", "proc", "proc")
        self._add(self.path / "proc/cpuinfo", "--bind", str(CPUINFO))
        self._add(self.path / "dev", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs")
        for name, (major, minor) in _DEVICES.items():
            node = self.path / "dev" / name
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(major, minor))
            node.chmod(0o666)
        (self.path / "dev/shm").mkdir()
        self._add(self.path / "dev/shm", "-t", "tmpfs", "-o", "mode=1777", "tmpfs")
        # The CPU list of a Pi 4 (four cores) where cpuinfo (LiteRT's XNNPACK) reads it.
        self._add(self.path / "sys", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs")
        cpus = self.path / "sys/devices/system/cpu"
        cpus.mkdir(parents=True)
        for name in ("possible", "present", "online"):
            (cpus / name).write_text("0-3\n")
        for n in range(4):
            (cpus / f"cpu{n}").mkdir()
        self._add(self.path / "run", "-t", "tmpfs", "-o", "mode=0755", "tmpfs")
        self._add(self.path / "tmp", "-t", "tmpfs", "-o", "mode=1777", "tmpfs")
        for inside, host in self.binds.items():
            target = self.path / inside.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            self._add(target, "--bind", str(host))
            _mount("-o", "remount,bind,ro", str(target))
        return self

    def _add(self, target: Path, *args: str) -> None:
        _mount(*args, str(target))
        self._mounts.append(target)

    def __exit__(self, *exc: object) -> None:
        for target in reversed(self._mounts):
            if subprocess.run(["umount", str(target)], capture_output=True, timeout=60).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=60)
        self._mounts.clear()

    def inside(self, path: str | Path) -> Path:
        """The host path of ``path`` inside the root."""
        return self.path / str(path).lstrip("/")

    def ids(self, user: str) -> tuple[int, int]:
        for line in self.inside("/etc/passwd").read_text().splitlines():
            f = line.split(":")
            if f[0] == user:
                return int(f[2]), int(f[3])
        raise KeyError(user)

    def gid(self, group: str) -> int:
        for line in self.inside("/etc/group").read_text().splitlines():
            f = line.split(":")
            if f[0] == group:
                return int(f[2])
        raise KeyError(group)

    def command(self, argv: list[str], *, user: str | None = None, groups: list[str] = (), cwd: str = "/",
                env: dict[str, str] | None = None, network: bool = True) -> list[str]:
        """The host command line that runs ``argv`` inside, as ``user`` in ``cwd``, with ``env`` only."""
        environment = {"PATH": PATH, "LANG": "C.UTF-8", "QEMU_CPU": QEMU_CPU, **(env or {})}
        prefix: list[str] = []
        if user is not None:
            uid, gid = self.ids(user)
            extra = ",".join(str(self.gid(g)) for g in groups) or "-"
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}",
                      f"--groups={extra}" if extra != "-" else "--clear-groups", "--"]
            environment.setdefault("HOME", cwd)
            environment.setdefault("USER", user)
        cmd = ["chroot", str(self.path), "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in environment.items()],
               "/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd, *prefix, *argv]
        return cmd if network else ["unshare", "--net", *cmd]

    def run(self, argv: list[str], *, timeout: float = 1800, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv, **kw), capture_output=True, text=True, timeout=timeout)

    def popen(self, argv: list[str], *, log: Path, **kw) -> subprocess.Popen:
        out = log.open("wb")
        try:
            return subprocess.Popen(self.command(argv, **kw), stdout=out, stderr=subprocess.STDOUT)
        finally:
            out.close()
