"""A satellite site's Mosquitto configuration with its bridge to the central broker.

``congress venue site-files SITE --ca-dir ca --host GATEWAY --central HOST[:PORT] --out DIR`` writes a
tree that is copied over ``/etc/mosquitto`` on the site gateway, as ``venue broker-files`` does for the
central broker: ``mosquitto.conf`` (the site's TLS listener for its door units, persistence saved on
every change, and the bridge, rendered by :mod:`congress.bridge`) and ``congress/`` with the CA, the
CRL, the site ACL, the site broker's server certificate for ``GATEWAY`` and the site's own certificate
the bridge presents to the central broker. The central broker must know the site too: run
``congress venue broker-files`` again after ``congress ca issue-site`` (its ACL lists every site).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from congress import bridge, broker
from congress.errors import FlashError, PKIError
from congress.files import write_private
from flash.venue_broker import ETC, PORT


def parse_central(central: str) -> tuple[str, int]:
    """``HOST`` or ``HOST:PORT`` (default port 8883)."""
    host, _, port = central.rpartition(":") if ":" in central else (central, "", "")
    try:
        return host, int(port) if port else PORT
    except ValueError:
        raise FlashError(f"--central {central!r} is not HOST or HOST:PORT") from None


def site_conf(venue: str, site: str, central: str) -> str:
    """``mosquitto.conf`` of the site broker with the installed paths."""
    host, port = parse_central(central)
    target = bridge.BridgeTarget(venue=venue, site=site, host=host, port=port, cafile=ETC / "ca.pem",
                                 certfile=ETC / "site.pem", keyfile=ETC / "site.key")
    return broker.render_conf(
        port=PORT, bind_address="0.0.0.0", cafile=ETC / "ca.pem", certfile=ETC / "broker.pem",
        keyfile=ETC / "broker.key", aclfile=ETC / "congress.acl", crlfile=ETC / "crl.pem",
        persistence_dir=Path("/var/lib/mosquitto"), autosave_interval_s=1, autosave_on_changes=True,
        run_as="mosquitto", log_dest="stderr",
    ) + bridge.render_bridge(target)


def write_site_files(ca_dir: Path, site: str, host: str, central: str, out: Path) -> dict:
    """Write the site broker tree into ``out``; issue the site broker's certificate for ``host``."""
    from congress import pki

    try:
        venue = pki.venue_of(ca_dir)
        creds = pki.site_credentials(ca_dir, site)
        if site not in pki.sites(ca_dir):
            raise PKIError(f"site {site!r} has been revoked", hint=f"re-issue: congress ca issue-site {site} "
                           "--reissue")
        cert, key = ca_dir / "broker" / host / "cert.pem", ca_dir / "broker" / host / "key.pem"
        if not cert.is_file():
            cert, key = pki.issue_broker(ca_dir, host)
    except PKIError as exc:
        raise FlashError(exc.message, hint=exc.hint) from None
    sub = out / "congress"
    sub.mkdir(parents=True, exist_ok=True)
    (out / "mosquitto.conf").write_text(site_conf(venue, site, central))
    (sub / "congress.acl").write_text(bridge.render_site_acl(venue, site))
    for src, name in ((ca_dir / "ca.pem", "ca.pem"), (cert, "broker.pem"), (ca_dir / "crl.pem", "crl.pem"),
                      (creds.cert, "site.pem")):
        shutil.copyfile(src, sub / name)
    write_private(sub / "broker.key", Path(key).read_bytes())
    write_private(sub / "site.key", creds.key.read_bytes())
    central_host, central_port = parse_central(central)
    return {"venue": venue, "site": site, "host": host, "central": f"{central_host}:{central_port}",
            "out": str(out), "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())}
