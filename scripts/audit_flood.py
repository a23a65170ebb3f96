"""Flood the check-in ingest from one unit certificate and print what it added to the audit and the log.

    python scripts/audit_flood.py SECONDS SIZE     # e.g. 60 130000 (docs/security.md, item 1)

A private CA, a real Mosquitto, the real ingest on SQLite; the unit publishes SIZE-byte JSON messages
with its own text in ``v`` and ``type`` (QoS 1, one at a time) for SECONDS. Prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from congress import logs, mqtt, pki, wire
from congress.broker import Mosquitto
from controller import audit
from controller.checkins.ingest import Ingest
from controller.checkins.unit_registry import UnitRegistry
from controller.link import BrokerTarget, ControllerLink
from controller.storage import migrate
from controller.storage.database import Database
from controller.storage.tables import AuditEntry


def main(seconds: float, size: int) -> dict:
    tmp = Path(tempfile.mkdtemp())
    ca = tmp / "ca"
    pki.init_ca(ca, "v1")
    pki.issue_broker(ca, "localhost")
    cert, key = pki.issue_client(ca, "controller")
    unit = pki.issue_unit(ca, "door-1")
    logfile = tmp / "controller.log"
    handler = logging.FileHandler(logfile)
    handler.setFormatter(logs.BoundedFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    db = Database(f"sqlite:///{tmp}/c.db", info={audit.INFO_KEY: b"k" * 32})
    migrate.upgrade(db)
    with Mosquitto.from_ca(ca, work_dir=tmp / "broker") as b:
        target = BrokerTarget("localhost", b.port, str(ca / "ca.pem"), str(cert), str(key))
        link = ControllerLink(venue_id="v1", broker=target,
                              signing_key=pki.load_signing_key(ca / "controller-signing.key"))
        ing = Ingest(db, UnitRegistry(ca), link=link)
        ing.start()
        link.start()
        c = mqtt.make_client(client_id="door-1", ca_file=unit.ca_cert, cert_file=unit.cert, key_file=unit.key)
        mqtt.connect(c, "localhost", b.port)
        log_before = logfile.stat().st_size
        topic = wire.unit_topic("v1", "door-1", "checkin")
        text = ("attacker text " * (size // 28 + 1))[: size // 2 - 20]
        sent = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            c.publish(topic, json.dumps({"v": text, "type": text}).encode(), qos=1).wait_for_publish(30)
            sent += 1
        time.sleep(3)
        ing.stop()
        link.stop()
        with db.session() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("ingest.%"))).all()
            row_bytes = sum(len(r.detail) + len(r.action) + len(r.actor) + 128 for r in rows)
        return {"seconds": seconds, "size": size, "published": sent, "received": ing.stats.received,
                "rejected": dict(ing.stats.rejected), "audit_rows": len(rows), "audit_bytes": row_bytes,
                "log_bytes": logfile.stat().st_size - log_before, "load": os.getloadavg()}


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]), int(sys.argv[2]))))
