"""Audit trail page and chain verification (``audit`` blueprint); data from :mod:`controller.audit`."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from controller import audit
from controller.app import services
from controller.web.guard import Perm, requires

bp = Blueprint("audit", __name__)


@bp.route("/audit")
@requires(Perm.VIEW_AUDIT)
def page():
    before = request.args.get("before", type=int)
    with services().db.session() as s:
        rows = audit.recent(s, limit=100, before=before)
        return render_template("audit.html", rows=rows, before=before)


@bp.route("/api/audit/verify")
@requires(Perm.VIEW_AUDIT)
def verify():
    with services().db.session() as s:
        return jsonify(audit.verify(s).as_dict())
