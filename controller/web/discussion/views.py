"""The synthesis of what delegates said, on the controller page (``discussion`` blueprint).

* ``/discussion`` — every agenda item with its contributions and its newest synthesis;
* ``/discussion/<item>`` — the item: contributions (enter a file or pasted text, withdraw), runs
  (start, progress, cancel), and for a finished run its themes with how many delegates raised each,
  a filter by delegation, quotes linked to their sources, the draft editor with its versions and the
  approval that makes the draft a document of the item;
* ``/discussion/inputs/<ref>`` — one contribution's text, the quoted characters highlighted;
* ``/discussion/runs/<ref>.json`` — a run's progress (the item page polls it while a run is active).

Observers read (``VIEW_SYNTHESIS``); the secretariat (admins, technicians, the chair) enters, runs,
edits and approves (``MANAGE_SYNTHESIS``).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request, url_for

from congress.i18n import M_, Message
from controller.app import services
from controller.discussion.service import DiscussionError
from controller.storage.tables import Delegate
from controller.web.guard import Perm, requires

bp = Blueprint("discussion", __name__)

DONE = {
    "input": M_("Contribution entered"),
    "withdrawn": M_("Contribution withdrawn"),
    "started": M_("Synthesis started; this page shows its progress"),
    "cancelled": M_("Cancel requested"),
    "saved": M_("Draft saved as a new version"),
    "approved": M_("Draft approved: it is now a document of the agenda item"),
}


def _actor() -> str:
    return f"user:{g.user.name}"


def _int(name: str, default: int | None = None) -> int | None:
    raw = request.values.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if 0 <= value < 10**9 else default


@bp.route("/discussion")
@requires(Perm.VIEW_SYNTHESIS)
def index():
    return render_template("discussion/index.html", items=services().discussions.overview())


def _delegates() -> list[tuple[str, str, str]]:
    from congress.vietnamese import sort_key

    with services().db.session() as s:
        rows = [(d.id, d.name, d.delegation or "") for d in s.query(Delegate)]
    return sorted(rows, key=lambda r: sort_key(r[1]))


def _filtered(result: dict, delegation: str) -> list[dict]:
    """Themes with the number of distinct delegates who raised each: of one delegation, or of all."""
    themes = result.get("themes", [])
    if not delegation:
        return [dict(t, count=len(t["delegates"])) for t in themes]
    members = result["delegations"].get(delegation, set())
    out = []
    for t in themes:
        count = len(members.intersection(t["delegates"]))
        if count:
            out.append(dict(t, count=count, quotes=[q for q in t["quotes"] if q["delegation"] == delegation]))
    return out


@bp.route("/discussion/<item_ref>")
@requires(Perm.VIEW_SYNTHESIS)
def item(item_ref: str, error=None, status: int = 200):
    svc = services()
    d = svc.discussions
    try:
        view = svc.programme.item(item_ref)
    except Exception:
        abort(404)
    inputs = d.inputs(item_ref)
    fed = d.fed(item_ref)
    runs = d.runs(item_ref)
    chosen = request.args.get("run") or next((r.ref for r in runs if r.status == "done"), None)
    run = next((r for r in runs if r.ref == chosen), None)
    result = d.result(run.ref) if run is not None and run.status == "done" else None
    delegation = request.args.get("delegation", "")[:200]
    themes, delegations, drafts, intake = [], [], [], {}
    if result is not None:
        members: dict[str, set[str]] = {}
        by_input = {i.ref: i.delegation for i in inputs} | {f.source_id: f.delegation for f in fed}
        for r in result.get("intake", []):
            if r["source_id"] in by_input:
                members.setdefault(by_input[r["source_id"]], set()).add(r["delegate_id"])
            intake[r["source_id"]] = dict(r, text=Message(r["message"], r.get("params") or {}))
        result["delegations"] = members
        delegations = sorted(k for k in members if k)
        themes = _filtered(result, delegation if delegation in members else "")
        drafts = d.drafts(run.ref)
    done = DONE.get(request.args.get("done", ""))
    active = next((r for r in runs if r.active), None)
    return render_template(
        "discussion/item.html",
        item=view,
        inputs=inputs,
        fed=fed,
        runs=runs,
        run=run,
        result=result,
        themes=themes,
        intake=intake,
        delegations=delegations,
        delegation=delegation,
        drafts=drafts,
        active=active,
        delegates=_delegates(),
        message=done,
        error=error,
        names={i.delegate_id: i.speaker for i in inputs} | {f.delegate_id: f.name for f in fed},
    ), status


def _back(item_ref: str, done: str, **extra):
    return redirect(url_for("discussion.item", item_ref=item_ref, done=done, **extra))


@bp.route("/discussion/<item_ref>/inputs", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def add_input(item_ref: str):
    f = request.form
    upload = request.files.get("file")
    data = upload.read() if upload is not None and upload.filename else None
    try:
        services().discussions.add_input(
            item_ref,
            delegate_id=f.get("delegate", ""),
            kind=f.get("kind", "written"),
            data=data,
            text=f.get("text") if data is None else None,
            filename=upload.filename if data is not None else "",
            actor=_actor(),
        )
    except DiscussionError as exc:
        return item(item_ref, error=exc.text, status=400)
    return _back(item_ref, "input")


@bp.route("/discussion/inputs/<ref>/withdraw", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def withdraw_input(ref: str):
    d = services().discussions
    try:
        view = d.input(ref)
        d.withdraw_input(ref, actor=_actor())
    except DiscussionError:
        abort(404)
    return _back(view.item_ref, "withdrawn")


@bp.route("/discussion/inputs/<ref>")
@requires(Perm.VIEW_SYNTHESIS)
def source(ref: str):
    try:
        view = services().discussions.input(ref)
    except DiscussionError:
        abort(404)
    start, end = _int("start"), _int("end")
    text = view.text
    if start is None or end is None or not 0 <= start < end <= len(text):
        start = end = None
    parts = (text[:start], text[start:end], text[end:]) if start is not None else (text, "", "")
    place = ""
    if start is not None:
        for seg in view.segments:
            if seg["start"] <= start < seg["end"]:
                place = seg["label"]
                break
    return render_template(
        "discussion/source.html",
        view=view,
        parts=parts,
        place=place,
        item=services().programme.item(view.item_ref),
    )


@bp.route("/discussion/<item_ref>/portal/<path:source_id>")
@requires(Perm.VIEW_SYNTHESIS)
def portal_source(item_ref: str, source_id: str):
    """A contribution or comment from the delegates' portal, the quoted characters highlighted."""
    d = services().discussions
    try:
        item_view = services().programme.item(item_ref)
    except Exception:
        abort(404)
    record = d.fed_record(item_ref, source_id)
    if record is None:
        abort(404)
    start, end = _int("start"), _int("end")
    text = record.text
    if start is None or end is None or not 0 <= start < end <= len(text):
        start = end = None
    parts = (text[:start], text[start:end], text[end:]) if start is not None else (text, "", "")
    return render_template(
        "discussion/portal_source.html", record=record, parts=parts, place=d.place_of(record), item=item_view
    )


@bp.route("/discussion/<item_ref>/runs", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def start_run(item_ref: str):
    try:
        ref = services().discussions.start_run(item_ref, actor=_actor())
    except DiscussionError as exc:
        return item(item_ref, error=exc.text, status=400)
    return _back(item_ref, "started", run=ref)


def _run_or_404(ref: str):
    try:
        return services().discussions.run(ref)
    except DiscussionError:
        abort(404)


def _on_run(ref: str, change, done: str):
    """Apply ``change(discussions)`` to run ``ref``: back to its item with ``done``, or its refusal."""
    view = _run_or_404(ref)
    try:
        change(services().discussions)
    except DiscussionError as exc:
        return item(view.item_ref, error=exc.text, status=400)
    return _back(view.item_ref, done, run=ref)


@bp.route("/discussion/runs/<ref>/cancel", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def cancel_run(ref: str):
    return _on_run(ref, lambda d: d.cancel(ref, actor=_actor()), "cancelled")


@bp.route("/discussion/runs/<ref>.json")
@requires(Perm.VIEW_SYNTHESIS)
def run_json(ref: str):
    r = _run_or_404(ref)
    return jsonify(
        ref=r.ref,
        status=r.status,
        step=r.step,
        done=r.done,
        total=r.total,
        error=r.error,
        resumed=r.resumed,
        active=r.active,
    )


@bp.route("/discussion/runs/<ref>/drafts", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def save_draft(ref: str):
    text, note = request.form.get("text", ""), request.form.get("note", "")
    return _on_run(ref, lambda d: d.save_draft(ref, text, note=note, actor=_actor()), "saved")


@bp.route("/discussion/runs/<ref>/approve", methods=["POST"])
@requires(Perm.MANAGE_SYNTHESIS)
def approve(ref: str):
    number = _int("version")

    def change(d) -> None:
        if number is None:
            raise DiscussionError(M_("choose the version to approve"))
        d.approve(ref, number, actor=_actor())

    return _on_run(ref, change, "approved")


@bp.route("/discussion/runs/<ref>/drafts/<int:number>.txt")
@requires(Perm.VIEW_SYNTHESIS)
def draft_text(ref: str, number: int):
    try:
        drafts = services().discussions.drafts(ref)
    except DiscussionError:
        abort(404)
    found = next((x for x in drafts if x.number == number), None)
    if found is None:
        abort(404)
    return Response(
        found.text,
        mimetype="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="synthesis-{ref}-v{number}.txt"',
            "X-Content-Type-Options": "nosniff",
        },
    )
