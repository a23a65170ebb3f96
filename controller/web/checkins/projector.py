"""The hall's roll-call screen (``projector`` blueprint): ``/projector/attendance``.

A full-screen page for the projector behind the chair: delegates summoned, present and absent, the
quorum and whether it is reached, updated live as delegates pass the doors ("automatic roll call
connected to the projection"). It reads ``/api/summary`` like the dashboard. Its language is the
device's (``?lang=vi`` in the projector's bookmark keeps it Vietnamese whoever is logged in).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from controller.web.checkins.dashboard import summary
from controller.web.guard import Perm, requires

bp = Blueprint("projector", __name__)


@bp.route("/projector/attendance")
@requires(Perm.VIEW_ATTENDANCE)
def attendance():
    return render_template("projector/attendance.html", s=summary())
