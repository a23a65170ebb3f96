"""Real Raspberry Pi OS-like disk images for the flash tests: our own MBR, a FAT32 partition made by
mkfs.vfat and populated like a Trixie (cloud-init), Bookworm or Bullseye boot partition; mtools readers
that check the result independently of the code under test."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

MIB = 1024 * 1024

UNIT_CONFIG = """
[venue]
id = "congress-2026"
name = "Test Congress"

[unit]
id = "door-1"
signing_key_file = "keys/signing.key"

[broker]
host = "controller.local"
port = 8883
ca_file = "ca.pem"
cert_file = "door-1.pem"
key_file = "door-1.key"

[door]
id = "north-1"

[camera]
type = "picamera2"
width = 1280
height = 720
"""

#: Files on the boot partition of the images we imitate (content does not matter to the flash tool).
COMMON_BOOT = {
    "config.txt": b"[all]\ndtparam=audio=on\ncamera_auto_detect=1\n",
    "cmdline.txt": b"console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
    b"fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n",
    "start4.elf": b"\x7fELF" + b"\0" * 1000,
    "bcm2711-rpi-4-b.dtb": b"\xd0\x0d\xfe\xed" + b"\0" * 500,
    "overlays/README": b"overlays\n",
}
TRIXIE_BOOT = {
    **COMMON_BOOT,
    "bcm2712-rpi-5-b.dtb": b"\xd0\x0d\xfe\xed" + b"\0" * 500,
    "user-data": b"#cloud-config\n# default user-data of the image\n",
    "meta-data": b"instance-id: rpios-image\n",
    "network-config": b"network:\n  version: 2\n",
}
BOOKWORM_BOOT = {**COMMON_BOOT, "bcm2712-rpi-5-b.dtb": b"\xd0\x0d\xfe\xed" + b"\0" * 500}
BULLSEYE_BOOT = dict(COMMON_BOOT)


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install mtools dosfstools)")


def write_mbr(image: Path, parts: list[tuple[int, int, int]]) -> None:
    """Write a DOS partition table: ``parts`` = [(type id, start sector, sector count), ...]."""
    mbr = bytearray(512)
    struct.pack_into("<I", mbr, 440, 0x4E639091)
    for i, (ptype, start, count) in enumerate(parts):
        entry = struct.pack("<B3sB3sII", 0x80 if i == 0 else 0, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff",
                            start, count)
        mbr[446 + 16 * i : 446 + 16 * (i + 1)] = entry
    mbr[510:512] = b"\x55\xaa"
    with image.open("r+b") as f:
        f.write(mbr)


def build_image(path: Path, boot_files: dict[str, bytes], *, fat_mib: int = 64, root_mib: int = 8) -> Path:
    """A sparse disk image: MBR, FAT32 ``bootfs`` at 1 MiB populated with ``boot_files``, a Linux root."""
    need_tools("mkfs.vfat", "mcopy", "mmd")
    start, fat_sectors = 2048, fat_mib * MIB // 512
    root_start = start + fat_sectors
    with path.open("wb") as f:
        f.truncate((root_start + root_mib * MIB // 512) * 512)
    subprocess.run(["mkfs.vfat", "-F", "32", "-n", "BOOTFS", "--offset", str(start), str(path),
                    str(fat_mib * 1024)], check=True, capture_output=True)
    write_mbr(path, [(0x0C, start, fat_sectors), (0x83, root_start, root_mib * MIB // 512)])
    spec = f"{path}@@{start * 512}"
    env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    made = set()
    for name, data in sorted(boot_files.items()):
        parts = name.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in made:
                subprocess.run(["mmd", "-i", spec, f"::/{d}"], check=True, env=env, capture_output=True)
                made.add(d)
        src = path.parent / "src.tmp"
        src.write_bytes(data)
        subprocess.run(["mcopy", "-i", spec, str(src), f"::/{name}"], check=True, env=env,
                       capture_output=True)
        src.unlink()
    return path


def mread(image: Path, name: str, offset: int = 2048 * 512) -> bytes:
    """Read a file from the image with mtools, independently of the code under test."""
    proc = subprocess.run(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::/{name}", "-"],
                          capture_output=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def mlist(image: Path, offset: int = 2048 * 512) -> set[str]:
    proc = subprocess.run(["mdir", "-b", "-/", "-i", f"{image}@@{offset}", "::/"], capture_output=True,
                          check=True, env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    return {line[3:] for line in proc.stdout.decode().splitlines() if line.startswith("::/")}


