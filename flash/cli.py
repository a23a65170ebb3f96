"""``congress flash``: provision a door unit's (or a satellite site gateway's) SD card (image file or
mounted boot partition).

Parses arguments, validates the host settings and hands over to :mod:`flash.provision`, which writes
the unit's certificate, keys, configuration and first-boot files without root or loop mounts and
verifies every byte by reading it back.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from congress.cli import emit
from congress.errors import FlashError


def _flash(args: argparse.Namespace) -> int:
    from flash.provision import Request, open_target, provision
    from flash.settings import HostSettings, check_admin_user, read_ssh_keys, wifi_from_files

    wifi = None
    if args.wifi_ssid or args.wifi_psk_file:
        if not (args.wifi_ssid and args.wifi_psk_file):
            raise FlashError("--wifi-ssid and --wifi-psk-file go together")
        wifi = wifi_from_files(args.wifi_ssid, Path(args.wifi_psk_file), args.wifi_country)
    if args.site and not args.central:
        raise FlashError("--site needs --central HOST[:PORT]: the central broker as the site reaches it")
    if args.central and not args.site:
        raise FlashError("--central goes with --site (a site gateway's bridge)")
    host = HostSettings(
        hostname=args.hostname or args.unit or args.site,
        admin_user=check_admin_user(args.admin_user),
        ssh_keys=read_ssh_keys(Path(args.ssh_key)) if args.ssh_key else (),
        wifi=wifi,
    )
    target = open_target(Path(args.image) if args.image else None,
                         Path(args.boot_dir) if args.boot_dir else None)
    req = Request(
        unit_id=args.unit or args.site,
        config_file=Path(args.config),
        ca_dir=Path(args.ca_dir or os.environ.get("CONGRESS_CA_DIR") or "ca"),
        host=host,
        issue=args.issue,
        wheelhouse=Path(args.wheelhouse) if args.wheelhouse else None,
        site=bool(args.site),
        central=args.central or "",
    )
    summary = provision(target, req)
    if not args.site:
        summary["gallery_key"] = "issued"  # units/<unit>/gallery.key from the venue CA
    where = summary.get("image") or summary.get("boot_dir")
    what = f"site {args.site} gateway" if args.site else f"unit {args.unit}"
    emit(summary, as_json=args.json, human=(
        f"{what}: {summary['written']} files written to {where} and verified "
        f"({summary['format']} first boot). The card holds private keys until the unit's first boot: "
        f"keep it safe."
    ))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("flash", help="provision a door unit's or site gateway's SD card (image or mounted "
                       "boot partition)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--image", metavar="FILE.img", help="Raspberry Pi OS image file (uncompressed)")
    where.add_argument("--boot-dir", metavar="DIR", help="mount point of the card's boot partition")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit", metavar="UNIT_ID", help="door unit id (CN of its certificate)")
    which.add_argument("--site", metavar="SITE", help="a satellite site's gateway (site broker, bridge, "
                       "keypad relay): the site id of `congress ca issue-site`")
    p.add_argument("--central", metavar="HOST[:PORT]", help="with --site: the central broker as the site "
                   "reaches it")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the unit's (or with --site the gateway's) configuration (TOML)")
    p.add_argument("--ca-dir", metavar="DIR", help="venue CA folder (default $CONGRESS_CA_DIR or ./ca)")
    p.add_argument("--issue", action="store_true", help="issue the unit's certificate and keys now")
    p.add_argument("--wifi-ssid", metavar="SSID", help="Wi-Fi network the unit joins")
    p.add_argument("--wifi-psk-file", metavar="FILE", help="file holding the Wi-Fi passphrase")
    p.add_argument("--wifi-country", metavar="CC", help="Wi-Fi regulatory country, e.g. GB")
    p.add_argument("--ssh-key", metavar="FILE", help="SSH public key(s) for the technician account")
    p.add_argument("--admin-user", default="technician", help="technician account name (default %(default)s)")
    p.add_argument("--hostname", help="host name (default: the unit id)")
    p.add_argument("--wheelhouse", metavar="DIR",
                   help="the unit's software for first boot to install offline (congress venue wheelhouse)")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.set_defaults(handler=_flash)
