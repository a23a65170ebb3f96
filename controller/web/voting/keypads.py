"""Keypads on the controller page (``keypads`` blueprint): health and who holds which keypad.

Technicians and admins see battery, signal and last contact (``VIEW_DEVICES``) and bind, release,
swap or report keypads lost (``MANAGE_DELEGATES``; every change is audited by
:class:`controller.voting.assignment.Assignments`). While a ballot is open a binding is only asked
for (:class:`controller.voting.rebinds.Rebinds`): the chair or an admin confirms or refuses it here or
on the ballot page (``MANAGE_BALLOTS``), with an account other than the one that asked. The devices
page shows the same health table through ``ballots/keypads_panel.html``, using the
``keypad_health()`` template global set here.
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from controller.app import services
from controller.voting.assignment import MAX_KEYPAD_ID, AssignmentError, Assignments
from controller.voting.keypad_store import KeypadStore
from controller.voting.rebinds import RebindError, Rebinds
from controller.voting.tables import AssignMode
from controller.web.guard import Perm, requires
from controller.web.params import int_param
from controller.web.voting.ballots import _render_detail

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
                           pending_rebinds=Rebinds(_db()).pending(),
                           message=_rebind_message() or request.args.get("message", ""),
                           error=request.args.get("error", ""))


def _rebind_message() -> str:
    """The outcome of a rebind action, from the code in the address (never English text there)."""
    a = request.args
    done = a.get("rebind")
    if done == "pending":
        return _("Ballot %(ballot)s is open: binding keypad %(keypad)s to %(delegate)s waits for the "
                 "chair's confirmation.", ballot=a.get("ballot", ""), keypad=a.get("keypad", ""),
                 delegate=a.get("delegate", ""))
    if done == "confirmed":
        return _("Keypad %(keypad)s is now bound to %(delegate)s.", keypad=a.get("keypad", ""),
                 delegate=a.get("delegate", ""))
    if done == "rejected":
        return _("The keypad binding was refused.")
    return ""


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
        mode = AssignMode.DOOR if f.get("mode") == AssignMode.DOOR.value else AssignMode.SEAT
        reader = services().keypads  # with a base station, only keypads paired with the venue bind
        known = reader.keys.ids() if reader is not None else None
        done = Rebinds(_db(), known).request(kid, did, actor=f"user:{g.user.name}", mode=mode)
    except ValueError:
        return _back(error="keypad must be a number")
    except RebindError as exc:
        return _back(error=exc.text.translate(_))
    except AssignmentError as exc:
        return _back(error=str(exc))
    if "pending" in done:
        return redirect(url_for("keypads.page", rebind="pending", ballot=done["ballot"], keypad=kid,
                                delegate=did))
    out = done["bound"]
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


def _decided(*, error: str = "", code: str = "", **params):
    """Back to the ballot page the chair came from (``next``, a local path), else the keypads page.
    A refusal is shown on that page at once (409), a success after a redirect."""
    m = re.fullmatch(r"/ballots/(\d+)", request.form.get("next", ""))
    if m:
        if error:
            return _render_detail(int(m.group(1)), error=error, status=409)
        return redirect(url_for("ballots.detail", bid=int(m.group(1)), done=f"rebind_{code}"))
    if error:
        return _back(error=error)
    return redirect(url_for("keypads.page", rebind=code, **params))


@bp.route("/keypads/rebinds/<int:rid>/confirm", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def confirm_rebind(rid: int):
    try:
        out = Rebinds(_db()).confirm(rid, actor=f"user:{g.user.name}")
    except RebindError as exc:
        return _decided(error=exc.text.translate(_))
    except AssignmentError as exc:
        return _decided(error=str(exc))
    return _decided(code="confirmed", keypad=out["keypad"], delegate=out["delegate"])


@bp.route("/keypads/rebinds/<int:rid>/reject", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def reject_rebind(rid: int):
    try:
        Rebinds(_db()).reject(rid, actor=f"user:{g.user.name}")
    except RebindError as exc:
        return _decided(error=exc.text.translate(_))
    return _decided(code="rejected")
