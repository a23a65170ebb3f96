"""Attendant lane page (``lane`` blueprint): confirm or refuse low-confidence faces.

Data and decisions are :mod:`controller.checkins.lane`; after the decision commits, the unit is told through
the app's :class:`controller.devices.commands.UnitCommander` (``Services.commander``, built by
``controller run``) and the live pages are told through the bus. The enrolled photo shown next to the
request is the delegate's kept, sealed copy (:meth:`controller.delegates.enrollment.Enroller.kept_photo`).
The same page checks a delegate in or out by hand (:mod:`controller.checkins.manual`): a form, so it
works without script, answered by a redirect with a code in the address.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from congress.i18n import M_
from controller.app import services
from controller.checkins import lane, manual
from controller.live import EventKind
from controller.storage.tables import Delegate, EnrollStatus, FacePhoto, Passage
from controller.web.guard import Perm, requires

log = logging.getLogger(__name__)
bp = Blueprint("lane", __name__)


def _svc():
    return services()


def _pending() -> list[dict]:
    with _svc().db.session() as s:
        rows = lane.pending(s)
        with_photo = set(
            s.scalars(
                select(FacePhoto.delegate_id).where(
                    FacePhoto.delegate_id.in_([r["delegate_id"] for r in rows]),
                    FacePhoto.status == EnrollStatus.ENROLLED,
                )
            )
        )
    for r in rows:
        r["photo_url"] = (
            url_for("lane.photo", delegate_id=r["delegate_id"]) if r["delegate_id"] in with_photo else None
        )
    return rows


_DONE = {"in": M_("%(name)s (%(id)s) checked in by hand."),
         "out": M_("%(name)s (%(id)s) checked out by hand.")}


@bp.route("/lane")
@requires(Perm.ATTEND_LANE)
def page():
    done, who = request.args.get("done"), request.args.get("delegate", "")
    message = None
    if done in _DONE and who:
        with _svc().db.session() as s:
            name = s.scalar(select(Delegate.name).where(Delegate.id == who))
        if name is not None:
            message = M_(_DONE[done].msgid, name=name, id=who)
    return render_template("lane.html", pending=_pending(), done=message)


@bp.route("/lane/manual/<way>", methods=["POST"])
@requires(Perm.ATTEND_LANE)
def by_hand(way: str):
    """Check a delegate in (``way`` = ``in``) or out by hand: a ``manual`` check-in, audited."""
    svc = _svc()
    delegate_id = request.form.get("delegate_id", "").strip()
    if way not in ("in", "out") or not delegate_id:
        return render_template("lane.html", pending=_pending(), error=M_(
            "give the delegate's id and whether they come in or go out")), 400
    try:
        with svc.db.session() as s:
            row = manual.record(s, delegate_id, Passage(way), actor=g.user.name)
            event = {"delegate_id": delegate_id, "direction": way, "method": row.method.value,
                     "unit": row.unit_id, "door": "", "event_at": row.event_at.isoformat()}
    except manual.ManualError as exc:
        return render_template("lane.html", pending=_pending(), error=exc.text), 400
    svc.bus.publish(EventKind.CHECKIN, {"checkins": [event], "count": 1})
    svc.bus.publish(EventKind.ATTENDANCE, {"delegate_id": delegate_id})
    return redirect(url_for("lane.page", done=way, delegate=delegate_id))


@bp.route("/api/lane")
@requires(Perm.ATTEND_LANE)
def api():
    return jsonify(pending=_pending())


def _decide(checkin_id: int, accept: bool):
    svc = _svc()
    try:
        with svc.db.session() as s:
            decided = lane.decide(s, checkin_id, accept, actor=g.user.name)
    except lane.LaneError as exc:
        return jsonify(error=str(exc)), 409
    commander = svc.commander
    told = False
    if commander is not None:
        try:
            commander.answer(decided)
            told = True
        except Exception:  # the decision stands; the amber light times out at the door
            log.exception("could not tell unit %s the lane decision", decided.unit_id)
    svc.bus.publish(EventKind.LANE, {"id": checkin_id, "accepted": accept})
    svc.bus.publish(EventKind.ATTENDANCE, {"delegate_id": decided.delegate_id})
    return jsonify(ok=True, accepted=accept, unit_told=told)


@bp.route("/lane/<int:checkin_id>/confirm", methods=["POST"])
@requires(Perm.ATTEND_LANE)
def confirm(checkin_id: int):
    return _decide(checkin_id, True)


@bp.route("/lane/<int:checkin_id>/reject", methods=["POST"])
@requires(Perm.ATTEND_LANE)
def reject(checkin_id: int):
    return _decide(checkin_id, False)


@bp.route("/lane/photo/<delegate_id>")
@requires(Perm.ATTEND_LANE)
def photo(delegate_id: str):
    svc = _svc()
    with svc.db.session() as s:
        photo_id = s.scalar(
            select(FacePhoto.id)
            .where(FacePhoto.delegate_id == delegate_id, FacePhoto.status == EnrollStatus.ENROLLED)
            .order_by(FacePhoto.id)
            .limit(1)
        )
    data = svc.enroller.kept_photo(delegate_id, photo_id) if photo_id is not None else None
    if data is None:
        return jsonify(error="no enrolled photo"), 404
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
