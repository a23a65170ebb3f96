"""Provision one door unit's SD card: write everything, read it all back, compare byte for byte.

:func:`open_target` opens an image file (MBR read by :mod:`flash.mbr`, FAT reached through mtools) or a
mounted boot folder; :func:`provision` writes the ``congress/`` payload and the first-boot files in the
format the image expects, then verifies each file's SHA-256 after reading it back from the card.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from congress.errors import FlashError
from flash import firstboot_formats as fb
from flash import payload
from flash.bootfs import DirPartition, ImagePartition
from flash.mbr import find_boot_partition
from flash.settings import HostSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where the files go, and a description of the partition for the summary."""

    fs: ImagePartition | DirPartition
    info: dict


def open_target(image: Path | None, boot_dir: Path | None) -> Target:
    if (image is None) == (boot_dir is None):
        raise FlashError("give exactly one of --image FILE.img or --boot-dir DIR")
    if image is not None:
        part = find_boot_partition(image)
        info = {"image": str(image), "partition": part.index, "offset": part.offset,
                "size": part.size, "type": f"0x{part.type_id:02x}"}
        return Target(ImagePartition(image, part.offset), info)
    return Target(DirPartition(boot_dir), {"boot_dir": str(boot_dir)})


@dataclass(frozen=True)
class Request:
    """What to write for one unit."""

    unit_id: str
    config_file: Path
    ca_dir: Path
    host: HostSettings
    issue: bool = False
    wheelhouse: Path | None = None
    #: A satellite site's gateway instead of a door unit (``unit_id`` is then the site id):
    #: ``central`` is the central broker as the site reaches it (:mod:`flash.gateway_card`).
    site: bool = False
    central: str = ""


def _first_boot_files(fs, fmt: fb.BootFormat, mount: str, req: Request, manifest: bytes) -> dict[str, bytes]:
    if fmt is fb.BootFormat.CLOUD_INIT:
        instance = f"congress-{req.unit_id}-{hashlib.sha256(manifest).hexdigest()[:12]}"
        return fb.cloud_init(req.host, mount, instance)
    country = req.host.wifi.country if req.host.wifi else None
    return {
        "firstrun.sh": fb.firstrun(req.host, mount),
        "cmdline.txt": fb.cmdline_with_firstrun(fs.read("cmdline.txt"), mount, country),
    }


def verify(fs, files: dict[str, bytes]) -> list[dict]:
    """Read every file back from the card; raise :class:`FlashError` on the first difference."""
    listing = {n.lower() for n in fs.listing()}
    report = []
    for path, data in sorted(files.items()):
        if path.lower() not in listing:
            raise FlashError(f"read-back: {path} is not on the card after writing it")
        back = fs.read(path)
        want, got = hashlib.sha256(data).hexdigest(), hashlib.sha256(back).hexdigest()
        if want != got:
            raise FlashError(
                f"read-back: {path} differs on the card (sha256 {got[:16]}…, expected {want[:16]}…)",
                hint="the card or image is failing; use another card",
            )
        report.append({"path": path, "bytes": len(data), "sha256": want, "verified": True})
    return report


def provision(target: Target, req: Request) -> dict:
    """Write and verify; return the summary printed by ``congress flash``."""
    fs = target.fs
    listing = fs.listing()
    fmt = fb.detect(listing)
    mount = fb.boot_mount(listing, fmt)
    if req.site:
        from flash import gateway_card

        config, notes = gateway_card.config_for(req)
        site = gateway_card.site_files(req.ca_dir, req.unit_id, req.host.hostname, req.central)
        files = gateway_card.build_gateway_payload(site, config, wheelhouse=req.wheelhouse)
    else:
        config, notes = payload.unit_config(req.config_file, req.unit_id)
        unit = payload.read_unit_files(req.ca_dir, req.unit_id, issue=req.issue)
        files = payload.build_payload(unit, config, wheelhouse=req.wheelhouse)
    files.update(_first_boot_files(fs, fmt, mount, req, files[f"{payload.FOLDER}/manifest.sha256"]))
    log.info("writing %d files to %s (%s first boot)", len(files), fs.description, fmt.value)
    fs.write_many(files)
    report = verify(fs, files)
    return {
        "ok": True,
        "unit_id" if not req.site else "site": req.unit_id,
        "format": fmt.value,
        "boot_mount": mount,
        **target.info,
        "files": report,
        "written": len(report),
        "verified": all(f["verified"] for f in report),
        "bytes": sum(f["bytes"] for f in report),
        "private_keys_on_card": sorted(p for p in files if "/keys/" in p),
        "config_changes": notes,
        "wifi": req.host.wifi.ssid if req.host.wifi else None,
        "ssh_keys": len(req.host.ssh_keys),
        "wheels": sum(1 for p in files if p.startswith(f"{payload.FOLDER}/wheels/") and p.endswith(".whl")),
    }
