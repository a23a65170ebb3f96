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

import datetime as dt
import math

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
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from congress.i18n import M_
from congress.vietnamese import nfc, sorted_names
from controller.app import services
from controller.exports import csv_response
from controller.storage.database import utcnow
from controller.voting import forms, rules
from controller.voting.ballots import BallotError, Ballots
from controller.voting.committee import Committee
from controller.voting.elections import Elections
from controller.voting.named_roll import CHANNEL_NAMES, STATE_NAMES, VoteState, roll_call
from controller.voting.paper import PaperBallots
from controller.voting.rebinds import Rebinds
from controller.voting.tables import BallotForm, BallotKind, BallotStatus, MajorityBase, MajorityRule
from controller.web.guard import Perm, requires

bp = Blueprint("ballots", __name__)


def remaining(closes_at) -> str:
    """Time left until ``closes_at`` (a datetime or ISO string) as ``m:ss`` or ``h:mm:ss``; the page's
    script counts it down each second."""
    if isinstance(closes_at, str):
        closes_at = dt.datetime.fromisoformat(closes_at)
    left = max(0, math.ceil((closes_at - utcnow()).total_seconds()))
    h, rest = divmod(left, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@bp.record_once
def _filters(state) -> None:
    state.app.jinja_env.filters["remaining"] = remaining


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
    if b.status == BallotStatus.OPEN:
        progress = progress | _hall_figures(ballots, b, progress["not_heard"])
    result = b.result if b.status == BallotStatus.CLOSED else None
    rule_text = rules.describe(result) if result else rules.describe_draft(
        b.kind.value, b.rule.value, b.base.value, b.share_num, b.share_den)
    counts_as = forms.explain(b.kind, b.form, b.seats, len(b.options), empty_invalid=b.empty_invalid)
    rounds = Elections(ballots).record(bid) if b.kind == BallotKind.ELECTION else None
    committee = Committee(ballots.db)
    account = g.user.name if g.get("user") else ""
    roll = None  # a closed named ballot's roll call with the votes (while open: progress["voted"])
    if not b.secret and b.status == BallotStatus.CLOSED:
        with ballots.db.session() as s:
            roll = roll_call(s, b)
    return {"ballot": b, "progress": progress, "result": result, "rule_text": rule_text, "roll": roll,
            "agenda_item": services().programme.item_of_ballot(bid),
            "counts_as": counts_as, "election": rounds, "paper": PaperBallots(ballots).state(bid),
            "committee": committee.members(), "is_member": committee.is_member(account) if account else False,
            "account": account, "keypad_exceptions": Rebinds(services().db).exceptions(bid),
            "names_max": NAMES_ON_SCREEN}


#: The projector lists who has not voted yet by name up to this many (and while the names fit its
#: screen, which ballots.js checks), else as counts per delegation.
NAMES_ON_SCREEN = 150


def _hall_figures(ballots: Ballots, b, not_heard: list[int]) -> dict:
    """Delegates present now and, for a named ballot (its votes are public), who has voted (on which
    channel: keypad or paper) and who has not voted yet: by name (Vietnamese order) and as counts per
    delegation (``not_voted_groups``, the most first), which the projector shows when the names do not
    fit its screen. A secret ballot names nobody here."""
    from controller.checkins.attendance import present_ids
    from controller.storage.tables import Delegate
    from controller.voting.ballots import eligible_keypads

    with ballots.db.session() as s:
        present = len(present_ids(s))
        if b.secret:
            return {"present": present}
        holders = eligible_keypads(s)
        waiting = [holders[k] for k in not_heard if k in holders]
        rows = s.execute(select(Delegate.id, Delegate.name, Delegate.delegation)
                         .where(Delegate.id.in_(waiting))).all()
        voted = [{"name": e.name, "channel": e.channel.value} for e in roll_call(s, b, with_votes=False)]
    known = {d: (name, delegation or "") for d, name, delegation in rows}
    groups: dict[str, int] = {}
    for d in waiting:
        group = known.get(d, (d, ""))[1]
        groups[group] = groups.get(group, 0) + 1
    order = {g: i for i, g in enumerate(sorted_names(groups))}
    return {"present": present, "not_voted": sorted_names(known.get(d, (d, ""))[0] for d in waiting),
            "not_voted_groups": [{"group": g, "count": n}
                                 for g, n in sorted(groups.items(), key=lambda t: (-t[1], order[t[0]]))],
            "voted": voted}


def _done_message(code: str, n: int) -> str:
    """What the page says after a redirect: a code in the address, the text from the catalogue."""
    if code == "repolled":
        return ngettext("re-poll sent to %(num)d keypad", "re-poll sent to %(num)d keypads", n)
    texts = {"created": _("ballot created (draft)"), "opened": _("ballot open"),
             "extended": _("voting time extended"), "closed": _("ballot closed"),
             "rebind_confirmed": _("The keypad binding was confirmed."),
             "rebind_rejected": _("The keypad binding was refused."),
             "issued": _("paper ballot issued"), "entered": _("paper tally entered"),
             "combined": _("paper tally counted in"), "confirmed": _("result confirmed")}
    return texts.get(code, "")


def _back(bid: int, done: str, n: int | None = None):
    return redirect(url_for("ballots.detail", bid=bid, done=done, n=n))


def _render_detail(bid: int, *, error=None, status: int = 200):
    done = request.args.get("done", "")
    # A stale notice ("ballot open" after the ballot closed) is never shown: it must match the state.
    fits = {"opened": "open", "extended": "open", "closed": "closed", "created": "draft", "repolled": "open",
            "issued": "open", "entered": "closed", "combined": "closed", "confirmed": "closed"}
    view = _view(bid)
    fits.update(rebind_confirmed=view["ballot"].status.value, rebind_rejected=view["ballot"].status.value)
    message = _done_message(done, request.args.get("n", 0, type=int)) \
        if fits.get(done) == view["ballot"].status.value else ""
    return render_template("ballots/detail.html", **view, has_reader=_reader() is not None,
                           pending_rebinds=Rebinds(services().db).pending(),
                           message=message, error=error), status


def _index(error=None, status: int = 200, form=None):
    return render_template("ballots/index.html", ballots=service().list(), kinds=list(BallotKind),
                           rules=list(MajorityRule), bases=list(MajorityBase), forms=list(BallotForm),
                           error=error, form=form or {}), status


@bp.route("/ballots")
@requires(Perm.VIEW_BALLOTS)
def index():
    return _index()


@bp.route("/ballots/rows")
@requires(Perm.VIEW_BALLOTS)
def rows():
    """The list's rows alone: the page's script swaps them in when a ballot is created, opened or closed."""
    return render_template("ballots/_rows.html", ballots=service().list())


def _secret(form) -> bool:
    """``secrecy=secret|named`` (one radio group: a ballot is one or the other); ``secret=on`` is the
    older form field."""
    return form.get("secrecy", "secret" if form.get("secret") == "on" else "named") == "secret"


@bp.route("/ballots", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def create():
    f = request.form
    try:
        kind = BallotKind(f.get("kind", "motion"))
        rule, base = MajorityRule(f.get("rule", "simple")), MajorityBase(f.get("base", "cast"))
        paper = BallotForm(f.get("form", "choose"))
        seats = int(f.get("seats") or 1)
        share = _share(f.get("share", "")) if rule == MajorityRule.SHARE else None
    except ValueError:
        return _index(error=M_("choose the kind, the majority and its base from the lists; seats is a "
                               "number and a share a fraction such as 3/5"), status=400, form=f)
    options = [nfc(line) for line in f.get("candidates", "").splitlines() if line.strip()]
    if f.get("order") == "vietnamese":  # as Vietnamese lists are: by given name, Vietnamese collation
        options = sorted_names(options, given_first=True)
    secret = _secret(f)
    try:
        bid = service().create(
            f.get("title", ""), kind, options=options or None, seats=seats, secret=secret,
            allow_change=f.get("allow_change") == "on" and not secret, rule=rule, base=base, form=paper,
            share=share, empty_invalid=f.get("empty_invalid") == "on", actor=_actor())
    except BallotError as exc:
        return _index(error=exc.text, status=400, form=f)
    return _back(bid, "created")


def _share(text: str) -> tuple[int, int]:
    """``3/5`` -> (3, 5); a ValueError for anything else."""
    num, _, den = text.strip().partition("/")
    return int(num), int(den)


@bp.route("/ballots/<int:bid>/next-round", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def next_round(bid: int):
    """Draft the further round a tie or an unfilled seat calls for (the chair may narrow it)."""
    f = request.form
    try:
        seats = int(f["seats"]) if f.get("seats") else None
        new = Elections(service()).prepare_round(bid, actor=_actor(), seats=seats,
                                                 candidates=f.getlist("candidate") or None)
    except ValueError:
        return _render_detail(bid, error=M_("seats is a number"), status=400)
    except BallotError as exc:
        return _render_detail(bid, error=exc.text, status=409)
    return _back(new, "created")


@bp.route("/ballots/<int:bid>")
@requires(Perm.VIEW_BALLOTS)
def detail(bid: int):
    return _render_detail(bid)


class _BadField(BallotError):
    """A form field that is not what it must be (answered 400, not 409)."""


def _minutes_field(name: str, default: float | None = None) -> float | None:
    """A number of minutes from the form; ``nan``, ``inf`` and the like are refused."""
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 7 * 24 * 60:  # also false for nan
        raise _BadField(M_("the voting time is a number of minutes, more than 0 and at most a week"))
    return value


def _act(bid: int, action: str):
    ballots = service()
    try:
        if action == "open":
            minutes = _minutes_field("minutes")
            ballots.open(bid, actor=_actor(), duration_s=round(minutes * 60) if minutes is not None else None,
                         allow_without_quorum=request.form.get("without_quorum") == "on")
            return _back(bid, "opened")
        if action == "extend":
            ballots.extend(bid, round(_minutes_field("minutes", 1.0) * 60), actor=_actor())
            return _back(bid, "extended")
        if action == "close":
            if request.form.get("confirmed") != "yes":  # the chair confirms on a page of its own
                return render_template("ballots/close_confirm.html", **_view(bid))
            ballots.close(bid, actor=_actor())
            return _back(bid, "closed")
        reader = _reader()
        if reader is None:
            return _render_detail(bid, error=M_("no keypad base station is connected to this controller"),
                                  status=409)
        missing = ballots.progress(bid)["not_heard"]
        reader.repoll(bid, missing)
        return _back(bid, "repolled", len(missing))
    except _BadField as exc:
        return _render_detail(bid, error=exc.text, status=400)
    except BallotError as exc:
        return _render_detail(bid, error=exc.text, status=409)


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


#: After a ballot closes the hall screen keeps its result this long, unless the agenda moves on.
RESULT_ON_SCREEN_S = 30 * 60


@bp.route("/hall")
@requires(Perm.VIEW_BALLOTS)
def hall():
    """The hall screen's one address: the open ballot; else the result of the ballot that just closed (until
    the agenda moves on, at most half an hour); else what is on the agenda now."""
    ballots = service()
    current = ballots.current()
    if current is None:
        closed = [b for b in ballots.list() if b.status == BallotStatus.CLOSED and b.closed_at]
        latest = max(closed, key=lambda b: b.closed_at, default=None)
        moved = (services().programme.now() or {}).get("moved_at")
        if latest is not None and (utcnow() - latest.closed_at).total_seconds() < RESULT_ON_SCREEN_S \
                and not (moved and dt.datetime.fromisoformat(moved) > latest.closed_at):
            current = latest
    if current is not None:
        return render_template("ballots/projector.html", **_view(current.id), hall=True)
    from controller.web.programme.views import projector as agenda_projector

    return agenda_projector(hall=True)


@bp.route("/api/ballots/<int:bid>")
@requires(Perm.VIEW_BALLOTS)
def api(bid: int):
    v = _view(bid)
    b = v["ballot"]
    roll = [e.as_dict() for e in v["roll"]] if v["roll"] is not None else None
    return jsonify(id=b.id, title=b.title, kind=b.kind.value, secret=b.secret, status=b.status.value,
                   options=b.options, seats=b.seats, progress=v["progress"], result=v["result"],
                   roll_call=roll)


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
            "result": v["result"],
            "roll_call": [e.as_dict() for e in v["roll"]] if v["roll"] is not None else None}


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
    rows = [[doc["ballot"], doc["title"], option, n, "yes" if option in r["elected"] else ""]
            for option, n in r["counts"].items()]
    for label, key in (("(valid ballots)", "valid"), ("(invalid ballots)", "invalid"), ("(blank)", "blank")):
        rows.append([doc["ballot"], doc["title"], label, r[key], ""])
    outcome = ("passed" if r["passed"] else "rejected") if r["kind"] == "motion" else ", ".join(r["elected"])
    rows.append([doc["ballot"], doc["title"], "(outcome)", outcome + (" — tie" if r["tie"] else ""), ""])
    return csv_response(f"ballot-{bid}.csv", ["ballot", "title", "option", "votes", "elected"], rows)


def vote_text(entry, kind: BallotKind) -> str:
    """A roll-call line's vote in the page's language: the options, invalid, blank, or why none is shown."""
    if entry.state != VoteState.VOTED:
        return _(STATE_NAMES[entry.state])
    if entry.invalid:
        return _("invalid")
    if not entry.choices:
        return _("blank")
    return ", ".join(_(c) if kind == BallotKind.MOTION else c for c in entry.choices)


@bp.record_once
def _roll_helpers(state) -> None:
    state.app.jinja_env.globals["vote_text"] = vote_text
    state.app.jinja_env.globals["channel_name"] = lambda channel: _(CHANNEL_NAMES[channel])


@bp.route("/ballots/<int:bid>/roll-call.csv")
@requires(Perm.VIEW_BALLOTS)
def export_roll_call(bid: int):
    """A closed named ballot's roll call: every voter, the channel and the vote."""
    v = _closed(bid)
    if v["roll"] is None:
        abort(Response("a secret ballot has no roll call", status=409, mimetype="text/plain"))
    b = v["ballot"]
    def vote(e) -> str:
        if e.state != VoteState.VOTED:
            return f"({e.state.value})"
        return "(invalid)" if e.invalid else "; ".join(e.choices) or "(blank)"

    rows = [[b.id, e.delegate_id, e.name, e.channel.value, vote(e)] for e in v["roll"]]
    head = ["ballot", "delegate", "name", "channel", "vote"]
    return csv_response(f"ballot-{bid}-roll-call.csv", head, rows)


@bp.route("/ballots/<int:bid>/minutes")
@requires(Perm.VIEW_BALLOTS)
def minutes(bid: int):
    return render_template("ballots/minutes.html", **_closed(bid))
