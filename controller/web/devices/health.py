"""Door-unit health page and its JSON (``devices`` blueprint); data from :mod:`controller.devices.health`
and, when this process runs the ingest (``Services.ingest``), the ingest's counters.

The keypad base station belongs to the voting area: its blueprint may add a panel to
``devices.html`` through the ``keypads`` block.
"""

from __future__ import annotations

import datetime as dt

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
    link = svc.link.status if svc.link is not None else None
    return {
        "connected": svc.link is not None and svc.link.connected,
        # connected, connecting (not reached since the start) or disconnected; since when (UTC)
        "broker_state": link.state.value if link else "not_started",
        "broker_since": dt.datetime.fromtimestamp(link.since, dt.UTC).isoformat() if link else None,
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


def status_colour(unit: dict) -> str:
    """``green`` (online, no alarm), ``amber`` (online but silent, backlogged or degraded) or ``red``
    (offline): the colours the README's set-up checklist speaks of."""
    if not unit.get("online"):
        return "red"
    return "amber" if unit.get("alarm") else "green"


def delegate_names() -> dict[str, str]:
    """Delegate id -> name, for lists of devices held by delegates (keypads)."""
    from sqlalchemy import select

    from controller.storage.tables import Delegate

    with services().db.session() as s:
        return dict(s.execute(select(Delegate.id, Delegate.name)).all())


@bp.route("/devices")
@requires(Perm.VIEW_DEVICES)
def page():
    svc = services()
    units = _units()
    for u in units:
        u["colour"] = status_colour(u)
    return render_template("devices.html", units=units, policy=svc.policy, ingest=ingest_health(svc),
                           names=delegate_names())


@bp.route("/api/devices")
@requires(Perm.VIEW_DEVICES)
def api():
    units = _units()
    for u in units:
        u["colour"] = status_colour(u)
    return jsonify(units=units, ingest=ingest_health(services()))
