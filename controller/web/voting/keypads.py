"""Keypads on the controller page (``keypads`` blueprint): health and who holds which keypad.

Technicians and admins see battery, signal and last contact (``VIEW_DEVICES``) and bind, release,
swap or report keypads lost (``MANAGE_DELEGATES``; every change is audited by
:class:`controller.voting.assignment.Assignments`). The devices page shows the same health table
through ``ballots/keypads_panel.html``, using the ``keypad_health()`` template global set here.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for

from controller.app import services
from controller.voting.assignment import MAX_KEYPAD_ID, AssignmentError, Assignments
from controller.voting.keypad_store import KeypadStore
from controller.voting.tables import AssignMode
from controller.web.guard import Perm, requires
from controller.web.params import int_param

bp = Blueprint("keypads", __name__)


def _db():
    return services().db


def health() -> list[dict]:
    return KeypadStore(_db()).health()


@bp.record_once
def _globals(state) -> None:
    state.app.jinja_env.globals["keypad_health"] = health


def _back(message: str = "", error: str = ""):
    return redirect(url_for("keypads.page", message=message or None, error=error or None))


@bp.route("/keypads")
@requires(Perm.VIEW_DEVICES)
def page():
    reader = services().keypads
    base = None
    if reader is not None:
        hello = reader.base_hello
        base = {"port": reader.port, "connected": reader.connected.is_set(),
                "base_id": hello.base_id if hello else None, "firmware": hello.firmware if hello else None,
                "rejected": {k[9:]: v for k, v in reader.stats.items() if k.startswith("rejected.")}}
    return render_template("ballots/keypads.html", keypads=health(), base=base,
                           message=request.args.get("message", ""), error=request.args.get("error", ""))


@bp.route("/api/keypads")
@requires(Perm.VIEW_DEVICES)
def api():
    return jsonify(keypads=health())


@bp.route("/keypads/bind", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def bind():
    f = request.form
    try:
        kid, did = int_param("keypad", lo=-(2**63), hi=2**63 - 1, source=f), f.get("delegate", "").strip()
        if kid is None:
            raise ValueError("no keypad")
        a = Assignments(_db())
        actor = f"user:{g.user.name}"
        if f.get("mode") == AssignMode.DOOR.value:
            out = a.bind_at_checkin(kid, did, actor=actor)
        else:
            out = a.bind(kid, did, actor=actor)
    except ValueError:
        return _back(error="keypad must be a number")
    except AssignmentError as exc:
        return _back(error=str(exc))
    released = f" (keypad {out['released']} released)" if out.get("released") else ""
    return _back(f"keypad {kid} bound to {did}{released}")


def _change(kid: int, action: str):
    a = Assignments(_db())
    actor = f"user:{g.user.name}"
    try:
        if action == "unbind":
            a.unbind(kid, actor=actor, reason=request.form.get("reason", ""))
        elif action == "lost":
            a.report_lost(kid, actor=actor)
        else:
            a.found(kid, actor=actor)
    except AssignmentError as exc:
        return _back(error=str(exc))
    return _back(f"keypad {kid}: {action}")


@bp.route("/keypads/<int:kid>/unbind", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def unbind(kid: int):
    return _change(kid, "unbind")


@bp.route("/keypads/<int:kid>/lost", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def lost(kid: int):
    return _change(kid, "lost")


@bp.route("/keypads/<int:kid>/found", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def found(kid: int):
    return _change(kid, "found")


@bp.route("/keypads/swap", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def swap():
    try:
        a = int_param("a", lo=1, hi=MAX_KEYPAD_ID, source=request.form)
        b = int_param("b", lo=1, hi=MAX_KEYPAD_ID, source=request.form)
        if a is None or b is None:
            raise ValueError("no keypad")
        Assignments(_db()).swap(a, b, actor=f"user:{g.user.name}")
    except ValueError:
        return _back(error="keypads must be numbers")
    except AssignmentError as exc:
        return _back(error=str(exc))
    return _back(f"keypads {a} and {b} swapped")
