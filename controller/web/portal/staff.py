"""The portal on the staff pages (``portal_staff`` blueprint, ``/portal``): signed-in devices and
seat-bound tablets, with revocation; sign-in codes for the badges.

* ``/portal`` — every device signed in to the delegates' portal (who, seat, since, last seen) with a
  "Revoke" button (the device is refused on its next request and wipes its cache; its live stream
  ends within seconds); seat-bound tablets with their one-time pairing code; PIN resets.
* ``/portal/codes.csv`` — each delegate's sign-in code (printed under the badge QR code).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from controller.app import services
from controller.exports import csv_response
from controller.portal.signin import SignInError
from controller.web.guard import Perm, requires
from controller.web.i18n import translate

bp = Blueprint("portal_staff", __name__)


def _actor() -> str:
    return f"user:{g.user.name}"


@bp.app_template_global("portal_confirmations")
def confirmations():
    """The attendance answers for the roll-call page (``attendance.html``)."""
    return services().portal.confirmations.summary()


@bp.route("/portal")
@requires(Perm.VIEW_DELEGATES)
def page():
    portal = services().portal
    auth = portal.auth
    return render_template("portal_staff/index.html", sessions=auth.sessions(), devices=auth.devices(),
                           corrections=portal.profiles.corrections(),
                           withdrawals=portal.profiles.withdrawals(),
                           paired=request.args.get("pairing"), seat=request.args.get("seat", ""),
                           message=request.args.get("done", ""), error=request.args.get("error", ""))


@bp.route("/portal/corrections/<int:request_id>", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def handle_correction(request_id: int):
    from controller.portal.tables import RequestStatus

    try:
        status = RequestStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if not services().portal.profiles.handle_correction(request_id, status, actor=_actor()):
        abort(404)
    return redirect(url_for("portal_staff.page", done="handled"))


@bp.route("/portal/sessions/<public_id>/revoke", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def revoke(public_id: str):
    if not services().portal.auth.revoke(public_id, actor=_actor()):
        abort(404)
    return redirect(url_for("portal_staff.page", done="revoked"))


@bp.route("/portal/devices", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def add_device():
    try:
        form = request.form
        _id, code = services().portal.auth.add_device(form.get("seat", ""), form.get("label", ""),
                                                      actor=_actor())
    except SignInError as exc:
        return redirect(url_for("portal_staff.page", error=translate(exc.text)))
    return redirect(url_for("portal_staff.page", pairing=code, seat=request.form.get("seat", "")))


@bp.route("/portal/devices/<int:device_id>/revoke", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def revoke_device(device_id: int):
    if not services().portal.auth.revoke_device(device_id, actor=_actor()):
        abort(404)
    return redirect(url_for("portal_staff.page", done="unbound"))


@bp.route("/portal/pins/<delegate_id>/reset", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def reset_pin(delegate_id: str):
    services().portal.auth.reset_pin(delegate_id, actor=_actor())
    return redirect(url_for("portal_staff.page", done="pin_reset"))


@bp.route("/portal/codes.csv")
@requires(Perm.PRINT_BADGES)
def codes():
    from sqlalchemy import select

    from congress.vietnamese import sort_key
    from controller.storage.tables import Delegate

    svc = services()
    with svc.db.session() as s:
        people = sorted(s.execute(select(Delegate.id, Delegate.name, Delegate.delegation)),
                        key=lambda r: (sort_key(r.delegation), sort_key(r.name)))
    header = [_("Delegate number"), _("Name"), _("Delegation"), _("Sign-in code")]
    rows = ([d.id, d.name, d.delegation, svc.portal.auth.code_for(d.id) or ""] for d in people)
    return csv_response("portal-codes.csv", header, rows)
