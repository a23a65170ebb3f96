"""Who is asking for a document: the seam between the documents area and the delegates' portal.

:func:`reader_from` works out a :class:`controller.documents.access.Reader` from plain values, with
no web framework, so the Flask views and the tablet front (:mod:`controller.front`, aiohttp) use the
very same rule:

1. a staff account logged in to the controller page (``user``, Flask's ``g.user``): a staff reader,
   in the secretariat when its role may manage documents;
2. otherwise a delegate signed in to the portal (``/p/``): the ``congress_portal`` session cookie
   (``portal_session``), checked by :func:`controller.portal.signin.session_delegate` (signed out,
   revoked or expired: no longer);
3. otherwise a delegate presenting their **signed badge token** (the same ``DC1.…`` token as their
   badge QR code, :mod:`congress.badge_token`); it must verify with the controller key for this
   venue, and the delegate must be on the roster;
4. otherwise a guest (public documents only).

:class:`DelegateAccess` holds what the rule needs (the database, the controller's public key, the
venue id, the access groups); :func:`reader_for` is the Flask adapter, :func:`credentials_from`
reads the portal cookie and the badge token (``Authorization: Badge <token>`` or the
``congress_badge`` cookie) from any framework's headers and cookies. Every document view and the
front call it, and :class:`controller.documents.library.Library` then checks access on each
request. A delegate's copies are keyed by their delegate id, whichever way they signed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from congress import badge_token
from congress.errors import ProtocolError
from controller.accounts.auth import Perm, allowed
from controller.documents.access import GUEST, Reader, ReaderKind
from controller.storage.database import Database
from controller.storage.tables import Delegate

BADGE_COOKIE = "congress_badge"
_verify_badge = badge_token.verify  # reader_from's parameter ``badge_token`` shadows the module there
PORTAL_COOKIE = "congress_portal"


def badge_from(headers: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """The badge token of a request: ``Authorization: Badge <token>``, else the ``congress_badge``
    cookie (works with Flask's and aiohttp's header and cookie mappings alike)."""
    header = headers.get("Authorization", "")
    if header.startswith("Badge "):
        return header[6:].strip()
    return cookies.get(BADGE_COOKIE)


def credentials_from(headers: Mapping[str, str], cookies: Mapping[str, str]) -> dict[str, str | None]:
    """``badge_token`` and ``portal_session`` of a request, as :meth:`DelegateAccess.reader_from`
    takes them."""
    return {"badge_token": badge_from(headers, cookies), "portal_session": cookies.get(PORTAL_COOKIE)}


def badge_of(request) -> str | None:
    """The badge token of a Flask request (kept for callers of the earlier name)."""
    return badge_from(request.headers, request.cookies)


@dataclass(frozen=True)
class DelegateAccess:
    """The reader rule bound to one controller (built once; safe from any thread)."""

    db: Database
    public_key: object | None  # the controller's Ed25519 public key; None: no badge is accepted
    venue_id: str
    groups_of: Callable[[str], frozenset[str]]

    def reader_from(
        self, *, user=None, badge_token: str | None = None, portal_session: str | None = None
    ) -> Reader:
        """The reader behind these credentials (see the module doc); a bad badge token, or a portal
        session that ended, is a guest."""
        if user is not None:
            return Reader(
                ReaderKind.STAFF,
                f"user:{user.id}",
                user.name,
                secretariat=allowed(user.role, Perm.MANAGE_DOCUMENTS),
            )
        if portal_session:
            from controller.portal.signin import session_delegate

            delegate_id = session_delegate(self.db, portal_session)
            if delegate_id is not None:
                return self._delegate(delegate_id)
        if badge_token:
            return self._badge_reader(badge_token)
        return GUEST

    def delegate_id(self, *, badge_token: str | None = None, portal_session: str | None = None) -> str | None:
        """The delegate these credentials name, or ``None`` (staff and guests are not delegates).

        The same rule as :meth:`reader_from` without the name and groups (one query: the live feed
        asks it for every open stream every keep-alive)."""
        if portal_session:
            from controller.portal.signin import session_delegate

            delegate_id = session_delegate(self.db, portal_session)
            if delegate_id is not None:
                return delegate_id if self._on_roster(delegate_id) else None
        if badge_token and self.public_key is not None:
            try:
                claims = _verify_badge(badge_token, self.public_key, self.venue_id)
            except ProtocolError:
                return None
            return claims.delegate_id if self._on_roster(claims.delegate_id) else None
        return None

    def _on_roster(self, delegate_id: str) -> bool:
        with self.db.session() as s:
            return s.get(Delegate, delegate_id) is not None

    def _badge_reader(self, token: str) -> Reader:
        if self.public_key is None:
            return GUEST
        try:
            claims = badge_token.verify(token, self.public_key, self.venue_id)
        except ProtocolError:
            return GUEST
        return self._delegate(claims.delegate_id)

    def _delegate(self, delegate_id: str) -> Reader:
        with self.db.session() as s:
            delegate = s.get(Delegate, delegate_id)
            if delegate is None:
                return GUEST
            name = delegate.name
        return Reader(ReaderKind.DELEGATE, delegate_id, name, self.groups_of(delegate_id))


def reader_from(
    access: DelegateAccess, *, user=None, badge_token: str | None = None, portal_session: str | None = None
) -> Reader:
    """:meth:`DelegateAccess.reader_from` as a function (the one rule, for callers holding ``access``)."""
    return access.reader_from(user=user, badge_token=badge_token, portal_session=portal_session)


def reader_for(request, db: Database, public_key, venue_id: str, groups_of) -> Reader:
    """The reader behind a Flask ``request`` (the logged-in staff account is Flask's ``g.user``)."""
    from flask import g

    access = DelegateAccess(db, public_key, venue_id, groups_of)
    return access.reader_from(user=g.get("user"), **credentials_from(request.headers, request.cookies))
