"""Documents on the controller page (``documents`` blueprint), and the delegate-facing fetch.

Staff pages (logged in):

* ``/documents`` — the library: upload (with a progress bar), every document with its level, versions
  and how many have opened it; ``/documents/<ref>`` — versions with change notes, who opened which
  version, pages printed and not printed, new version, withdraw; ``/documents/qr-sheet.pdf``.

Delegate-facing (the portal's endpoints; reachable without a staff login, every request checked by
:meth:`controller.documents.library.Library.copy` for the reader of
:meth:`controller.documents.delegate_access.DelegateAccess.reader_from`, the same rule as the tablet
front's, :mod:`controller.front`):

* ``GET /d`` — JSON list of the documents the reader may see;
* ``GET /d/<ref>`` — JSON: the document and its versions;
* ``GET /d/<ref>/file`` and ``/d/<ref>/v/<n>/file`` — the reader's watermarked copy (byte ranges);
* ``GET /q/<token>`` — where a printed QR code leads: genuine or not, current or superseded.

Anything a reader may not have answers 404, like a reference that does not exist.
"""

from __future__ import annotations

import logging
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from congress.errors import ProtocolError
from controller.app import services
from controller.documents.access import Level, Reader
from controller.documents.delegate_access import credentials_from
from controller.documents.library import DocumentError, DocView, NotFound
from controller.documents.pdfcheck import REFUSAL_TEXT, DocumentRefused
from controller.documents.serving import copy_response
from controller.documents.tables import DocumentKind
from controller.web.guard import Perm, public, requires
from controller.web.i18n import translate

bp = Blueprint("documents", __name__)
log = logging.getLogger(__name__)


#: What a form with one PDF may carry besides the file (its other fields, the multipart framing).
_FORM_OVERHEAD = 1024 * 1024


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    """An upload of a document may be as large as ``[documents] max_mb`` (50 MB by default), not the
    page's general limit (16 MiB). Set here because Flask runs these before every ``before_request``,
    and the staff guard's CSRF check reads the form of a request without the token header."""
    if endpoint in ("documents.upload", "documents.new_version") and request.method == "POST":
        limit = services().config.documents.max_mb * 1024 * 1024 + _FORM_OVERHEAD
        request.max_content_length = max(limit, current_app.config["MAX_CONTENT_LENGTH"] or 0)


def _actor() -> str:
    return f"user:{g.user.name}"


def _reader() -> Reader:
    return services().documents.access.reader_from(
        user=g.get("user"), **credentials_from(request.headers, request.cookies)
    )


def _doc_json(d: DocView) -> dict:
    return {
        "ref": d.ref,
        "title": d.title,
        "kind": d.kind.value,
        "level": d.level.value,
        "group": d.group,
        "item": {"ref": d.item_ref, "number": d.item_number, "title": d.item_title} if d.item_ref else None,
        "withdrawn": d.withdrawn,
        "paper_only": d.level is Level.CONFIDENTIAL,
        "versions": [
            {
                "number": v.number,
                "note": v.note,
                "pages": v.pages,
                "size": v.size,
                "uploaded_at": v.uploaded_at.isoformat(),
                "has_file": v.has_file,
            }
            for v in d.versions
        ],
        "file": url_for("documents.file", ref=d.ref) if d.level is not Level.CONFIDENTIAL else None,
    }


# --- staff ------------------------------------------------------------------------------------------


@bp.route("/documents")
@requires(Perm.VIEW_DOCUMENTS)
def index():
    svc = services()
    docs = svc.documents.documents(_reader())
    stats = {d.ref: svc.documents.stats(d.ref) for d in docs} if g.user and _reader().secretariat else {}
    items = [
        (i["ref"], f"{i['number']}. {i['title']}")
        for day in svc.programme.outline()
        for sess in day["sessions"]
        for i in sess["items"]
    ]
    return render_template(
        "documents/index.html",
        docs=docs,
        stats=stats,
        items=items,
        levels=list(Level),
        kinds=list(DocumentKind),
        groups=svc.documents.groups(),
        message=request.args.get("message", ""),
        error=request.args.get("error", ""),
    )


def refusal_text(exc: DocumentRefused) -> str:
    """The refusal in the page's language: what is wrong and what to do. The checker's technical detail
    (English, from the PDF library) goes to the log for the technician, not onto the page."""
    log.warning("document refused (%s): %s", exc.reason.value, exc.message[:300])
    return _(REFUSAL_TEXT[exc.reason])


def _upload_error(message: str, reason: str = "refused", status: int = 400):
    if "application/json" in request.headers.get("Accept", ""):
        return jsonify(error=message, reason=reason), status
    return redirect(url_for("documents.index", error=message))


@bp.route("/documents", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def upload():
    f = request.form
    file = request.files.get("file")
    if f.get("level") == Level.GROUP.value and not f.get("group"):
        return _upload_error(_("Choose the group that may read it (create one under Named groups)"))
    data = file.read() if file and file.filename else None
    try:
        ref = services().documents.add(
            f.get("title", ""),
            kind=DocumentKind(f.get("kind", "other")),
            level=Level(f.get("level", "delegates")),
            group=f.get("group") or None,
            item_ref=f.get("item") or None,
            data=data,
            filename=file.filename if file else "",
            note=f.get("note", ""),
            actor=_actor(),
        )
    except DocumentRefused as exc:
        return _upload_error(refusal_text(exc), exc.reason.value, 422)
    except DocumentError as exc:
        return _upload_error(translate(exc.text))
    except ValueError:
        return _upload_error(_("the form was incomplete or out of date; reload the page and try again"))
    if "application/json" in request.headers.get("Accept", ""):
        return jsonify(ref=ref, url=url_for("documents.detail", ref=ref)), 201
    return redirect(url_for("documents.detail", ref=ref))


@bp.route("/documents/groups", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def group():
    """Create a named group or set its members (the delegate ids, separated by commas, spaces or lines)."""
    f = request.form
    name = f.get("name", "").strip()
    members = [m for m in re.split(r"[\s,;]+", f.get("members", "")) if m]
    try:
        services().documents.set_group(name, f.get("title", "").strip() or name, members, actor=_actor())
    except DocumentError as exc:
        return redirect(url_for("documents.index", error=translate(exc.text)) + "#groups")
    return redirect(
        url_for("documents.index", message=ngettext("Group %(name)s: %(num)d member",
                                                    "Group %(name)s: %(num)d members", len(set(members)),
                                                    name=name)) + "#groups"
    )


@bp.route("/documents/<ref>")
@requires(Perm.VIEW_DOCUMENTS)
def detail(ref: str):
    svc = services()
    try:
        doc = svc.documents.get(ref, _reader())
    except NotFound:
        abort(404)
    stats = svc.documents.stats(ref) if _reader().secretariat else None
    return render_template(
        "documents/detail.html",
        doc=doc,
        stats=stats,
        message=request.args.get("message", ""),
        error=request.args.get("error", ""),
    )


@bp.route("/documents/<ref>/versions", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def new_version(ref: str):
    file = request.files.get("file")
    try:
        n = services().documents.add_version(
            ref,
            file.read() if file and file.filename else None,
            filename=file.filename if file else "",
            note=request.form.get("note", ""),
            actor=_actor(),
        )
    except NotFound:
        abort(404)
    except DocumentRefused as exc:
        return redirect(url_for("documents.detail", ref=ref, error=refusal_text(exc)))
    except DocumentError as exc:
        return redirect(url_for("documents.detail", ref=ref, error=translate(exc.text)))
    return redirect(
        url_for("documents.detail", ref=ref, message=_("Version %(number)s is now current", number=n))
    )


@bp.route("/documents/<ref>/withdraw", methods=["POST"])
@requires(Perm.MANAGE_DOCUMENTS)
def withdraw(ref: str):
    """Withdraw after a confirmation: the form asks first (a page naming the document and what follows);
    only its button, which sends ``confirmed=yes``, withdraws."""
    if request.form.get("confirmed") != "yes":
        try:
            doc = services().documents.get(ref, _reader())
        except NotFound:
            abort(404)
        if doc.withdrawn:
            return redirect(url_for("documents.detail", ref=ref))
        return render_template("documents/withdraw_confirm.html", doc=doc)
    try:
        services().documents.withdraw(ref, actor=_actor())
    except NotFound:
        abort(404)
    return redirect(url_for("documents.detail", ref=ref, message=_("Withdrawn: nobody receives it any more")))


@bp.route("/documents/qr-sheet.pdf")
@requires(Perm.VIEW_DOCUMENTS)
def qr_sheet():
    svc = services()
    pdf = svc.documents.qr_sheet(svc.config.venue.name or svc.config.venue.id, gettext=_)
    return Response(
        pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=qr-sheet.pdf"}
    )


# --- delegate-facing --------------------------------------------------------------------------------


@bp.route("/d")
@public
def list_for_reader():
    return jsonify(documents=[_doc_json(d) for d in services().documents.documents(_reader())])


@bp.route("/d/<ref>")
@public
def meta(ref: str):
    try:
        return jsonify(_doc_json(services().documents.get(ref, _reader())))
    except NotFound as exc:
        return jsonify(error=translate(exc.text)), 404


@bp.route("/d/<ref>/file")
@bp.route("/d/<ref>/v/<int:version>/file")
@public
def file(ref: str, version: int | None = None):
    reader = _reader()
    # A range request that does not start at 0 is pdf.js fetching more of a copy already opened.
    rng = request.headers.get("Range", "")
    first = not rng or rng.replace(" ", "").startswith("bytes=0-")
    try:
        copy, filename, copy_id = services().documents.copy(reader, ref, version, record=first)
    except NotFound as exc:
        return jsonify(error=translate(exc.text)), 404
    return copy_response(copy, request, filename, copy_id)


@bp.route("/q/<path:token>")
@public
def code(token: str):
    svc = services()
    try:
        found = svc.documents.resolve_code(token)
    except ProtocolError as exc:
        return render_template("documents/code.html", problem=exc.text, found=None), 400
    except DocumentError as exc:
        return render_template("documents/code.html", problem=translate(exc.text), found=None), 503
    return render_template("documents/code.html", problem=None, found=found)
