"""Units flood the broker while the controller is away; print the broker's memory and persistence.

    python scripts/broker_budget.py SECONDS UNITS [big]    # e.g. 120 4 (docs/security.md, item 3)

A private CA and a real Mosquitto with the venue configuration (TLS, certificates, ACL, persistence);
the controller's durable session subscribes and leaves; UNITS unit certificates publish check-ins and
retained statuses of the largest packet the broker accepts for SECONDS (with ``big``, an 8 MB message
now and then, which disconnects the unit). Prints one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from congress import mqtt, pki, wire
from congress.broker import MAX_PACKET_BYTES, Mosquitto


def main(seconds: float, units: int, big: bool) -> dict:
    tmp = Path(tempfile.mkdtemp())
    ca = tmp / "ca"
    pki.init_ca(ca, "v1")
    pki.issue_broker(ca, "localhost")
    cert, key = pki.issue_client(ca, "controller")
    creds = [pki.issue_unit(ca, f"door-{i}") for i in range(units)]
    with Mosquitto.from_ca(ca, work_dir=tmp / "broker") as b:
        rss_start = b.rss_kb()
        ctl = mqtt.make_client(client_id="controller", ca_file=ca / "ca.pem", cert_file=cert, key_file=key)
        mqtt.connect(ctl, "localhost", b.port, durable=True)
        for kind in ("checkin", "status"):
            ctl.subscribe(wire.subscription("v1", kind), qos=1)
        time.sleep(1)
        ctl.disconnect()
        ctl.loop_stop()
        clients = []
        for c in creds:
            u = mqtt.make_client(client_id=c.unit_id, ca_file=c.ca_cert, cert_file=c.cert, key_file=c.key)
            mqtt.connect(u, "localhost", b.port)
            clients.append((c, u))
        body = b"x" * (MAX_PACKET_BYTES - 200)
        sent = big_tries = reconnects = peak = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            for c, u in clients:
                if not u.is_connected():
                    reconnects += 1
                    with contextlib.suppress(Exception):
                        u.loop_stop()
                        u.reconnect()
                        u.loop_start()
                    time.sleep(0.2)
                    continue
                for kind, retain in (("checkin", False), ("status", True)):
                    info = u.publish(wire.unit_topic("v1", c.unit_id, kind), body, qos=1, retain=retain)
                    sent += 1
                if big and sent % 50 == 0:
                    u.publish(wire.unit_topic("v1", c.unit_id, "checkin"), b"y" * 8_000_000, qos=1)
                    big_tries += 1
                with contextlib.suppress(Exception):
                    info.wait_for_publish(5)
            peak = max(peak, b.rss_kb())
        time.sleep(2)
        peak = max(peak, b.rss_kb())
        b.stop()
        persisted = sum(p.stat().st_size for p in (tmp / "broker" / "data").rglob("*") if p.is_file())
        return {"seconds": seconds, "units": units, "published": sent, "payload": len(body),
                "offered_mb": round(sent * len(body) / 1e6, 1), "big_8mb_tries": big_tries,
                "reconnects": reconnects, "rss_start_mb": round(rss_start / 1024, 1),
                "rss_peak_mb": round(peak / 1024, 1), "persistence_mb": round(persisted / 1e6, 1),
                "load": os.getloadavg()}


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]), int(sys.argv[2]), "big" in sys.argv[3:])))
