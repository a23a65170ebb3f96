"""Who is asking for a document: the seam between the documents area and the delegates' portal.

:func:`reader_for` turns a request into a :class:`controller.documents.access.Reader`:

1. a staff account logged in to the controller page (``g.user``): a staff reader, in the secretariat
   when its role may manage documents;
2. otherwise a delegate presenting their **signed badge token** (the same ``DC1.…`` token as their
   badge QR code, :mod:`congress.badge_token`), in the ``Authorization: Badge <token>`` header or
   the ``congress_badge`` cookie; it must verify with the controller key for this venue, and the
   delegate must be on the roster;
3. otherwise a guest (public documents only).

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
    token = badge_of(request)
    if token and public_key is not None:
        try:
            claims = badge_token.verify(token, public_key, venue_id)
        except ProtocolError:
            return GUEST
        with db.session() as s:
            delegate = s.get(Delegate, claims.delegate_id)
            if delegate is None:
                return GUEST
            name = delegate.name
        return Reader(ReaderKind.DELEGATE, claims.delegate_id, name, groups_of(claims.delegate_id))
    return GUEST
