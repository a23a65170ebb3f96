"""Delegates page: roster search and paging, import with a preview, edit, delete, face photo upload,
enrollment progress and the badge sheet (``delegates`` blueprint).

An uploaded roster (CSV or ``.xlsx``) is saved under ``<data_dir>/imports/`` with a name of our own, and
first *previewed* (:func:`controller.delegates.roster.preview_roster`: new, changed and unchanged rows,
refused rows with their reasons, nothing written); "Apply" imports it in a background thread
(``roster-import``, one at a time: :class:`controller.delegates.import_job.RosterImports`), which reports
progress on the live bus (event ``enrollment``); the page also asks ``/api/delegates/import`` so a short
import that ends before the page follows the feed still shows as finished. Messages name the file as
the person chose it, never the server's path. Photo paths in a roster are taken relative to that
folder; a single photo can be uploaded from the browser on the delegate's row. Edits and deletions are
audited. ``/delegates/badges`` is the badge sheet as a paged PDF (every delegate, or one
``?delegation=``), each badge a QR code signed with the controller key; printing it is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request, url_for

from congress import vietnamese
from congress.errors import CongressError
from congress.i18n import M_, N_
from controller.app import services
from controller.delegates import roster as delegates
from controller.delegates.enrollment import IMPORTS_DIR
from controller.web.guard import Perm, requires
from controller.web.params import MAX_ID, int_param

log = logging.getLogger(__name__)
bp = Blueprint("delegates", __name__)
IMPORTS = IMPORTS_DIR  # shredded by purge-biometrics
PER_PAGE = 50
SUFFIXES = (".csv", ".xlsx")
_SAVED = re.compile(r"^roster-\d{8}T\d{12}\.(csv|xlsx)$")
#: Messages the page shows after a redirect (``?error=<code>``), translated there.
ERRORS = {
    "no-file": N_("choose a roster file (.csv or .xlsx) to import"),
    "running": N_("an import is still running; wait for it to finish"),
    "type": N_("only .csv and .xlsx roster files can be imported"),
    "gone": N_("this import was already applied or cancelled; upload the file again"),
    "no-photo": N_("choose a photo to upload"),
}
SORTS = {"delegation": N_("by delegation"), "name": N_("by family name"), "given": N_("by given name")}


def _job():
    return services().imports.current


def _page_rows(rows: list[dict], q: str, sort: str) -> list[dict]:
    if q:
        needle = vietnamese.fold(q)
        rows = [d for d in rows if needle in vietnamese.fold(" ".join(
            (d["id"], d["name"], d["delegation"], d["seat"] or "")))]
    if sort == "name":
        rows = sorted(rows, key=lambda d: vietnamese.sort_key(d["name"]))
    elif sort == "given":
        rows = sorted(rows, key=lambda d: vietnamese.sort_key(d["name"], given_first=True))
    return rows  # list_delegates already sorts by delegation, then name


def render_page(error: object = None, status: int = 200):
    svc = services()
    everyone = delegates.list_delegates(svc.db)
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "delegation")
    sort = sort if sort in SORTS else "delegation"
    found = _page_rows(everyone, q, sort)
    pages = max(1, -(-len(found) // PER_PAGE))
    page_no = min(int_param("page", lo=1, hi=MAX_ID, default=1, source=request.args), pages)
    consenting = [d for d in everyone if d["consent"]]
    job = _job()
    code = request.args.get("error", "")
    return render_template(
        "delegates.html",
        rows=found[(page_no - 1) * PER_PAGE : page_no * PER_PAGE],
        found=len(found),
        total=len(everyone),
        q=q,
        sort=sort,
        sorts=SORTS,
        page_no=page_no,
        pages=pages,
        enrolled=sum(1 for d in consenting if d["photos"] > 0),
        consenting=len(consenting),
        job=job.state if job else None,
        error=error or ERRORS.get(code),
        message=request.args.get("done", ""),
    ), status


@bp.route("/delegates")
@requires(Perm.VIEW_DELEGATES)
def page():
    return render_page()


@bp.route("/api/delegates")
@requires(Perm.VIEW_DELEGATES)
def api_list():
    return jsonify(delegates=delegates.list_delegates(services().db))


@bp.route("/api/delegates/import")
@requires(Perm.VIEW_DELEGATES)
def api_import_status():
    job = _job()
    return jsonify(job.as_json() if job else {"running": False, "report": None})


def _imports_folder() -> Path:
    folder = Path(services().config.data_dir) / IMPORTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shown_name(filename: str) -> str:
    """The upload's own name, for messages only (never used as a path)."""
    return vietnamese.nfc(Path(filename.replace("\\", "/")).name)[:120] or "roster"


@bp.route("/delegates/import", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def import_csv():
    """Save the upload and show what importing it would change (nothing is written yet)."""
    svc = services()
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        return redirect(url_for("delegates.page", error="no-file"))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return redirect(url_for("delegates.page", error="type"))
    if svc.imports.running:
        return redirect(url_for("delegates.page", error="running"))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    path = _imports_folder() / f"roster-{stamp}{suffix}"  # never the client's file name
    upload.save(path)
    shown = _shown_name(upload.filename)
    try:
        preview = delegates.preview_roster(svc.db, path, shown=shown, photo_root=path.parent)
    except delegates.RosterError as exc:
        path.unlink(missing_ok=True)
        return render_page(error=exc.text, status=400)
    return render_template("delegates_preview.html", preview=preview, saved=path.name)


def _saved_file() -> Path:
    name = request.form.get("saved", "")
    path = _imports_folder() / name
    if not _SAVED.match(name) or not path.is_file():
        abort(redirect(url_for("delegates.page", error="gone")))
    return path


@bp.route("/delegates/import/apply", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def import_apply():
    path = _saved_file()
    shown = _shown_name(request.form.get("shown", "")) or path.name
    if services().imports.start(path, g.user.name, shown) is None:
        return redirect(url_for("delegates.page", error="running"))
    return redirect(url_for("delegates.page"))


@bp.route("/delegates/import/cancel", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def import_cancel():
    _saved_file().unlink(missing_ok=True)
    return redirect(url_for("delegates.page"))


def _delegate_or_404(delegate_id: str) -> dict:
    for d in delegates.list_delegates(services().db):
        if d["id"] == delegate_id:
            return d
    abort(404)


@bp.route("/delegates/<delegate_id>/edit", methods=["GET", "POST"])
@requires(Perm.MANAGE_DELEGATES)
def edit(delegate_id: str):
    svc = services()
    d = _delegate_or_404(delegate_id)
    error = None
    if request.method == "POST":
        f = request.form
        try:
            delegates.update_delegate(
                svc.db, delegate_id, actor=g.user.name, enroller=svc.enroller,
                name=f.get("name", ""), delegation=f.get("delegation", ""),
                seat=f.get("seat", "").strip() or None,
                consent=f.get("consent") == "yes", summoned=f.get("summoned") == "yes",
            )
            return redirect(url_for("delegates.page", q=delegate_id, done="saved"))
        except CongressError as exc:
            error = exc.message
    return render_template("delegate_edit.html", d=d, error=error), 400 if error else 200


@bp.route("/delegates/<delegate_id>/delete", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def delete(delegate_id: str):
    svc = services()
    _delegate_or_404(delegate_id)
    delegates.delete_delegate(svc.db, delegate_id, actor=g.user.name, enroller=svc.enroller)
    return redirect(url_for("delegates.page", done="deleted"))


@bp.route("/delegates/<delegate_id>/photo", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def photo(delegate_id: str):
    """Enroll one face photo uploaded from the browser (the delegate must have consented)."""
    from controller import audit
    from controller.delegates.enrollment import PhotoUnreadable

    svc = services()
    d = _delegate_or_404(delegate_id)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return redirect(url_for("delegates.page", q=delegate_id, error="no-photo"))
    def refuse(message: object):
        return render_template("delegate_edit.html", d=d, error=message), 400

    if not d["consent"]:
        return refuse(N_("this delegate has not consented to face recognition (badge only); "
                         "edit the delegate first"))
    data = upload.read()
    shown = _shown_name(upload.filename)
    try:
        image = svc.enroller.check_readable(data, shown)
    except PhotoUnreadable as exc:
        return refuse(exc.text)
    with svc.db.session() as s:
        result = svc.enroller.add_photo(s, delegate_id, data, shown, image)
        audit.record(s, g.user.name, "delegates.photo", {"delegate": delegate_id, "file": shown,
                                                          "enrolled": result.ok})
    if not result.ok:
        return refuse(M_("%(file)s: %(problem)s", file=shown, problem=result.advice or result.problem))
    return redirect(url_for("delegates.edit", delegate_id=delegate_id, done="photo") + "#photo")


@bp.route("/delegates/badges")
@requires(Perm.PRINT_BADGES)
def badge_sheet():
    """The badge sheet as a paged PDF (A4, ten badges a page, cut marks), in the page's language."""
    from congress import pki
    from congress.errors import PKIError
    from controller import audit
    from controller.delegates.badges import badges, sheet_pdf
    from controller.web.guard import error_page
    from controller.web.i18n import language

    svc = services()
    delegation = request.args.get("delegation", "").strip()[:120] or None
    key_file = Path(svc.config.ca_dir) / "controller-signing.key"
    try:
        key = pki.load_signing_key(key_file)
    except PKIError as exc:
        log.error("badge sheet refused: %s", exc)
        from flask_babel import gettext as _

        return error_page(503, _("Badges cannot be signed: the controller needs its signing key %(file)s "
                                 "(created by congress ca init).", file=key_file.name))
    items = badges(svc.db, key, svc.config.venue.id, delegation=delegation)
    if delegation and not items:
        from flask_babel import gettext as _

        return error_page(404, _("No delegates in delegation %(name)s.", name=delegation))
    with svc.db.session() as s:
        audit.record(s, g.user.name, "badges.print", {"badges": len(items), "delegation": delegation})
    pdf = sheet_pdf(items, venue_name=svc.config.venue.name or svc.config.venue.id, language=language())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="badges.pdf"'})
