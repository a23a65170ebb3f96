"""The counting committee on the controller page (``committee`` blueprint): paper ballots issued and
double-entered, the paper tally counted in, the head's confirmation, and the vote-count record PDF.

Reading is for everyone logged in (``VIEW_BALLOTS``); the committee's own actions are checked against
the committee (a member enters a tally with their own account; only the head confirms), and the
chair appoints the committee (``MANAGE_BALLOTS``). The services are
:class:`controller.voting.paper.PaperBallots` and :class:`controller.voting.committee.Committee`, thin
views over the app's ballots and database.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from congress.i18n import M_
from controller.app import services
from controller.record.count_record import count_record_pdf
from controller.record.text import Speech
from controller.voting.ballots import BallotError
from controller.voting.committee import Committee
from controller.voting.paper import PaperBallots, PaperReading
from controller.voting.tables import BallotStatus
from controller.web.guard import Perm, requires

bp = Blueprint("committee", __name__)


def speech() -> Speech:
    """The current request's language, venue zone and number format, for the record's writers."""
    from controller.web.i18n import format_number, format_when, language, zone_label

    return Speech(gettext=lambda s: _(s) if s else "", plural_fn=ngettext,
                  when=lambda v: format_when(v) if v else "", number=format_number, zone=zone_label(),
                  lang=language())


def _paper() -> PaperBallots:
    return PaperBallots(services().ballots)


def _committee() -> Committee:
    return Committee(services().db)


def _account() -> str:
    return g.user.name


def _member_or_chair() -> None:
    if not (_committee().is_member(_account()) or g.user.role.value in ("admin", "chair")):
        raise BallotError(M_("only the counting committee or the chair may do this"))


def _detail(bid: int, done: str = "", error=None, status: int = 302):
    if error is None:
        return redirect(url_for("ballots.detail", bid=bid, done=done or None) + "#committee")
    from controller.web.voting.ballots import _render_detail

    return _render_detail(bid, error=error, status=status)


@bp.route("/ballots/<int:bid>/paper/issue", methods=["POST"])
@requires(Perm.VIEW_BALLOTS)
def issue(bid: int):
    try:
        _member_or_chair()
        _paper().issue(bid, request.form.get("delegate", "").strip(), actor=f"user:{_account()}")
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=409)
    return _detail(bid, "issued")


@bp.route("/ballots/<int:bid>/paper/enter", methods=["POST"])
@requires(Perm.VIEW_BALLOTS)
def enter(bid: int):
    f = request.form
    try:
        if not _committee().is_member(_account()):
            raise BallotError(M_("only members of the counting committee enter a paper tally"))
        b = services().ballots.get(bid)
        if not b.secret:
            return _enter_named(bid)
        numbers = [int(f.get(k, "")) for k in ("collected", "invalid", "blank")]
        votes = [int(f.get(f"option-{i}", "")) for i in range(1, len(b.options) + 1)]
    except ValueError:
        return _detail(bid, error=M_("enter a number, 0 or more, for every option and every row"), status=400)
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=403)
    try:
        _paper().enter(bid, _account(), collected=numbers[0], invalid=numbers[1], blank=numbers[2],
                       votes=votes,
                       actor=f"user:{_account()}")
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=409)
    return _detail(bid, "entered")


def _enter_named(bid: int):
    """A named ballot's paper ballots as one counter read them: per delegate issued one, the options
    ticked (``marks-<delegate>``), ``spoilt-<delegate>`` and ``missing-<delegate>`` (not handed in)."""
    f = request.form
    paper = _paper()
    try:
        readings = {
            did: PaperReading(marks=tuple(int(m) for m in f.getlist(f"marks-{did}")),
                              spoilt=f.get(f"spoilt-{did}") == "on",
                              handed_in=f.get(f"missing-{did}") != "on")
            for did, _name in paper.state(bid).delegates
        }
    except ValueError:
        return _detail(bid, error=M_("a mark names no option of this ballot"), status=400)
    try:
        paper.enter_named(bid, _account(), readings, actor=f"user:{_account()}")
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=409)
    return _detail(bid, "entered")


@bp.route("/ballots/<int:bid>/paper/combine", methods=["POST"])
@requires(Perm.VIEW_BALLOTS)
def combine(bid: int):
    try:
        if not _committee().is_member(_account()):
            raise BallotError(M_("only members of the counting committee count the paper tally in"))
        _paper().combine(bid, actor=f"user:{_account()}")
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=409)
    _publish(bid)
    return _detail(bid, "combined")


@bp.route("/ballots/<int:bid>/confirm", methods=["POST"])
@requires(Perm.VIEW_BALLOTS)
def confirm(bid: int):
    try:
        _committee().confirm(bid, _account())
    except BallotError as exc:
        return _detail(bid, error=exc.text, status=403)
    _publish(bid)
    return _detail(bid, "confirmed")


def _publish(bid: int) -> None:
    from controller.live import EventKind

    bus = services().bus
    if bus is not None:
        bus.publish(EventKind.BALLOT, {"ballot": bid, "status": BallotStatus.CLOSED.value, "result": True})


@bp.route("/ballots/<int:bid>/count-record.pdf")
@requires(Perm.VIEW_BALLOTS)
def count_record(bid: int):
    try:
        b = services().ballots.get(bid)
    except BallotError:
        abort(404)
    if b.status != BallotStatus.CLOSED:
        abort(Response(_("the vote-count record exists once the ballot is closed"), status=409,
                       mimetype="text/plain"))
    venue = services().config.venue
    data = count_record_pdf(b, speech(), _committee().members(), venue=venue.name or venue.id,
                            paper_issued=_paper().state(bid).issued)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=count-record-{bid}.pdf"})


@bp.route("/committee")
@requires(Perm.VIEW_BALLOTS)
def page():
    return render_template("ballots/committee.html", members=_committee().members(),
                           done=request.args.get("done", ""), error=None)


@bp.route("/committee", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def appoint():
    """Members as lines ``account, name as printed``; the head's account; the motion that elected them."""
    f = request.form
    members = []
    for line in f.get("members", "").splitlines():
        account, _sep, name = line.partition(",")
        if account.strip():
            members.append((account.strip(), name.strip() or account.strip()))
    try:
        motion = int(f["motion"]) if f.get("motion", "").strip() else None
        _committee().appoint(members, f.get("head", "").strip(), actor=f"user:{_account()}", motion_id=motion)
    except ValueError:
        error = M_("the motion is a ballot number")
    except BallotError as exc:
        error = exc.text
    else:
        return redirect(url_for("committee.page", done="appointed"))
    return render_template("ballots/committee.html", members=_committee().members(), done="",
                           error=error), 400


@bp.route("/congress/minutes.pdf")
@requires(Perm.VIEW_BALLOTS)
def minutes_pdf():
    """The minutes of the whole congress (programme, attendance, every ballot and round, the candidate
    lists, exceptions)."""
    from controller.record.minutes import minutes_pdf as write

    venue = services().config.venue
    data = write(services().db, services().ballots, speech(), venue=venue.name or venue.id)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=congress-minutes.pdf"})


@bp.route("/congress/minutes")
@requires(Perm.VIEW_BALLOTS)
def minutes_page():
    """The same minutes as a page (for reading on a screen and for the archive)."""
    from controller.record.minutes import gather, round_text, steps_text

    say = speech()
    return render_template("ballots/congress_minutes.html", data=gather(services().db, services().ballots),
                           steps_text=lambda row: steps_text(say, row),
                           round_text=lambda r: round_text(say, r))
