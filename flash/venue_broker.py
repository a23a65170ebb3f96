"""The venue's Mosquitto configuration, rendered by :mod:`congress.broker` (one source for the text).

``congress venue broker-files --ca-dir ca --host controller.local --out DIR`` writes a tree that is
copied over ``/etc/mosquitto``: ``mosquitto.conf`` (replaces Debian's: persistence is set here, and a
second ``persistence_location`` line would stop Mosquitto), and ``congress/`` with the CA, the broker
certificate and key, the CRL and the ACL for this venue. The committed ``systemd/mosquitto/congress.conf``
is the same text (a test keeps them equal).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from congress import broker
from congress.errors import FlashError, PKIError
from congress.files import write_private

ETC = Path("/etc/mosquitto/congress")
PORT = 8883


def venue_conf(*, bind_address: str = "0.0.0.0") -> str:
    """``mosquitto.conf`` for the venue broker with the installed paths."""
    return broker.render_conf(
        port=PORT,
        bind_address=bind_address,
        cafile=ETC / "ca.pem",
        certfile=ETC / "broker.pem",
        keyfile=ETC / "broker.key",
        aclfile=ETC / "congress.acl",
        crlfile=ETC / "crl.pem",
        persistence_dir=Path("/var/lib/mosquitto"),
        autosave_interval_s=30,
        run_as="mosquitto",
        log_dest="stderr",
    )


def write_broker_files(ca_dir: Path, host: str, out: Path, controllers: list[str]) -> dict:
    """Write the broker tree into ``out``; issue the broker certificate for ``host`` if needed."""
    from congress import pki

    try:
        venue = pki.venue_of(ca_dir)
        cert = ca_dir / "broker" / host / "cert.pem"
        key = ca_dir / "broker" / host / "key.pem"
        if not cert.is_file():
            cert, key = pki.issue_broker(ca_dir, host)
    except PKIError as exc:
        raise FlashError(exc.message, hint=exc.hint) from None
    sub = out / "congress"
    sub.mkdir(parents=True, exist_ok=True)
    (out / "mosquitto.conf").write_text(venue_conf())
    (sub / "congress.acl").write_text(broker.render_acl(venue, controllers, pki.sites(ca_dir)))
    for src, name in ((ca_dir / "ca.pem", "ca.pem"), (cert, "broker.pem"), (ca_dir / "crl.pem", "crl.pem")):
        shutil.copyfile(src, sub / name)
    write_private(sub / "broker.key", Path(key).read_bytes())
    return {"venue": venue, "host": host, "out": str(out), "controllers": controllers,
            "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())}
