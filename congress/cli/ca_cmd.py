"""``congress ca``: the venue CA (init, issue-broker, issue-unit, issue-site, issue-client, revoke, list).

Every action takes ``--dir`` (default ``$CONGRESS_CA_DIR`` or ``./ca``) and ``--json``. The work is
done by :mod:`congress.pki`; this module only parses arguments and prints results.
"""

from __future__ import annotations

import argparse
import os

from congress.cli import emit


def _dir(args: argparse.Namespace) -> str:
    return args.dir or os.environ.get("CONGRESS_CA_DIR") or "ca"


def _init(args: argparse.Namespace) -> int:
    from congress import pki

    ca = pki.init_ca(_dir(args), args.venue)
    emit(
        {"ok": True, "venue": args.venue, "ca_cert": str(ca), "crl": str(ca.parent / "crl.pem"),
         "controller_signing_pub": str(ca.parent / "controller-signing.pub")},
        as_json=args.json,
        human=f"venue CA for {args.venue!r} created in {ca.parent} (keep ca.key offline and private)",
    )
    return 0


def _broker(args: argparse.Namespace) -> int:
    from congress import pki

    cert, key = pki.issue_broker(_dir(args), args.host)
    emit({"ok": True, "host": args.host, "cert": str(cert), "key": str(key)}, as_json=args.json,
         human=f"broker certificate for {args.host}: {cert} (key {key})")
    return 0


def _unit(args: argparse.Namespace) -> int:
    from congress import pki

    c = pki.issue_unit(_dir(args), args.unit_id, reissue=args.reissue, site=args.site)
    paths = {k: str(getattr(c, k)) for k in ("cert", "key", "signing_key", "signing_pub", "ca_cert",
                                               "controller_pub", "gallery_key", "gallery_pub")}
    emit({"ok": True, "unit_id": args.unit_id, "site": args.site, **paths}, as_json=args.json,
         human=f"unit {args.unit_id}: certificate {c.cert}, signing key {c.signing_key}; copy "
         f"cert.pem, key.pem, signing.key, gallery.key, ca.pem and controller-signing.pub to the unit "
         "(congress flash does it)")
    return 0


def _site(args: argparse.Namespace) -> int:
    from congress import pki

    c = pki.issue_site(_dir(args), args.site, reissue=args.reissue)
    paths = {k: str(getattr(c, k)) for k in ("cert", "key", "signing_key", "signing_pub", "ca_cert",
                                               "controller_pub")}
    emit({"ok": True, "site": args.site, **paths}, as_json=args.json,
         human=f"site {args.site}: certificate {c.cert} (its bridge and gateway), signing key "
         f"{c.signing_key}; next: `congress venue site-files {args.site} --host GATEWAY --central HOST "
         f"--out DIR`, then `congress venue broker-files` again so the central broker knows the site")
    return 0


def _client(args: argparse.Namespace) -> int:
    from congress import pki

    cert, key = pki.issue_client(_dir(args), args.name, reissue=args.reissue)
    emit({"ok": True, "name": args.name, "cert": str(cert), "key": str(key)}, as_json=args.json,
         human=f"client {args.name}: certificate {cert} (key {key})")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from congress import pki

    kind = "client" if args.client else "site" if args.site else "unit"
    serials = pki.revoke(_dir(args), args.unit_id, kind=kind)
    crl = os.path.join(_dir(args), "crl.pem")
    emit({"ok": True, "kind": kind, "name": args.unit_id, "serials": serials, "crl": crl},
         as_json=args.json,
         human=f"revoked {kind} {args.unit_id} ({', '.join(serials)}); {crl} updated: restart or "
         "reload the broker so it refuses the certificate (venue broker: copy crl.pem to "
         "/etc/mosquitto/congress/ and systemctl reload mosquitto)")
    return 0


def _list(args: argparse.Namespace) -> int:
    from congress import pki

    index = pki.read_index(_dir(args))
    lines = [f"venue {index['venue']}"] + [
        f"{c['kind']:7} {c['name']:24} {c['serial'][:16]} until {c['not_after'][:10]}"
        + (f"  REVOKED {c['revoked'][:19]}" if c["revoked"] else "")
        for c in index["certs"]
    ]
    emit({"ok": True, "venue": index["venue"], "certs": index["certs"]}, as_json=args.json,
         human="\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ca", help="venue certificate authority: issue and revoke device certificates")
    s = p.add_subparsers(dest="ca_command", metavar="ACTION", required=True)

    def action(name: str, help_: str, handler) -> argparse.ArgumentParser:
        a = s.add_parser(name, help=help_, description=help_)
        a.add_argument("--dir", help="CA directory (default: $CONGRESS_CA_DIR or ./ca)")
        a.add_argument("--json", action="store_true", help="print one JSON object")
        a.set_defaults(handler=handler)
        return a

    action("init", "create the venue CA, an empty CRL and the controller signing key", _init).add_argument(
        "--venue", required=True, help="venue id, e.g. congress-2026 (first level of every MQTT topic)"
    )
    action("issue-broker", "issue the broker's TLS server certificate", _broker).add_argument(
        "host", help="host name or IP address the devices use to reach the broker"
    )
    u = action("issue-unit", "issue a door unit's client certificate and Ed25519 signing key", _unit)
    u.add_argument("unit_id", help="unit id, e.g. door-1 (becomes the certificate CN and MQTT user)")
    u.add_argument("--reissue", action="store_true", help="revoke the unit's current certificate first")
    u.add_argument("--site", metavar="SITE",
                   help="the satellite site the unit stands at (its messages travel the site's bridge)")
    t = action("issue-site", "issue a satellite site's certificate (its bridge and gateway) and signing key",
               _site)
    t.add_argument("site", help="site id, e.g. hanoi-1 (certificate CN; central topics .../site/SITE/...)")
    t.add_argument("--reissue", action="store_true", help="revoke the site's current certificate first")
    c = action("issue-client", "issue a client certificate (the controller, tools)", _client)
    c.add_argument("name", help="client name, e.g. controller (certificate CN and MQTT user)")
    c.add_argument("--reissue", action="store_true", help="revoke the client's current certificate first")
    r = action("revoke", "revoke a unit's (or client's) certificate and rewrite crl.pem", _revoke)
    r.add_argument("unit_id", help="unit id (or client name with --client)")
    which = r.add_mutually_exclusive_group()
    which.add_argument("--client", action="store_true", help="revoke a client certificate instead of a unit")
    which.add_argument("--site", action="store_true", help="revoke a site certificate instead of a unit")
    action("list", "list every certificate this CA issued", _list)
