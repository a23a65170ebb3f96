"""The programme in the app (``portal_programme`` blueprint, ``/p/api/programme``): days, sessions and
items with what is on the agenda now, for the delegate's tablet (cached there for offline reading).
The documents themselves come from the delegate-facing ``/d`` endpoints (the documents area), which
know the portal session (:func:`controller.documents.delegate_access.reader_for`)."""

from __future__ import annotations

from flask import jsonify

from controller.app import services
from controller.web.guard import delegate_view
from controller.web.portal.guard import blueprint, signed_in

bp = blueprint("portal_programme", __name__, "/p/api")


@bp.route("/programme")
@delegate_view
@signed_in
def programme():
    svc = services()
    return jsonify(days=svc.programme.outline(), now=svc.programme.now())
