"""Feedback in the app and on the staff pages.

Delegates (``portal_feedback``, ``/p/api/...``): comment on a paragraph of a document they may read,
ask to speak on an item (and withdraw), send a written contribution (text or PDF) for an item,
answer surveys, and see the status of everything they sent.

Staff (``feedback_staff``): ``/portal/speakers`` — the chair's queue of requests to speak on the item
now on the agenda (or ``?item=``): order, give the floor, done (follows live); ``/portal/feedback`` —
comments, contributions and surveys, filtered by document, item and delegation, with a status per
entry and a CSV export (UTF-8 with BOM, formula-neutralised cells) of exactly what is shown.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from controller.app import services
from controller.documents.delegate_access import reader_for
from controller.portal.feedback import FeedbackRefused, csv_bytes
from controller.portal.tables import FeedbackStatus, SpeakStatus
from controller.web.guard import Perm, delegate_view, requires
from controller.web.i18n import format_when, translate
from controller.web.labels import label
from controller.web.portal.guard import blueprint, signed_in

bp = blueprint("portal_feedback", __name__, "/p/api")
staff = Blueprint("feedback_staff", __name__)


def _refused(exc: FeedbackRefused):
    return jsonify(error=translate(exc.text)), 400


def _reader():
    svc = services()
    key = svc.documents.key
    return reader_for(
        request, svc.db, key.public_key() if key else None, svc.config.venue.id, svc.documents.groups_of
    )


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@bp.route("/comments", methods=["POST"])
@delegate_view
@signed_in
def comment():
    d = request.get_json(silent=True) or {}
    try:
        cid = services().portal.feedback.comment(
            _reader(),
            str(d.get("document", "")),
            version=_int(d.get("version")),
            page=_int(d.get("page")),
            paragraph=_int(d.get("paragraph")),
            excerpt=str(d.get("excerpt", "")),
            text=str(d.get("text", "")),
        )
    except FeedbackRefused as exc:
        return _refused(exc)
    return jsonify(ok=True, id=cid), 201


@bp.route("/speak/<item_ref>")
@delegate_view
@signed_in
def my_speak(item_ref: str):
    return jsonify(request=services().portal.feedback.my_request(g.delegate.delegate_id, item_ref))


@bp.route("/speak/<item_ref>", methods=["POST"])
@delegate_view
@signed_in
def speak(item_ref: str):
    fb = services().portal.feedback
    try:
        if (request.get_json(silent=True) or {}).get("withdraw"):
            fb.withdraw_speak(g.delegate.delegate_id, item_ref)
        else:
            fb.request_to_speak(g.delegate.delegate_id, item_ref)
    except FeedbackRefused as exc:
        return _refused(exc)
    return jsonify(request=fb.my_request(g.delegate.delegate_id, item_ref))


@bp.route("/contributions", methods=["POST"])
@delegate_view
@signed_in
def contribute():
    f = request.form
    file = request.files.get("pdf")
    try:
        ref = services().portal.feedback.contribute(
            g.delegate.delegate_id,
            f.get("item", ""),
            title=f.get("title", ""),
            text=f.get("text", ""),
            pdf=file.read() if file and file.filename else None,
            filename=file.filename if file else "",
        )
    except FeedbackRefused as exc:
        return _refused(exc)
    return jsonify(ok=True, ref=ref), 201


@bp.route("/surveys/<int:survey_id>", methods=["POST"])
@delegate_view
@signed_in
def answer(survey_id: int):
    d = request.get_json(silent=True) or {}
    try:
        services().portal.feedback.answer_survey(
            g.delegate.delegate_id, survey_id, _int(d.get("choice"), -1), str(d.get("comment", ""))
        )
    except FeedbackRefused as exc:
        return _refused(exc)
    return jsonify(ok=True)


@bp.route("/feedback")
@delegate_view
@signed_in
def mine():
    fb, me = services().portal.feedback, g.delegate.delegate_id
    return jsonify(
        comments=[dict(c, created_at=c["created_at"].isoformat()) for c in fb.comments(delegate_id=me)],
        contributions=[
            {k: (v.isoformat() if k == "created_at" else v) for k, v in c.items() if k != "text"}
            for c in fb.contributions(delegate_id=me)
        ],
        surveys=[dict(s, created_at=s["created_at"].isoformat()) for s in fb.surveys(me) if s["open"]],
    )


# --- staff ------------------------------------------------------------------------------------------


def _actor() -> str:
    return f"user:{g.user.name}"


@staff.route("/portal/speakers")
@requires(Perm.VIEW_PROGRAMME)
def speakers():
    svc = services()
    item_ref = request.args.get("item") or (svc.programme.now().get("item") or {}).get("ref")
    items = [i for d in svc.programme.outline() for s in d["sessions"] for i in s["items"]]
    item = next((i for i in items if i["ref"] == item_ref), None)
    queue = svc.portal.feedback.queue(item_ref) if item else []
    return render_template("portal_staff/speakers.html", item=item, items=items, queue=queue)


@staff.route("/portal/speakers/<int:request_id>", methods=["POST"])
@requires(Perm.MOVE_AGENDA)
def speaker_action(request_id: int):
    fb = services().portal.feedback
    action = request.form.get("action", "")
    try:
        if action in ("up", "down"):
            fb.move(request_id, -1 if action == "up" else 1, actor=_actor())
            item_ref = request.form.get("item", "")
        elif action in ("speaking", "done", "withdrawn"):
            item_ref = fb.set_speaking(request_id, SpeakStatus(action), actor=_actor())
        else:
            abort(400)
    except FeedbackRefused:
        abort(404)
    return redirect(url_for("feedback_staff.speakers", item=item_ref or None))


def _filters() -> dict:
    a = request.args
    return {
        "kind": a.get("kind", "comments"),
        "document": a.get("document", ""),
        "item": a.get("item", ""),
        "delegation": a.get("delegation", ""),
    }


def _rows(f: dict) -> list[dict]:
    fb = services().portal.feedback
    if f["kind"] == "contributions":
        return fb.contributions(item_ref=f["item"] or None, delegation=f["delegation"] or None)
    if f["kind"] == "surveys":
        return fb.surveys()
    comments = fb.comments(document_ref=f["document"] or None, delegation=f["delegation"] or None)
    if f["item"]:
        svc = services()
        refs = {d.ref for d in svc.documents.documents(_reader()) if d.item_ref == f["item"]}
        comments = [c for c in comments if c["document_ref"] in refs]
    return comments


@staff.route("/portal/feedback")
@requires(Perm.VIEW_DELEGATES)
def feedback():
    svc = services()
    f = _filters()
    docs = [(d.ref, d.title) for d in svc.documents.documents(_reader())]
    items = [
        (i["ref"], f"{i['number']}. {i['title']}")
        for d in svc.programme.outline()
        for s in d["sessions"]
        for i in s["items"]
    ]
    return render_template(
        "portal_staff/feedback.html",
        f=f,
        rows=_rows(f),
        docs=docs,
        items=items,
        delegations=svc.portal.feedback.delegations(),
        statuses=list(FeedbackStatus),
    )


@staff.route("/portal/feedback.csv")
@requires(Perm.VIEW_DELEGATES)
def export():
    f = _filters()
    rows = _rows(f)
    st = lambda v: label("feedback_status", v)  # noqa: E731
    if f["kind"] == "contributions":
        header = [
            _("Item"),
            _("Delegate number"),
            _("Name"),
            _("Delegation"),
            _("Title"),
            _("Text"),
            _("File"),
            _("Status"),
            _("Sent"),
        ]
        body = [
            [
                r["item"],
                r["delegate_id"],
                r["name"],
                r["delegation"],
                r["title"],
                r["text"],
                r["filename"],
                st(r["status"]),
                format_when(r["created_at"]),
            ]
            for r in rows
        ]
    elif f["kind"] == "surveys":
        header = [_("Question"), _("Option"), _("Answers")]
        body = [[s["question"], o, n] for s in rows for o, n in zip(s["options"], s["counts"], strict=True)]
    else:
        header = [
            _("Document"),
            _("Version"),
            _("Page"),
            _("Paragraph"),
            _("Excerpt"),
            _("Delegate number"),
            _("Name"),
            _("Delegation"),
            _("Comment"),
            _("Status"),
            _("Sent"),
        ]
        body = [
            [
                r["document"],
                r["version"],
                r["page"],
                r["paragraph"],
                r["excerpt"],
                r["delegate_id"],
                r["name"],
                r["delegation"],
                r["text"],
                st(r["status"]),
                format_when(r["created_at"]),
            ]
            for r in rows
        ]
    return Response(
        csv_bytes(header, body),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=feedback-{f['kind']}.csv"},
    )


@staff.route("/portal/feedback/<what>/<ident>", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def set_status(what: str, ident: str):
    if what not in ("comment", "contribution"):
        abort(404)
    try:
        status = FeedbackStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    key = int(ident) if what == "comment" and ident.isdigit() else ident
    if not services().portal.feedback.set_status(what, key, status, actor=_actor()):
        abort(404)
    return redirect(request.form.get("back") or url_for("feedback_staff.feedback"))


@staff.route("/portal/contributions/<ref>.pdf")
@requires(Perm.VIEW_DELEGATES)
def contribution_pdf(ref: str):
    found = services().portal.feedback.contribution_pdf(ref)
    if found is None:
        abort(404)
    data, _name = found
    return Response(
        data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={ref}.pdf"}
    )


@staff.route("/portal/surveys", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def create_survey():
    f = request.form
    try:
        services().portal.feedback.create_survey(
            f.get("question", ""),
            f.get("options", "").splitlines(),
            item_ref=f.get("item") or None,
            actor=_actor(),
        )
    except FeedbackRefused as exc:
        return redirect(url_for("feedback_staff.feedback", kind="surveys", error=translate(exc.text)))
    return redirect(url_for("feedback_staff.feedback", kind="surveys"))


@staff.route("/portal/surveys/<int:survey_id>/close", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def close_survey(survey_id: int):
    services().portal.feedback.close_survey(survey_id, actor=_actor())
    return redirect(url_for("feedback_staff.feedback", kind="surveys"))
