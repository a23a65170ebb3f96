"""Notices in the app and on the staff pages.

Delegates (``portal_notices`` blueprint, ``/p/api/notices``): their notices with the unread count;
opening one marks it read. Staff (``notices_staff`` blueprint, ``/portal/notices``, the secretariat):
send a notice to everyone, a delegation or a group; every notice with how many read it, and per
notice who has read it and who not yet.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for

from controller.app import services
from controller.portal.notices import NoticeRefused
from controller.portal.tables import Audience
from controller.web.guard import Perm, delegate_view, requires
from controller.web.i18n import translate
from controller.web.portal.guard import blueprint, signed_in

bp = blueprint("portal_notices", __name__, "/p/api")
staff = Blueprint("notices_staff", __name__)


@bp.route("/notices")
@delegate_view
@signed_in
def mine():
    return jsonify(services().portal.notices.for_delegate(g.delegate.delegate_id))


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
@delegate_view
@signed_in
def read(notice_id: int):
    notices = services().portal.notices
    notices.mark_read(g.delegate.delegate_id, notice_id)
    return jsonify(unread=notices.for_delegate(g.delegate.delegate_id)["unread"])


@staff.route("/portal/notices")
@requires(Perm.VIEW_DELEGATES)
def page():
    notices = services().portal.notices
    return render_template("portal_staff/notices.html", notices=notices.sent(), audiences=notices.audiences(),
                           error=request.args.get("error", ""), sent=request.args.get("sent", ""))


@staff.route("/portal/notices", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def send():
    f = request.form
    try:
        audience = Audience(f.get("audience", "all"))
        value = f.get("delegation", "") if audience is Audience.DELEGATION else f.get("group", "")
        nid = services().portal.notices.send(f.get("title", ""), f.get("body", ""), audience=audience,
                                             value=value, urgent=bool(f.get("urgent")),
                                             actor=f"user:{g.user.name}")
    except ValueError:
        abort(400)
    except NoticeRefused as exc:
        return redirect(url_for("notices_staff.page", error=translate(exc.text)))
    return redirect(url_for("notices_staff.page", sent=nid))


@staff.route("/portal/notices/<int:notice_id>")
@requires(Perm.VIEW_DELEGATES)
def readers(notice_id: int):
    found = services().portal.notices.readers(notice_id)
    if found is None:
        abort(404)
    return render_template("portal_staff/notice.html", n=found)
