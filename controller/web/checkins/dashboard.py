"""Dashboard, live feed (SSE), attendance chart and roll call (``main`` blueprint).

The dashboard's numbers come from :mod:`controller.checkins.attendance` (quorum under ``[attendance] quorum``)
and the recent check-ins from the ``checkins`` table; the page then follows ``/events`` and refreshes
those numbers from ``/api/summary`` whenever a check-in or attendance event arrives.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context
from flask_babel import gettext
from sqlalchemy import select

from controller import live
from controller.accounts import auth
from controller.app import services
from controller.checkins import attendance
from controller.devices import health as devices
from controller.storage.tables import CheckIn, Delegate
from controller.web.guard import SESSION_COOKIE, Perm, requires

bp = Blueprint("main", __name__)


def _svc():
    return services()


def _policy() -> attendance.QuorumPolicy:
    return attendance.QuorumPolicy.parse(_svc().config.attendance.quorum)


def recent_checkins(session, limit: int = 30) -> list[dict]:
    q = (
        select(CheckIn, Delegate.name, Delegate.delegation)
        .join(Delegate, Delegate.id == CheckIn.delegate_id, isouter=True)
        .order_by(CheckIn.id.desc())
        .limit(limit)
    )
    return [
        {
            "delegate_id": c.delegate_id,
            "name": name or gettext("(not on the roster)"),
            "delegation": delegation or "",
            "direction": c.passage.value,
            "method": c.method.value,
            "unit": c.unit_id,
            "event_at": c.event_at.isoformat(),
        }
        for c, name, delegation in session.execute(q)
    ]


def summary() -> dict:
    svc = _svc()
    with svc.db.session() as s:
        q = attendance.quorum(s, _policy())
        units = devices.list_units(s, svc.policy)
        feed = recent_checkins(s)
    return {
        "quorum": q.as_dict(),
        "checkins": feed,
        "units": {"total": len(units), "alarms": sum(1 for u in units if u["alarm"])},
        "live_clients": svc.bus.clients,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }


@bp.route("/")
@requires(Perm.VIEW_ATTENDANCE)
def dashboard():
    return render_template("dashboard.html", s=summary())


@bp.route("/api/summary")
@requires(Perm.VIEW_ATTENDANCE)
def api_summary():
    return jsonify(summary())


@bp.route("/events")
@requires(Perm.VIEW_ATTENDANCE)
def events():
    bus = _svc().bus
    sub = bus.subscribe()
    if sub is None:
        return Response(
            "too many live pages open; close one and reload\n",
            503,
            mimetype="text/plain",
            headers={"Retry-After": "10"},
        )
    svc, token = _svc(), request.cookies.get(SESSION_COOKIE, "")

    def still_allowed() -> bool:
        with svc.db.session() as s:
            return (
                auth.load_session(s, token, idle=svc.session_idle, lifetime=svc.session_lifetime) is not None
            )

    stream = live.stream(bus, sub, still_allowed=still_allowed)
    resp = Response(stream_with_context(stream), mimetype="text/event-stream")
    resp.headers["X-Accel-Buffering"] = "no"
    return resp


@bp.route("/attendance")
@requires(Perm.VIEW_ATTENDANCE)
def attendance_page():
    with _svc().db.session() as s:
        groups = attendance.roll_call(s)
        q = attendance.quorum(s, _policy())
    return render_template("attendance.html", groups=groups, q=q.as_dict())


@bp.route("/api/attendance/timeline")
@requires(Perm.VIEW_ATTENDANCE)
def api_timeline():
    """``?bucket=`` seconds (10-3600), or ``auto``/none: the smallest interval that keeps the chart
    under 60 points from the first check-in to now, so a short roll call is not one flat bar."""
    from controller.web.params import MAX_ID, int_param

    asked = request.args.get("bucket", "auto")
    asked = None if asked == "auto" else int_param("bucket", lo=0, hi=MAX_ID, source=request.args)
    with _svc().db.session() as s:
        bucket = min(max(asked, 10), 3600) if asked is not None else attendance.auto_bucket(s)
        series = attendance.timeline(s, bucket_s=bucket)
        q = attendance.quorum(s, _policy())
    return jsonify(bucket_s=bucket, series=series, required=q.required, summoned=q.summoned)
