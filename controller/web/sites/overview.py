"""Sites page, its projector view and JSON (``sites`` blueprint); data from :mod:`controller.sites`.

Every logged-in role may see attendance across sites (as on the dashboard). The pages follow the live
feed and reload ``/api/sites`` when a check-in, an attendance change, a unit's heartbeat or a site's
link state arrives.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from controller.app import services
from controller.web.guard import Perm, requires

bp = Blueprint("sites", __name__)


@bp.route("/sites")
@requires(Perm.VIEW_ATTENDANCE)
def page():
    return render_template("sites.html", o=services().sites.overview())


@bp.route("/sites/projector")
@requires(Perm.VIEW_ATTENDANCE)
def projector():
    return render_template("sites_projector.html", o=services().sites.overview())


@bp.route("/api/sites")
@requires(Perm.VIEW_ATTENDANCE)
def api():
    return jsonify(services().sites.overview().as_dict())
