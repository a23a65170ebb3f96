"""Door-unit health page and its JSON (``devices`` blueprint); data from :mod:`controller.devices`.

The keypad base station belongs to the voting area: its blueprint may add a panel to
``devices.html`` through the ``keypads`` block.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from controller import devices
from controller.web.guard import Perm, requires

bp = Blueprint("devices", __name__)


def _units() -> list[dict]:
    svc = current_app.extensions["congress"]
    with svc.db.session() as s:
        return devices.list_units(s, svc.policy)


@bp.route("/devices")
@requires(Perm.VIEW_DEVICES)
def page():
    svc = current_app.extensions["congress"]
    return render_template("devices.html", units=_units(), policy=svc.policy)


@bp.route("/api/devices")
@requires(Perm.VIEW_DEVICES)
def api():
    return jsonify(units=_units())
