"""Door-unit health page and its JSON (``devices`` blueprint); data from :mod:`controller.devices.health`
and, when this process runs the ingest (``Services.ingest``), the ingest's counters.

The keypad base station belongs to the voting area: its blueprint may add a panel to
``devices.html`` through the ``keypads`` block.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from controller.app import services
from controller.devices import health as devices
from controller.web.guard import Perm, requires

bp = Blueprint("devices", __name__)


def ingest_health(svc) -> dict | None:
    """The check-in ingest's counters and broker connection (``None`` when this process has none)."""
    ingest = svc.ingest
    if ingest is None:
        return None
    st = ingest.stats
    return {
        "connected": svc.link is not None and svc.link.connected,
        "received": st.received,
        "stored": st.stored,
        "duplicates": st.duplicates,
        "rejected": dict(st.rejected),
        "acks_sent": st.acks_sent,
        "statuses": st.statuses,
        "db_errors": st.db_errors,
    }


def _units() -> list[dict]:
    svc = services()
    with svc.db.session() as s:
        return devices.list_units(s, svc.policy)


@bp.route("/devices")
@requires(Perm.VIEW_DEVICES)
def page():
    svc = services()
    return render_template("devices.html", units=_units(), policy=svc.policy, ingest=ingest_health(svc))


@bp.route("/api/devices")
@requires(Perm.VIEW_DEVICES)
def api():
    return jsonify(units=_units(), ingest=ingest_health(services()))
