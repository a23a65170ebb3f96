"""Find the FAT boot partition of a Raspberry Pi OS image by reading its MBR partition table.

Raspberry Pi OS images use a classic MBR (DOS) partition table: partition 1 is the FAT32 boot
partition (``bootfs``), partition 2 the ext4 root. This module reads the 512-byte MBR itself, so the
flash tool needs neither root, loop devices nor ``fdisk``; it then checks that the partition really
starts with a FAT boot sector before anything is written to it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from congress.errors import FlashError

SECTOR = 512
_MBR_SIGNATURE = b"\x55\xaa"


class PartitionType(IntEnum):
    """MBR partition type ids this tool knows about."""

    EMPTY = 0x00
    FAT12 = 0x01
    FAT16_SMALL = 0x04
    EXTENDED = 0x05
    FAT16 = 0x06
    FAT32_CHS = 0x0B
    FAT32_LBA = 0x0C
    FAT16_LBA = 0x0E
    EXTENDED_LBA = 0x0F
    LINUX = 0x83
    GPT_PROTECTIVE = 0xEE


FAT_TYPES = frozenset(
    {
        PartitionType.FAT12,
        PartitionType.FAT16_SMALL,
        PartitionType.FAT16,
        PartitionType.FAT32_CHS,
        PartitionType.FAT32_LBA,
        PartitionType.FAT16_LBA,
    }
)


@dataclass(frozen=True)
class Partition:
    """One primary partition: 1-based ``index``, MBR type id, first sector and length in sectors."""

    index: int
    type_id: int
    start_lba: int
    sectors: int
    bootable: bool

    @property
    def offset(self) -> int:
        """Byte offset of the partition inside the image (what mtools' ``-i IMAGE@@OFFSET`` wants)."""
        return self.start_lba * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR

    @property
    def is_fat(self) -> bool:
        return self.type_id in FAT_TYPES


def read_partitions(image: Path) -> list[Partition]:
    """Return the non-empty primary partitions of ``image``; raise :class:`FlashError` when unreadable."""
    try:
        size = image.stat().st_size
        with image.open("rb") as f:
            mbr = f.read(SECTOR)
    except FileNotFoundError:
        raise FlashError(f"image {image} does not exist") from None
    except OSError as exc:
        raise FlashError(f"cannot read image {image}: {exc.strerror}") from None
    if len(mbr) < SECTOR or mbr[510:512] != _MBR_SIGNATURE:
        raise FlashError(
            f"{image} has no MBR partition table (not a disk image, or corrupt)",
            hint="pass the uncompressed .img file (unxz it first), not the .img.xz or a partition dump",
        )
    parts = []
    for i in range(4):
        entry = mbr[446 + 16 * i : 446 + 16 * (i + 1)]
        status, ptype = entry[0], entry[4]
        start, count = struct.unpack("<II", entry[8:16])
        if ptype == PartitionType.EMPTY or count == 0:
            continue
        if status not in (0x00, 0x80):
            raise FlashError(f"{image}: partition {i + 1} has an invalid status byte; the image is corrupt")
        part = Partition(i + 1, ptype, start, count, status == 0x80)
        if ptype != PartitionType.GPT_PROTECTIVE and part.offset + part.size > size:
            raise FlashError(
                f"{image}: partition {i + 1} ends at byte {part.offset + part.size} but the image has "
                f"only {size} bytes",
                hint="the image is truncated: download or decompress it again",
            )
        parts.append(part)
    return parts


def _looks_like_fat(image: Path, part: Partition) -> bool:
    with image.open("rb") as f:
        f.seek(part.offset)
        boot = f.read(SECTOR)
    if len(boot) < SECTOR or boot[510:512] != _MBR_SIGNATURE:
        return False
    bytes_per_sector = struct.unpack("<H", boot[11:13])[0]
    return bytes_per_sector in (512, 1024, 2048, 4096) and (
        boot[54:59] == b"FAT12" or boot[54:59] == b"FAT16" or boot[82:87] == b"FAT32"
    )


def find_boot_partition(image: Path) -> Partition:
    """The first FAT partition of ``image`` whose first sector is a FAT boot sector."""
    parts = read_partitions(image)
    if any(p.type_id == PartitionType.GPT_PROTECTIVE for p in parts):
        raise FlashError(
            f"{image} uses a GPT partition table; Raspberry Pi OS images use MBR",
            hint="use an official Raspberry Pi OS image, or mount the card and pass --boot-dir",
        )
    fats = [p for p in parts if p.is_fat]
    if not fats:
        kinds = ", ".join(f"{p.index}: type 0x{p.type_id:02x}" for p in parts) or "none"
        raise FlashError(
            f"{image} has no FAT boot partition (partitions: {kinds})",
            hint="this is not a Raspberry Pi OS image",
        )
    for p in fats:
        if _looks_like_fat(image, p):
            return p
    raise FlashError(
        f"{image}: partition {fats[0].index} is marked FAT but holds no FAT file system",
        hint="the image is corrupt or was not fully written: download it again",
    )
