"""Ballots on the controller page (``ballots`` blueprint): list, create, open/extend/close, re-poll,
live progress, results, projector view, CSV/JSON export and printable minutes.

Everyone logged in may read (``VIEW_BALLOTS``); only the chair and admins act (``MANAGE_BALLOTS``);
the guard checks roles and the CSRF token of every POST. The :class:`controller.voting.ballots.Ballots`
service and the keypad reader are the app's typed services (``Services.ballots``,
``Services.keypads``, built by ``create_app``); without a reader the page still works, but cannot
re-poll. Results are shown once a ballot is closed; while it is open the page and
the live feed carry only received/eligible counts, so a running total can never be watched as a
known delegate votes.
"""

from __future__ import annotations

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from controller.app import services
from controller.voting.ballots import BallotError, Ballots
from controller.voting.tables import BallotKind, BallotStatus, MajorityBase, MajorityRule
from controller.web.guard import Perm, requires

bp = Blueprint("ballots", __name__)


def service() -> Ballots:
    return services().ballots


def _reader():
    return services().keypads


def _actor() -> str:
    return f"user:{g.user.name}"


def _view(bid: int) -> dict:
    ballots = service()
    try:
        b = ballots.get(bid)
    except BallotError:
        abort(404)
    progress = ballots.progress(bid)
    result = b.result if b.status == BallotStatus.CLOSED else None
    return {"ballot": b, "progress": progress, "result": result}


def _back(bid: int, message: str = "", error: str = ""):
    return redirect(url_for("ballots.detail", bid=bid, message=message or None, error=error or None))


@bp.route("/ballots")
@requires(Perm.VIEW_BALLOTS)
def index():
    return render_template("ballots/index.html", ballots=service().list(), kinds=list(BallotKind),
                           rules=list(MajorityRule), bases=list(MajorityBase),
                           error=request.args.get("error", ""))


@bp.route("/ballots", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def create():
    f = request.form
    try:
        kind = BallotKind(f.get("kind", "motion"))
        options = [line.strip() for line in f.get("candidates", "").splitlines() if line.strip()]
        bid = service().create(
            f.get("title", ""), kind, options=options or None, seats=int(f.get("seats") or 1),
            secret=f.get("secret") == "on", allow_change=f.get("allow_change") == "on",
            rule=MajorityRule(f.get("rule", "simple")), base=MajorityBase(f.get("base", "cast")),
            actor=_actor())
    except (BallotError, ValueError) as exc:
        return redirect(url_for("ballots.index", error=str(exc)))
    return _back(bid, "ballot created (draft)")


@bp.route("/ballots/<int:bid>")
@requires(Perm.VIEW_BALLOTS)
def detail(bid: int):
    return render_template("ballots/detail.html", **_view(bid), has_reader=_reader() is not None,
                           message=request.args.get("message", ""), error=request.args.get("error", ""))


def _act(bid: int, action: str):
    ballots = service()
    try:
        if action == "open":
            minutes = request.form.get("minutes", type=float)
            ballots.open(bid, actor=_actor(), duration_s=round(minutes * 60) if minutes is not None else None,
                         allow_without_quorum=request.form.get("without_quorum") == "on")
            return _back(bid, "ballot open")
        if action == "extend":
            ballots.extend(bid, int(request.form.get("minutes", type=float, default=1) * 60), actor=_actor())
            return _back(bid, "voting time extended")
        if action == "close":
            ballots.close(bid, actor=_actor())
            return _back(bid, "ballot closed")
        reader = _reader()
        if reader is None:
            return _back(bid, error="no keypad base station is connected to this controller")
        missing = ballots.progress(bid)["not_heard"]
        reader.repoll(bid, missing)
        return _back(bid, f"re-poll sent to {len(missing)} keypads")
    except BallotError as exc:
        return _back(bid, error=str(exc))


@bp.route("/ballots/<int:bid>/open", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def open_(bid: int):
    return _act(bid, "open")


@bp.route("/ballots/<int:bid>/extend", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def extend(bid: int):
    return _act(bid, "extend")


@bp.route("/ballots/<int:bid>/close", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def close(bid: int):
    return _act(bid, "close")


@bp.route("/ballots/<int:bid>/repoll", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def repoll(bid: int):
    return _act(bid, "repoll")


@bp.route("/api/ballots/<int:bid>")
@requires(Perm.VIEW_BALLOTS)
def api(bid: int):
    v = _view(bid)
    b = v["ballot"]
    return jsonify(id=b.id, title=b.title, kind=b.kind.value, secret=b.secret, status=b.status.value,
                   options=b.options, seats=b.seats, progress=v["progress"], result=v["result"])


@bp.route("/ballots/<int:bid>/projector")
@requires(Perm.VIEW_BALLOTS)
def projector(bid: int):
    return render_template("ballots/projector.html", **_view(bid))


def _closed(bid: int) -> dict:
    v = _view(bid)
    if v["result"] is None:
        abort(Response("results exist once the ballot is closed", status=409, mimetype="text/plain"))
    return v


def _export_doc(v: dict) -> dict:
    b = v["ballot"]
    return {"ballot": b.id, "title": b.title, "kind": b.kind.value, "secret": b.secret,
            "opened_at": b.opened_at.isoformat() if b.opened_at else None,
            "closed_at": b.closed_at.isoformat() if b.closed_at else None,
            "present_at_open": b.present_at_open, "summoned_at_open": b.summoned_at_open,
            "eligible_at_open": b.eligible_at_open, "quorum_required": b.quorum_required,
            "result": v["result"]}


@bp.route("/ballots/<int:bid>/export.json")
@requires(Perm.VIEW_BALLOTS)
def export_json(bid: int):
    resp = jsonify(_export_doc(_closed(bid)))
    resp.headers["Content-Disposition"] = f"attachment; filename=ballot-{bid}.json"
    return resp


@bp.route("/ballots/<int:bid>/export.csv")
@requires(Perm.VIEW_BALLOTS)
def export_csv(bid: int):
    doc = _export_doc(_closed(bid))
    r = doc["result"]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["ballot", "title", "option", "votes", "elected"])
    for option, n in r["counts"].items():
        w.writerow([doc["ballot"], doc["title"], option, n, "yes" if option in r["elected"] else ""])
    for label, key in (("(valid ballots)", "valid"), ("(invalid ballots)", "invalid"), ("(blank)", "blank")):
        w.writerow([doc["ballot"], doc["title"], label, r[key], ""])
    outcome = ("passed" if r["passed"] else "rejected") if r["kind"] == "motion" else ", ".join(r["elected"])
    w.writerow([doc["ballot"], doc["title"], "(outcome)", outcome + (" — tie" if r["tie"] else ""), ""])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=ballot-{bid}.csv"})


@bp.route("/ballots/<int:bid>/minutes")
@requires(Perm.VIEW_BALLOTS)
def minutes(bid: int):
    return render_template("ballots/minutes.html", **_closed(bid))
