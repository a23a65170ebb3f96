"""Delegates page: roster, CSV import and enrollment progress (``delegates`` blueprint).

The uploaded CSV is saved under ``<data_dir>/imports/`` and imported by
:func:`controller.delegates.roster.import_roster` in a background thread (``roster-import``, one at a
time: :class:`controller.delegates.import_job.RosterImports`);
photo paths in the CSV are taken relative to that folder, so photos are copied there beforehand. The
thread reports progress on the live bus (event ``enrollment``) and keeps the last report for
``/api/delegates/import``, which the page reads when the import ends: per-row errors are listed and
the good rows are in. ``/delegates/badges`` is the printable badge sheet (every delegate, or one
``?delegation=``), each badge a QR code signed with the controller key; printing it is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, url_for

from controller.app import services
from controller.delegates import roster as delegates
from controller.web.guard import Perm, requires

log = logging.getLogger(__name__)
bp = Blueprint("delegates", __name__)
IMPORTS = "imports"


def _job():
    return services().imports.current


@bp.route("/delegates")
@requires(Perm.VIEW_DELEGATES)
def page():
    svc = services()
    rows = delegates.list_delegates(svc.db)
    consenting = [d for d in rows if d["consent"]]
    enrolled = sum(1 for d in consenting if d["photos"] > 0)
    job = _job()
    return render_template(
        "delegates.html",
        rows=rows,
        enrolled=enrolled,
        consenting=len(consenting),
        job=job.state if job else None,
        error=request.args.get("error", "")[:300],
    )


@bp.route("/api/delegates")
@requires(Perm.VIEW_DELEGATES)
def api_list():
    return jsonify(delegates=delegates.list_delegates(services().db))


@bp.route("/api/delegates/import")
@requires(Perm.VIEW_DELEGATES)
def api_import_status():
    job = _job()
    return jsonify(job.state if job else {"running": False, "report": None})


@bp.route("/delegates/import", methods=["POST"])
@requires(Perm.MANAGE_DELEGATES)
def import_csv():
    svc = services()
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        return redirect(url_for("delegates.page", error="choose a CSV file to import"))
    if svc.imports.running:
        return redirect(url_for("delegates.page", error="an import is still running; wait for it to finish"))
    folder = Path(svc.config.data_dir) / IMPORTS
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"roster-{stamp}.csv"  # never the client's file name
    upload.save(path)
    if svc.imports.start(path, g.user.name) is None:  # another one started meanwhile
        return redirect(url_for("delegates.page", error="an import is still running; wait for it to finish"))
    return redirect(url_for("delegates.page"))


@bp.route("/delegates/badges")
@requires(Perm.PRINT_BADGES)
def badge_sheet():
    """The badge sheet as its own self-contained page (open it, print on A4)."""
    from congress import pki
    from congress.errors import PKIError
    from controller import audit
    from controller.delegates.badges import badges, render_sheet, sheet_csp

    svc = services()
    delegation = request.args.get("delegation", "").strip()[:120] or None
    key_file = Path(svc.config.ca_dir) / "controller-signing.key"
    try:
        key = pki.load_signing_key(key_file)
    except PKIError as exc:
        log.error("badge sheet refused: %s", exc)
        return Response(f"Badges cannot be signed: {exc.message}. The controller needs its signing key "
                        f"{key_file} (created by congress ca init).", 503, mimetype="text/plain")
    items = badges(svc.db, key, svc.config.venue.id, delegation=delegation)
    if delegation and not items:
        return Response(f"No delegates in delegation {delegation!r}.", 404, mimetype="text/plain")
    with svc.db.session() as s:
        audit.record(s, g.user.name, "badges.print", {"badges": len(items), "delegation": delegation})
    resp = Response(render_sheet(items, venue_name=svc.config.venue.name or svc.config.venue.id),
                    mimetype="text/html")
    resp.headers["Content-Security-Policy"] = sheet_csp()
    return resp
