"""Audit trail page and chain verification (``audit`` blueprint); data from :mod:`controller.audit`.

The "who" column names every actor the same way, whatever the producer wrote (the chain keeps the
stored text as it is): an account as ``name (role)``, whether it was recorded as ``name`` or
``user:name``; the command line as "command line" (with the account given, ``cli:name``); the
controller's own work as "system".
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from controller import audit
from controller.app import services
from controller.web.guard import Perm, requires

bp = Blueprint("audit", __name__)


def who(actor: str, roles: dict[str, object]) -> str:
    """The actor as the audit page shows it (see the module docstring)."""
    from flask_babel import gettext as _

    from controller.web.labels import label

    kind, _sep, name = actor.partition(":") if ":" in actor else ("", "", actor)
    if kind == "cli" or actor == "cli":
        return _("%(name)s (command line)", name=name) if name and name != "cli" else _("command line")
    if actor in ("system", "bench"):
        return _("system")
    if name in roles:
        return f"{name} ({label('role', roles[name])})"
    return name


@bp.route("/audit")
@requires(Perm.VIEW_AUDIT)
def page():
    from sqlalchemy import select

    from controller.storage.tables import User
    from controller.web.params import MAX_ID, int_param

    before = int_param("before", lo=1, hi=MAX_ID + 1, source=request.args)
    with services().db.session() as s:
        rows = audit.recent(s, limit=100, before=before)
        roles = dict(s.execute(select(User.name, User.role)).all())
        return render_template("audit.html", rows=rows, before=before, who=lambda a: who(a, roles))


@bp.route("/api/audit/verify")
@requires(Perm.VIEW_AUDIT)
def verify():
    with services().db.session() as s:
        return jsonify(audit.verify(s).as_dict())
