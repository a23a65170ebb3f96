"""``congress venue``: files to install at the venue.

* ``broker-files``: the venue Mosquitto configuration, ACL and certificates; the text comes from
  :mod:`congress.broker` (the same renderer the tests and the demo use), through :mod:`flash.venue_broker`;
* ``site-files``: a satellite site's Mosquitto configuration with its TLS bridge to the central broker,
  its ACL and certificates (:mod:`congress.bridge`, through :mod:`flash.site_broker`);
* ``wheelhouse``: the door unit's software for one Raspberry Pi OS release (:mod:`flash.wheelhouse`),
  which ``congress flash --wheelhouse`` puts on the card so first boot installs offline.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from congress.cli import emit


def _broker_files(args: argparse.Namespace) -> int:
    from flash.venue_broker import write_broker_files

    ca_dir = Path(args.ca_dir or os.environ.get("CONGRESS_CA_DIR") or "ca")
    result = write_broker_files(ca_dir, args.host, Path(args.out), args.controller or ["controller"])
    emit({"ok": True, **result}, as_json=args.json, human=(
        f"broker files for venue {result['venue']} in {args.out}: install with\n"
        f"  sudo cp -r {args.out}/. /etc/mosquitto/ && sudo chown -R root:mosquitto /etc/mosquitto/congress"
        f" && sudo chmod 0640 /etc/mosquitto/congress/broker.key && sudo systemctl restart mosquitto"))
    return 0


def _wheelhouse(args: argparse.Namespace) -> int:
    from flash import wheelhouse

    r = wheelhouse.build(Path(args.out), release=args.release, wheel=Path(args.wheel) if args.wheel else None)
    emit({"ok": True, **r}, as_json=args.json, human=(
        f"{len(r['wheels'])} wheels ({r['bytes'] / 1e6:.1f} MB) for Raspberry Pi OS {r['release']} "
        f"(Python {r['python']}, {r['multiarch']}) in {r['wheelhouse']}; from Debian: "
        f"{', '.join(r['from_debian'])}. Put them on a card with congress flash --wheelhouse {args.out}"))
    return 0


def _site_files(args: argparse.Namespace) -> int:
    from flash.site_broker import write_site_files

    ca_dir = Path(args.ca_dir or os.environ.get("CONGRESS_CA_DIR") or "ca")
    result = write_site_files(ca_dir, args.site, args.host, args.central, Path(args.out))
    emit({"ok": True, **result}, as_json=args.json, human=(
        f"site broker files for site {args.site} (bridge to {result['central']}) in {args.out}: install on "
        f"the site gateway with\n  sudo cp -r {args.out}/. /etc/mosquitto/ && sudo chown -R root:mosquitto "
        "/etc/mosquitto/congress && sudo chmod 0640 /etc/mosquitto/congress/*.key && sudo systemctl restart "
        "mosquitto\nand run `congress venue broker-files` again for the central broker (its ACL lists "
        "the sites)"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("venue", help="install files for the venue (broker configuration)")
    s = p.add_subparsers(dest="venue_command", metavar="ACTION", required=True)
    b = s.add_parser("broker-files", help="write mosquitto.conf, the ACL and the broker certificate")
    b.add_argument("--ca-dir", metavar="DIR", help="venue CA folder (default $CONGRESS_CA_DIR or ./ca)")
    b.add_argument("--host", required=True, help="host name the door units use to reach the broker")
    b.add_argument("--out", required=True, metavar="DIR", help="folder to write (copied to /etc/mosquitto)")
    b.add_argument("--controller", action="append", metavar="NAME",
                   help="controller client identity allowed to read all units (default: controller)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(handler=_broker_files)
    w = s.add_parser("wheelhouse", help="download the door unit's software for first boot to install offline")
    w.add_argument("--out", required=True, metavar="DIR", help="folder for the wheels (reused: quick again)")
    w.add_argument("--release", default="trixie", help="Raspberry Pi OS release (64-bit; default trixie)")
    w.add_argument("--wheel", metavar="FILE.whl", help="the project wheel (default: built from the checkout)")
    w.add_argument("--json", action="store_true", help="print one JSON object")
    w.set_defaults(handler=_wheelhouse)
    t = s.add_parser("site-files", help="write a satellite site's mosquitto.conf with its bridge, ACL and "
                     "certificates")
    t.add_argument("site", help="site id (issued with `congress ca issue-site SITE`)")
    t.add_argument("--ca-dir", metavar="DIR", help="venue CA folder (default $CONGRESS_CA_DIR or ./ca)")
    t.add_argument("--host", required=True, help="host name the site's door units reach the site broker at")
    t.add_argument("--central", required=True, metavar="HOST[:PORT]",
                   help="the central broker as the site reaches it (port 8883 by default)")
    t.add_argument("--out", required=True, metavar="DIR", help="folder to write (copied to /etc/mosquitto)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(handler=_site_files)
