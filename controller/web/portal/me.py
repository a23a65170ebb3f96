"""The delegate's own business in the app (``portal_me`` blueprint, ``/p/api/...``, JSON):
attendance confirmation before the congress, their profile (data, face photo and consent, the
withdrawal of consent, correction requests) and the results of closed ballots."""

from __future__ import annotations

from flask import g, jsonify, request

from controller.app import services
from controller.portal.attendance import AnswerRefused
from controller.portal.profile import ProfileError
from controller.web.guard import delegate_view
from controller.web.i18n import translate
from controller.web.portal.guard import blueprint, signed_in

bp = blueprint("portal_me", __name__, "/p/api")


def _body() -> dict:
    return request.get_json(silent=True) or {}


@bp.route("/attendance")
@delegate_view
@signed_in
def attendance():
    return jsonify(answer=services().portal.confirmations.of(g.delegate.delegate_id))


@bp.route("/attendance", methods=["POST"])
@delegate_view
@signed_in
def answer():
    data = _body()
    try:
        out = services().portal.confirmations.answer(g.delegate.delegate_id, bool(data.get("attending")),
                                                     str(data.get("reason", "")))
    except AnswerRefused as exc:
        return jsonify(error=translate(exc.text)), 400
    return jsonify(answer=out)


@bp.route("/profile")
@delegate_view
@signed_in
def profile():
    return jsonify(services().portal.profiles.of(g.delegate.delegate_id))


@bp.route("/profile/consent", methods=["POST"])
@delegate_view
@signed_in
def withdraw_consent():
    if _body().get("withdraw") is not True:
        return jsonify(error="send {\"withdraw\": true}"), 400
    deleted = services().portal.profiles.withdraw_consent(g.delegate.delegate_id)
    return jsonify(ok=True, photos_deleted=deleted)


@bp.route("/profile/corrections", methods=["POST"])
@delegate_view
@signed_in
def correction():
    try:
        text = str(_body().get("text", ""))
        rid = services().portal.profiles.request_correction(g.delegate.delegate_id, text)
    except ProfileError as exc:
        return jsonify(error=translate(exc.text)), 400
    return jsonify(ok=True, id=rid), 201


@bp.route("/results")
@delegate_view
@signed_in
def results():
    return jsonify(ballots=services().portal.profiles.results(g.delegate.delegate_id))
