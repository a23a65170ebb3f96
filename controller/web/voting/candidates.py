"""Candidate lists on the controller page (``candidates`` blueprint, ``/candidates``).

One list per body to elect. Its page shows the nominations in ballot order (keypad number, name,
status, who nominated, biography, photo) and, for the chair and admins (``MANAGE_BALLOTS``), the forms:
nominate (a name or a delegate, found by a search of the roster, ``/candidates/delegates?q=``, as the
page carries no roster; a biography of at most 2,000 characters, a photo checked by its content),
record an acceptance or a refusal, withdraw (on a confirmation page), the numbering (Vietnamese order of
given names or nomination order) and whether delegates may nominate through their app, *Put to the
congress* (the approval motion, :meth:`controller.voting.candidates.CandidateLists.approval_motion`) and,
once adopted, *Create election* (:meth:`~controller.voting.candidates.CandidateLists.election`), which
then is a ballot like any other. Everyone logged in reads (``VIEW_BALLOTS``). The service is
``Services.candidates``.

The ballot page of an election made from a list shows the list's biographies and photos, compactly,
through the template global ``candidate_panel(ballot)`` registered here (the projector keeps names
and numbers only).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from congress.i18n import M_
from controller.app import services
from controller.voting.ballots import BallotError
from controller.voting.candidate_photos import PhotoRefused
from controller.voting.candidates import MAX_BIOGRAPHY, CandidateLists, UnknownCandidate, motion_state
from controller.voting.tables import BallotForm, CandidateList, ListOrder, MajorityBase, MajorityRule
from controller.web.guard import Perm, requires
from controller.web.params import int_param

bp = Blueprint("candidates", __name__)


def service() -> CandidateLists:
    return services().candidates


def _actor() -> str:
    return f"user:{g.user.name}"


def _done_message(code: str) -> str:
    return {"created": _("candidate list created"), "nominated": _("nomination recorded"),
            "accepted": _("acceptance recorded"), "declined": _("refusal recorded"),
            "withdrawn": _("withdrawal recorded"), "photo": _("photo saved"),
            "biography": _("biography saved"), "settings": _("settings saved"),
            "motion": _("approval motion drafted: open it on its ballot page"),
            "election": _("election drafted: it is in the ballots list")}.get(code, "")


def nominators(rows) -> dict[str, str]:
    """``nominated_by`` -> what a person reads: a delegate's name, or the staff account."""
    from controller.storage.tables import Delegate

    ids = {r.nominated_by.removeprefix("delegate:") for r in rows if r.nominated_by.startswith("delegate:")}
    names = {}
    if ids:
        with services().db.session() as s:
            names = dict(s.execute(select(Delegate.id, Delegate.name).where(Delegate.id.in_(ids))).all())
    out = {}
    for r in rows:
        who = r.nominated_by
        if who.startswith("delegate:"):
            did = who.removeprefix("delegate:")
            out[who] = _("%(name)s (delegate, through the app)", name=names.get(did, did))
        else:
            out[who] = who.removeprefix("user:")
    return out


def _delegate_name(delegate_id: str) -> str | None:
    from controller.storage.tables import Delegate

    with services().db.session() as s:
        return s.scalar(select(Delegate.name).where(Delegate.id == delegate_id))


def _list_or_404(lid: int) -> CandidateList:
    try:
        return service().get_list(lid)
    except UnknownCandidate:
        abort(404)


def list_view(cl: CandidateList) -> dict:
    lists = service()
    numbered = lists.numbered(cl)
    motion = lists.motion(cl)
    return {"cl": cl, "rows": numbered, "who": nominators([n.candidate for n in numbered]),
            "motion": motion, "motion_state": motion_state(motion), "election": lists.election_of(cl),
            "fixed": lists.is_fixed(cl), "orders": list(ListOrder)}


def _render(lid: int, *, error=None, status: int = 200, form=None):
    cl = _list_or_404(lid)
    done = request.args.get("done", "")
    return render_template("candidates/list.html", **list_view(cl), message=_done_message(done),
                           error=error, form=form or {},
                           rules=list(MajorityRule), bases=list(MajorityBase), forms=list(BallotForm)), status


def _back(lid: int, done: str, anchor: str = ""):
    return redirect(url_for("candidates.page", lid=lid, done=done) + anchor)


@bp.route("/candidates")
@requires(Perm.VIEW_BALLOTS)
def index():
    return _index()


def _index(error=None, status: int = 200):
    lists = service()
    rows = []
    for cl in lists.lists():
        numbered = lists.numbered(cl)
        rows.append({"cl": cl, "accepted": sum(1 for n in numbered if n.number is not None),
                     "pending": sum(1 for n in numbered if n.candidate.status.value == "nominated"),
                     "motion_state": motion_state(lists.motion(cl)), "election": cl.election_id})
    return render_template("candidates/index.html", lists=rows, orders=list(ListOrder), error=error,
                           message=_done_message(request.args.get("done", ""))), status


@bp.route("/candidates", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def create():
    f = request.form
    try:
        numbering = ListOrder(f.get("numbering", ListOrder.VIETNAMESE.value))
    except ValueError:
        return _index(error=M_("choose the numbering from the list"), status=400)
    try:
        lid = service().create_list(f.get("name", ""), actor=_actor(), numbering=numbering)
    except BallotError as exc:
        return _index(error=exc.text, status=400)
    return _back(lid, "created")


@bp.route("/candidates/delegates")
@requires(Perm.MANAGE_BALLOTS)
def find_delegates():
    """The nominate form's search: delegates whose number, name or delegation contains ``q`` (tones
    aside), at most 10 (the page carries no roster: it stays small at thousands of delegates)."""
    from controller.delegates.roster import find_delegates as find

    return jsonify(delegates=find(services().db, request.args.get("q", "")))


@bp.route("/candidates/<int:lid>")
@requires(Perm.VIEW_BALLOTS)
def page(lid: int):
    return _render(lid)


@bp.route("/candidates/<int:lid>/settings", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def settings(lid: int):
    _list_or_404(lid)
    f = request.form
    try:
        numbering = ListOrder(f["numbering"]) if f.get("numbering") else None
    except ValueError:
        return _render(lid, error=M_("choose the numbering from the list"), status=400)
    try:
        service().configure(lid, actor=_actor(), numbering=numbering,
                            nominations_open=f.get("nominations_open") == "on")
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "settings")


def _photo_upload():
    """``(bytes, name as chosen)`` of the form's photo, or None when none was chosen."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    from controller.voting.candidate_photos import MAX_BYTES

    data = upload.stream.read(MAX_BYTES + 1)
    shown = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120] or "photo"
    return data, shown


@bp.route("/candidates/<int:lid>/nominate", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def nominate(lid: int):
    cl = _list_or_404(lid)
    f = request.form
    delegate_id = f.get("delegate", "").strip() or None
    name = f.get("name", "")
    if delegate_id:
        known = _delegate_name(delegate_id[:64])
        if known is None:
            return _render(lid, error=M_("there is no delegate %(id)s", id=delegate_id[:64]), status=400,
                           form=f)
        name = name.strip() or known
    photo = _photo_upload()
    lists = service()
    jpeg = None
    try:
        if photo is not None and lists.photos is not None:
            jpeg = lists.photos.prepare(*photo)  # refused before anything is written
        cid = lists.nominate(cl.name, name, actor=_actor(), delegate_id=delegate_id,
                             biography=f.get("biography", ""))
    except PhotoRefused as exc:
        return _render(lid, error=exc.text, status=400, form=f)
    except BallotError as exc:
        return _render(lid, error=exc.text, status=400, form=f)
    if jpeg is not None:
        lists.set_photo(cid, *photo, actor=_actor())
    return _back(lid, "nominated")


def _candidate_or_404(lid: int, cid: int):
    cl = _list_or_404(lid)
    try:
        c = service().get(cid)
    except UnknownCandidate:
        abort(404)
    if c.list_name != cl.name:
        abort(404)
    return cl, c


@bp.route("/candidates/<int:lid>/<int:cid>/answer", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def answer(lid: int, cid: int):
    _candidate_or_404(lid, cid)
    what = request.form.get("answer", "")
    if what not in ("accept", "decline"):
        return _render(lid, error=M_("the answer is accept or decline"), status=400)
    try:
        (service().accept if what == "accept" else service().decline)(cid, actor=_actor())
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "accepted" if what == "accept" else "declined")


@bp.route("/candidates/<int:lid>/<int:cid>/withdraw", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def withdraw(lid: int, cid: int):
    cl, c = _candidate_or_404(lid, cid)
    if request.form.get("confirmed") != "yes":
        return render_template("candidates/withdraw_confirm.html", cl=cl, c=c)
    try:
        service().withdraw(cid, actor=_actor())
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "withdrawn")


@bp.route("/candidates/<int:lid>/<int:cid>/biography", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def biography(lid: int, cid: int):
    _candidate_or_404(lid, cid)
    text = request.form.get("biography", "")
    if len(text.replace("\r\n", "\n").strip()) > MAX_BIOGRAPHY:
        return _render(lid, error=M_("a biography has at most 2,000 characters"), status=400)
    try:
        service().set_biography(cid, text, actor=_actor())
    except BallotError as exc:  # voting has begun
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "biography")


@bp.route("/candidates/<int:lid>/<int:cid>/photo", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def photo_upload(lid: int, cid: int):
    _candidate_or_404(lid, cid)
    photo = _photo_upload()
    if photo is None:
        return _render(lid, error=M_("choose a photo to upload"), status=400)
    try:
        service().set_photo(cid, *photo, actor=_actor())
    except PhotoRefused as exc:
        return _render(lid, error=exc.text, status=400)
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "photo")


@bp.route("/candidates/photo/<int:cid>")
@requires(Perm.VIEW_BALLOTS)
def photo(cid: int):
    try:
        data = service().photo(cid)
    except UnknownCandidate:
        abort(404)
    if data is None:
        abort(404)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})


@bp.route("/candidates/<int:lid>/motion", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def motion(lid: int):
    cl = _list_or_404(lid)
    title = request.form.get("title", "").strip() or _("Approval of the list of candidates for %(list)s",
                                                       list=cl.name)
    try:
        service().approval_motion(services().ballots, cl.name, title, actor=_actor())
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return _back(lid, "motion", "#congress")


@bp.route("/candidates/<int:lid>/election", methods=["POST"])
@requires(Perm.MANAGE_BALLOTS)
def election(lid: int):
    cl = _list_or_404(lid)
    f = request.form
    seats = int_param("seats", lo=1, hi=64, default=1, source=f)
    try:
        rule, base = MajorityRule(f.get("rule", "simple")), MajorityBase(f.get("base", "cast"))
        paper = BallotForm(f.get("form", "choose"))
        share = _share(f.get("share", "")) if rule == MajorityRule.SHARE else None
    except ValueError:
        return _render(lid, error=M_("choose the majority, its base and the ballot form from the lists; "
                                     "a share is a fraction such as 3/5"), status=400)
    secret = f.get("secrecy", "secret") == "secret"
    try:
        bid = service().election(services().ballots, cl.name, seats=seats, actor=_actor(), rule=rule,
                                 base=base, form=paper, share=share, secret=secret,
                                 allow_change=f.get("allow_change") == "on" and not secret,
                                 empty_invalid=f.get("empty_invalid") == "on")
    except BallotError as exc:
        return _render(lid, error=exc.text, status=409)
    return redirect(url_for("ballots.detail", bid=bid, done="created"))


def _share(text: str) -> tuple[int, int]:
    num, _sep, den = text.strip().partition("/")
    return int(num), int(den)


def candidate_panel(ballot) -> dict | None:
    """For the ballot page: the list an election was made from, its rows in the ballot's order."""
    lists = service()
    cl = lists.for_ballot(ballot)
    if cl is None:
        return None
    numbered = lists.numbered(cl)
    if ballot.kind.value == "motion":  # the list the motion puts to the congress, as numbered
        return {"cl": cl, "motion": True, "rows": [(n.number, n.candidate) for n in numbered if n.number]}
    by_name = {n.candidate.name: n.candidate for n in numbered}
    rows = [(i, by_name.get(name)) for i, name in enumerate(ballot.options, 1)]
    return {"cl": cl, "motion": False, "rows": [(i, c) for i, c in rows if c is not None]}


@bp.record_once
def _globals(state) -> None:
    state.app.jinja_env.globals["candidate_panel"] = candidate_panel
