"""Who is asking for a document: the seam between the documents area and the delegates' portal.

:func:`reader_for` turns a request into a :class:`controller.documents.access.Reader`:

1. a staff account logged in to the controller page (``g.user``): a staff reader, in the secretariat
   when its role may manage documents;
2. otherwise a delegate signed in to the portal (``/p/``): the ``congress_portal`` session cookie,
   checked by :func:`controller.portal.signin.session_delegate` (signed out or revoked: no longer);
3. otherwise a delegate presenting their **signed badge token** (the same ``DC1.…`` token as their
   badge QR code, :mod:`congress.badge_token`), in the ``Authorization: Badge <token>`` header or
   the ``congress_badge`` cookie; it must verify with the controller key for this venue, and the
   delegate must be on the roster;
4. otherwise a guest (public documents only).

For the portal (issue 13): once delegates have their own sign-in and session, add one branch here
that maps the portal session to the delegate id and leave the rest alone; every document view calls
this function and the :class:`controller.documents.library.Library` then checks access on each
request. A delegate's copies are keyed by their delegate id, so the change of sign-in keeps them.
"""

from __future__ import annotations

from flask import Request, g

from congress import badge_token
from congress.errors import ProtocolError
from controller.accounts.auth import Perm, allowed
from controller.documents.access import GUEST, Reader, ReaderKind
from controller.storage.database import Database
from controller.storage.tables import Delegate

BADGE_COOKIE = "congress_badge"
PORTAL_COOKIE = "congress_portal"


def badge_of(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Badge "):
        return header[6:].strip()
    return request.cookies.get(BADGE_COOKIE)


def reader_for(request: Request, db: Database, public_key, venue_id: str, groups_of) -> Reader:
    """The reader behind ``request`` (see the module doc); a bad badge token is a guest."""
    user = g.get("user")
    if user is not None:
        return Reader(
            ReaderKind.STAFF,
            f"user:{user.id}",
            user.name,
            secretariat=allowed(user.role, Perm.MANAGE_DOCUMENTS),
        )
    portal_token = request.cookies.get(PORTAL_COOKIE)
    if portal_token:
        from controller.portal.signin import session_delegate

        delegate_id = session_delegate(db, portal_token)
        if delegate_id is not None:
            return _delegate(db, delegate_id, groups_of)
    token = badge_of(request)
    if token and public_key is not None:
        try:
            claims = badge_token.verify(token, public_key, venue_id)
        except ProtocolError:
            return GUEST
        return _delegate(db, claims.delegate_id, groups_of)
    return GUEST


def _delegate(db: Database, delegate_id: str, groups_of) -> Reader:
    with db.session() as s:
        delegate = s.get(Delegate, delegate_id)
        if delegate is None:
            return GUEST
        name = delegate.name
    return Reader(ReaderKind.DELEGATE, delegate_id, name, groups_of(delegate_id))
