"""Candidate lists in the delegates' app (``portal_candidates``, ``/p/api/candidates...``, JSON).

Every signed-in delegate reads each list as the ballot numbers it (accepted candidates with their
biography and photo) and their own business on it: the nominations they made and those naming them.
While a list is open for nominations (staff page, and not yet put to the congress) a delegate nominates
a delegate, themselves included; the nomination is audited with the delegate as nominator
(``delegate:<id>``) and shows on the staff page. Only the delegate named answers it (accept or
decline) from their own app; anyone else asking is refused (403). Pending, declined and withdrawn
nominations are shown to the two delegates concerned only. The nominee may write their own biography
and upload their own photo until voting on the list begins (the photo checked by its content, at most
8 MB, written anew and sealed, as a staff upload: :meth:`CandidateLists.set_photo`).
"""

from __future__ import annotations

from flask import Response, abort, g, jsonify, request, url_for
from sqlalchemy import select

from congress.i18n import M_
from controller.app import services
from controller.voting.ballots import BallotError
from controller.voting.candidates import MAX_BIOGRAPHY, CandidateLists, UnknownCandidate, motion_state
from controller.voting.tables import Candidate, CandidateStatus
from controller.web.guard import delegate_view
from controller.web.i18n import translate
from controller.web.portal.guard import blueprint, signed_in

bp = blueprint("portal_candidates", __name__, "/p/api")


def _lists() -> CandidateLists:
    return services().candidates


def _me() -> str:
    return g.delegate.delegate_id


def _refused(exc: BallotError, status: int = 400):
    return jsonify(error=translate(exc.text)), status


def _concerns_me(c: Candidate) -> bool:
    return c.delegate_id == _me() or c.nominated_by == f"delegate:{_me()}"


def _candidate(c: Candidate, number: int | None) -> dict:
    return {"id": c.id, "number": number, "name": c.name, "biography": c.biography,
            "status": c.status.value, "delegate": c.delegate_id,
            "photo": url_for("portal_candidates.photo", cid=c.id) if c.photo else None,
            "is_me": c.delegate_id == _me(), "by_me": c.nominated_by == f"delegate:{_me()}",
            "can_answer": c.delegate_id == _me() and c.status == CandidateStatus.NOMINATED}


@bp.route("/candidates")
@delegate_view
@signed_in
def lists():
    svc = _lists()
    out = []
    for cl in svc.lists():
        fixed = svc.is_fixed(cl)
        rows = svc.numbered(cl)
        motion = svc.motion(cl)
        out.append({
            "id": cl.id, "name": cl.name, "numbering": cl.numbering.value,
            "open": cl.nominations_open and not fixed, "fixed": fixed, "motion": motion_state(motion),
            "started": svc.voting_started(cl),
            "candidates": [_candidate(n.candidate, n.number) for n in rows if n.number is not None],
            "mine": [_candidate(n.candidate, n.number) for n in rows
                     if n.number is None and _concerns_me(n.candidate)],
        })
    return jsonify(lists=out, me=_me())


@bp.route("/candidates/delegates")
@delegate_view
@signed_in
def delegates():
    """Delegates whose name, number or delegation contains ``q`` (without tones), at most 10."""
    from controller.delegates.roster import find_delegates

    return jsonify(delegates=find_delegates(services().db, request.args.get("q", "")))


@bp.route("/candidates/<int:lid>/nominate", methods=["POST"])
@delegate_view
@signed_in
def nominate(lid: int):
    from controller.storage.tables import Delegate

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = {}
    svc = _lists()
    try:
        cl = svc.get_list(lid)
    except UnknownCandidate as exc:
        return _refused(exc, 404)
    nominee = str(data.get("delegate", "")).strip()[:64] or _me()
    with services().db.session() as s:
        name = s.scalar(select(Delegate.name).where(Delegate.id == nominee))
    if name is None:
        return _refused(BallotError(M_("there is no delegate %(id)s", id=nominee)), 404)
    biography = str(data.get("biography", ""))
    if len(biography.strip()) > MAX_BIOGRAPHY:
        return _refused(BallotError(M_("a biography has at most 2,000 characters")), 400)
    try:
        cid = svc.nominate(cl.name, name, actor=f"delegate:{_me()}", delegate_id=nominee,
                           biography=biography, from_portal=True)
    except BallotError as exc:  # closed for nominations, already on the list
        return _refused(exc, 409)
    return jsonify(ok=True, id=cid), 201


@bp.route("/candidates/answer/<int:cid>", methods=["POST"])
@delegate_view
@signed_in
def answer(cid: int):
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("accept"), bool):
        return jsonify(error="send {\"accept\": true} or {\"accept\": false}"), 400
    svc = _lists()
    try:
        c = svc.get(cid)
    except UnknownCandidate as exc:
        return _refused(exc, 404)
    if c.delegate_id != _me():
        return _refused(BallotError(M_("only the delegate nominated can answer this nomination")), 403)
    try:
        (svc.accept if data["accept"] else svc.decline)(cid, actor=f"delegate:{_me()}")
    except BallotError as exc:
        return _refused(exc, 409)
    return jsonify(ok=True, status=svc.get(cid).status.value)


@bp.route("/candidates/biography/<int:cid>", methods=["POST"])
@delegate_view
@signed_in
def biography(cid: int):
    """The nominee writes their own biography (until voting on the list begins)."""
    data = request.get_json(silent=True)
    text = data.get("biography") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return jsonify(error="send {\"biography\": \"...\"}"), 400
    svc = _lists()
    try:
        c = svc.get(cid)
    except UnknownCandidate as exc:
        return _refused(exc, 404)
    if c.delegate_id != _me() or c.status not in (CandidateStatus.NOMINATED, CandidateStatus.ACCEPTED):
        return _refused(BallotError(M_("only the delegate nominated can write this biography")), 403)
    if len(text.strip()) > MAX_BIOGRAPHY:
        return _refused(BallotError(M_("a biography has at most 2,000 characters")), 400)
    try:
        svc.set_biography(cid, text, actor=f"delegate:{_me()}")
    except BallotError as exc:  # voting has begun
        return _refused(exc, 409)
    return jsonify(ok=True)


@bp.route("/candidates/own-photo/<int:cid>", methods=["POST"])
@delegate_view
@signed_in
def photo_upload(cid: int):
    """The nominee's own photo (multipart field ``photo``), until voting on the list begins."""
    from controller.voting.candidate_photos import MAX_BYTES, PhotoRefused

    svc = _lists()
    try:
        c = svc.get(cid)
    except UnknownCandidate as exc:
        return _refused(exc, 404)
    if c.delegate_id != _me() or c.status not in (CandidateStatus.NOMINATED, CandidateStatus.ACCEPTED):
        return _refused(BallotError(M_("only the delegate nominated can send this photo")), 403)
    cl = svc.list_named(c.list_name)
    if cl is not None and svc.voting_started(cl):
        return _refused(BallotError(M_("voting on the list %(list)s has begun: the photos stay as they were",
                                       list=c.list_name)), 409)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _refused(BallotError(M_("choose a photo to upload")), 400)
    data = upload.stream.read(MAX_BYTES + 1)
    shown = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120] or "photo"
    try:
        svc.set_photo(cid, data, shown, actor=f"delegate:{_me()}")
    except PhotoRefused as exc:
        return _refused(exc, 400)
    except BallotError as exc:
        return _refused(exc, 409)
    return jsonify(ok=True, photo=url_for("portal_candidates.photo", cid=cid))


@bp.route("/candidates/photo/<int:cid>")
@delegate_view
@signed_in
def photo(cid: int):
    svc = _lists()
    try:
        c = svc.get(cid)
    except UnknownCandidate:
        abort(404)
    if c.status != CandidateStatus.ACCEPTED and not _concerns_me(c):
        abort(404)
    data = svc.photo(cid)
    if data is None:
        abort(404)
    # Kept by the app's own cache for offline reading (candidates.js); never by a shared cache.
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, no-store"})
