"""The programme on the controller page (``programme`` blueprint).

* ``/programme`` — the outline (days, sessions, items with their ballots and documents), the editor
  (add, edit, delete items; put ballots on items or take them off; import a TOML/CSV/XLSX file),
  "now on the agenda" buttons, opening and
  closing sessions (which takes the roll call) and recording leave of absence;
* ``/programme/now`` — move the agenda (JSON ``{"ref", "revision"}``; 409 with the current state when
  another chair moved first);
* ``/projector`` — the hall projector: what is on the agenda now, the session's roll call and quorum,
  the item's documents; it follows the live feed (``agenda``, ``rollcall``, ``documents`` events).

Everyone logged in may look (``VIEW_PROGRAMME``); the chair and admins change the programme
(``MANAGE_PROGRAMME``) and move the agenda (``MOVE_AGENDA``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from controller.app import services
from controller.documents.access import Reader, ReaderKind
from controller.programme.agenda import AgendaConflict, ProgrammeError
from controller.programme.importer import ProgrammeImportError, import_file
from controller.web.guard import Perm, requires
from controller.web.i18n import translate
from controller.web.params import MAX_ID, int_param

bp = Blueprint("programme", __name__)


def _actor() -> str:
    return f"user:{g.user.name}"


def _back(message: str = "", error: str = ""):
    return redirect(url_for("programme.page", message=message or None, error=error or None))


def _staff_reader() -> Reader:
    return Reader(ReaderKind.STAFF, f"user:{g.user.id}", g.user.name, secretariat=True)


def _documents_by_item() -> dict[str, list]:
    out: dict[str, list] = {}
    for d in services().documents.documents(_staff_reader()):
        if d.item_ref and not d.withdrawn:
            out.setdefault(d.item_ref, []).append(d)
    return out


@bp.route("/programme")
@requires(Perm.VIEW_PROGRAMME)
def page():
    svc = services()
    return render_template(
        "programme/index.html",
        outline=svc.programme.outline(),
        ballots=[(b.id, b.title) for b in svc.ballots.list()],
        now=svc.programme.now(),
        docs=_documents_by_item(),
        rollcall=svc.rollcalls.latest(),
        message=request.args.get("message", ""),
        error=request.args.get("error", ""),
    )


def _now_docs(now: dict) -> list:
    """The documents of the item on the agenda now (what the projector lists under it)."""
    return _documents_by_item().get(now["item"]["ref"], []) if now["item"] else []


@bp.route("/programme/api")
@requires(Perm.VIEW_PROGRAMME)
def api():
    svc = services()
    now = svc.programme.now()
    docs = [
        {"ref": d.ref, "title": d.title, "version": d.current.number if d.current else None}
        for d in _now_docs(now)
    ]
    return jsonify(outline=svc.programme.outline(), now=now, rollcall=svc.rollcalls.latest(), docs=docs)


@bp.route("/programme/items", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def add_item():
    f = request.form
    try:
        services().programme.add_item(
            f.get("number", ""),
            f.get("session", ""),
            f.get("title", ""),
            f.get("description", ""),
            actor=_actor(),
        )
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(message=_("Agenda item added"))


@bp.route("/programme/items/<ref>", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def edit_item(ref: str):
    f = request.form
    try:
        services().programme.edit_item(
            ref,
            actor=_actor(),
            number=f.get("number"),
            title=f.get("title"),
            description=f.get("description"),
            session_code=f.get("session") or None,
        )
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(message=_("Agenda item saved"))


@bp.route("/programme/items/<ref>/delete", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def delete_item(ref: str):
    """Delete after a confirmation: the form asks first (a page naming the item); only its button, which
    sends ``confirmed=yes``, deletes."""
    if request.form.get("confirmed") != "yes":
        try:
            item = services().programme.item(ref)
        except ProgrammeError as exc:
            return _back(error=translate(exc.text))
        return render_template("programme/delete_confirm.html", item=item)
    try:
        services().programme.delete_item(ref, actor=_actor())
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(message=_("Agenda item deleted"))


@bp.route("/programme/items/<ref>/ballots/<action>", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def item_ballot(ref: str, action: str):
    """Put a ballot on the item (``link``, also moving it from another item) or take it off."""
    if action not in ("link", "unlink"):
        return _back(error=_("Unknown action"))
    ballot_id = int_param("ballot", lo=1, hi=MAX_ID, source=request.form)
    if ballot_id is None:
        return _back(error=_("Choose a ballot"))
    prog = services().programme
    try:
        if action == "unlink":
            prog.unlink_ballot(ref, ballot_id, actor=_actor())
            return _back(message=_("Ballot %(id)s taken off the agenda item", id=ballot_id))
        prog.link_ballot(ref, ballot_id, actor=_actor())
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(message=_("Ballot %(id)s put on the agenda item", id=ballot_id))


@bp.route("/programme/import", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def import_programme():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _back(error=_("Choose a programme file (TOML, CSV or XLSX)"))
    svc = services()
    try:
        result = import_file(
            svc.programme,
            upload.read(),
            Path(upload.filename).suffix,
            zone=svc.config.venue.timezone,
            actor=_actor(),
        )
    except ProgrammeImportError as exc:
        return _back(error=exc.translate(translate))
    return _back(
        message=_(
            "Imported %(items)s agenda items in %(sessions)s sessions",
            items=result["items"],
            sessions=result["sessions"],
        )
    )


@bp.route("/programme/now", methods=["POST"])
@requires(Perm.MOVE_AGENDA)
def move():
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) and body else request.form
    revision = int_param("revision", lo=-1, hi=MAX_ID, default=-1, source=body)
    try:
        state = services().programme.move(body.get("ref") or None, revision=revision, actor=_actor())
    except AgendaConflict as exc:
        return jsonify(error=translate(exc.text), now=exc.state), 409
    except ProgrammeError as exc:
        return jsonify(error=translate(exc.text)), 400
    return jsonify(now=state)


@bp.route("/programme/sessions/<code>/<action>", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def session_action(code: str, action: str):
    rc = services().rollcalls
    try:
        if action == "open":
            data = rc.open_session(code, actor=_actor())
            return _back(
                message=_(
                    "Session %(code)s opened: %(present)s of %(summoned)s present",
                    code=code,
                    present=data["present"],
                    summoned=data["summoned"],
                )
            )
        if action == "close":
            rc.close_session(code, actor=_actor())
            return _back(message=_("Session %(code)s closed", code=code))
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(error=_("Unknown session action"))


@bp.route("/programme/leave", methods=["POST"])
@requires(Perm.MANAGE_PROGRAMME)
def leave():
    f = request.form
    try:
        services().rollcalls.record_leave(
            f.get("delegate_id", "").strip(), f.get("session") or None, f.get("reason", ""), actor=_actor()
        )
    except ProgrammeError as exc:
        return _back(error=translate(exc.text))
    return _back(message=_("Leave of absence recorded"))


@bp.route("/projector")
@requires(Perm.VIEW_PROGRAMME)
def projector(hall: bool = False):
    svc = services()
    now = svc.programme.now()
    return render_template(
        "programme/projector.html", now=now, rollcall=svc.rollcalls.latest(), docs=_now_docs(now), hall=hall
    )
