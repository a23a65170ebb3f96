"""Delegates signing in to the portal: badge or code, a PIN, sessions, seat-bound tablets, revocation.

:class:`PortalAuth` is the service (``Services.portal_auth``), with no Flask in it:

* :meth:`PortalAuth.identify` reads what the tablet scanned (the badge's signed ``DC1.`` token) or
  what the delegate typed (the sign-in code printed under the QR code, :mod:`controller.portal.codes`);
* :meth:`PortalAuth.sign_in` checks the PIN (Argon2) or, at the first sign-in, sets it, and opens a
  session: a random token for the cookie, of which only the SHA-256 is stored;
* :meth:`PortalAuth.load` is asked on every request; a session that was signed out, revoked by staff,
  idle too long or too old is refused at once, so a revocation takes effect on the device's next
  request, and its live stream ends within seconds (the stream asks :meth:`still_valid`).

PIN guessing is slowed per badge, never locked: the first :data:`FREE_FAILURES` wrong PINs cost
nothing, each further one doubles the wait before the next PIN for that badge is even checked, up to
:data:`MAX_DELAY`. A stranger who knows a badge code can make its owner wait at most that long after
their last guess, but can never shut the owner out; at :data:`MAX_DELAY` a 4-digit PIN takes on
average 10,000 / 2 x 60 s, about 83 hours of uninterrupted guessing (and every failure is audited).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from congress import badge_token
from congress.errors import CongressError, ProtocolError
from congress.i18n import M_, Message
from controller import audit
from controller.live import EventKind
from controller.portal import codes
from controller.portal.tables import PortalDevice, PortalPin, PortalSession
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate

FREE_FAILURES = 3
MAX_DELAY = dt.timedelta(seconds=60)
PIN_RE = re.compile(r"^[0-9]{4,8}$")
IDLE = dt.timedelta(hours=18)  # a congress day and its evening
LIFETIME = dt.timedelta(days=14)
TOUCH_EVERY = dt.timedelta(seconds=60)  # last_seen is written at most this often


class SignInError(CongressError):
    """A sign-in was refused; ``text`` is the reason for the page (``str`` stays English)."""

    def __init__(self, text: Message) -> None:
        super().__init__(str(text))
        self.text = text


class PinWait(SignInError):
    """Too many wrong PINs for this badge: the next one is checked after ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(M_("too many wrong PINs for this badge: wait %(seconds)d s, then try again",
                            seconds=seconds))
        self.seconds = seconds


@dataclass(frozen=True)
class PortalUser:
    """A signed-in delegate, as the portal's views see them."""

    session_id: str
    public_id: str
    delegate_id: str
    name: str
    delegation: str
    csrf_token: str
    seat: str | None


@dataclass(frozen=True)
class BoundTablet:
    """A tablet bound to a seat, and the delegate who sits there (if the roster says so)."""

    device_id: int
    seat: str
    label: str
    delegate_id: str | None
    delegate_name: str | None


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def delay_after(failures: int) -> dt.timedelta:
    """The wait before the next PIN is checked after ``failures`` wrong ones in a row."""
    if failures <= FREE_FAILURES:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - FREE_FAILURES - 1, 16)), MAX_DELAY)


def session_delegate(db: Database, token: str, now: dt.datetime | None = None) -> str | None:
    """The delegate id of an open portal session's cookie token (the documents' reader asks this)."""
    if not token:
        return None
    now = now or utcnow()
    with db.session() as s:
        sess = s.get(PortalSession, _sha(token))
        if sess is None or sess.ended_at is not None:
            return None
        if now - sess.last_seen > IDLE or now - sess.created_at > LIFETIME:
            return None
        return sess.delegate_id


class PortalAuth:
    """Sign-in, sessions and devices of the delegates' portal (see the module doc)."""

    def __init__(self, db: Database, hasher: PasswordHasher, *, venue_id: str,
                 signing_key: Ed25519PrivateKey | None, publish: Callable[[str, dict], None] | None = None,
                 now: Callable[[], dt.datetime] = utcnow) -> None:
        self.db, self.hasher, self.venue_id = db, hasher, venue_id
        self.public_key = signing_key.public_key() if signing_key is not None else None
        raw = signing_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption()) if signing_key is not None else None
        self._secret = codes.code_secret(raw, venue_id) if raw is not None else None
        self._publish = publish or (lambda kind, data: None)
        self._now = now
        self._by_code: dict[str, str] = {}
        self._lock = threading.Lock()

    # --- codes ---------------------------------------------------------------------------------------

    def code_for(self, delegate_id: str) -> str | None:
        """The delegate's printed sign-in code (None without the controller signing key)."""
        return codes.code_for(self._secret, delegate_id) if self._secret is not None else None

    def _find_code(self, s: Session, typed: str) -> str | None:
        bare = codes.normalise(typed)
        if self._secret is None or len(bare) != codes.LENGTH:
            return None
        with self._lock:
            found = self._by_code.get(bare)
        if found is None:  # a new delegate since the index was built: build it again
            ids = s.scalars(select(Delegate.id))
            index = {codes.normalise(codes.code_for(self._secret, d)): d for d in ids}
            with self._lock:
                self._by_code = index
            found = index.get(bare)
        return found

    def identify(self, text: str) -> str:
        """The delegate id behind a scanned badge token or a typed sign-in code; SignInError otherwise."""
        text = (text or "").strip()
        with self.db.session() as s:
            if text.startswith(badge_token.PREFIX + "."):
                if self.public_key is None:
                    raise SignInError(M_("this controller has no signing key; badges cannot be checked"))
                try:
                    delegate_id = badge_token.verify(text, self.public_key, self.venue_id).delegate_id
                except ProtocolError:
                    raise SignInError(M_("this badge is not valid for this congress")) from None
            else:
                delegate_id = self._find_code(s, text)
            if delegate_id is None or s.get(Delegate, delegate_id) is None:
                raise SignInError(M_("this sign-in code is not known; check it against your badge"))
            return delegate_id

    def status(self, delegate_id: str) -> dict:
        """What the sign-in page shows after the badge is read: the name and whether a PIN is set."""
        with self.db.session() as s:
            d = s.get(Delegate, delegate_id)
            has_pin = s.get(PortalPin, delegate_id) is not None
            return {"name": d.name, "delegation": d.delegation, "has_pin": has_pin}

    # --- sign-in -------------------------------------------------------------------------------------

    def sign_in(self, badge: str, pin: str, *, new_pin: bool = False, device_token: str | None = None,
                ip: str = "", user_agent: str = "") -> tuple[str, PortalUser]:
        """Check ``pin`` for the badge (or set it on the first sign-in, ``new_pin``); the cookie token
        and the signed-in delegate. Raises :class:`SignInError` or :class:`PinWait`."""
        delegate_id = self.identify(badge)
        now = self._now()
        with self.db.session() as s:
            row = s.get(PortalPin, delegate_id, with_for_update=True)
            if row is None:
                if not new_pin:
                    raise SignInError(M_("choose a PIN first"))
                if not PIN_RE.match(pin or ""):
                    raise SignInError(M_("a PIN is 4 to 8 digits"))
                s.add(PortalPin(delegate_id=delegate_id, pin_hash=self.hasher.hash(pin), set_at=now))
                audit.record(s, f"delegate:{delegate_id}", "portal.pin_set", {"delegate": delegate_id})
            else:
                if row.next_try_at is not None and now < row.next_try_at:
                    raise PinWait(max(1, int((row.next_try_at - now).total_seconds() + 0.999)))
                if not self._pin_ok(row, pin):
                    row.failures += 1
                    wait = delay_after(row.failures)
                    row.next_try_at = now + wait if wait else None
                    audit.record(s, f"delegate:{delegate_id}", "portal.pin_wrong",
                                 {"delegate": delegate_id, "failures": row.failures, "ip": ip})
                    s.commit()
                    if wait:
                        raise PinWait(int(wait.total_seconds()))
                    raise SignInError(M_("wrong PIN"))
                row.failures, row.next_try_at = 0, None
            device = self._device(s, device_token)
            token = secrets.token_urlsafe(32)
            sess = PortalSession(
                id=_sha(token), public_id=secrets.token_hex(8), delegate_id=delegate_id,
                csrf_token=secrets.token_urlsafe(32), device_id=device.id if device else None,
                user_agent=user_agent[:200], ip=ip[:64], created_at=now, last_seen=now,
            )
            s.add(sess)
            audit.record(s, f"delegate:{delegate_id}", "portal.sign_in",
                         {"delegate": delegate_id, "session": sess.public_id,
                          "seat": device.seat if device else None, "ip": ip})
            s.flush()
            return token, self._user(s, sess)

    def _pin_ok(self, row: PortalPin, pin: str) -> bool:
        try:
            return bool(pin) and self.hasher.verify(row.pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False

    def change_pin(self, user: PortalUser, old: str, new: str) -> None:
        with self.db.session() as s:
            row = s.get(PortalPin, user.delegate_id)
            if row is None or not self._pin_ok(row, old):
                raise SignInError(M_("wrong PIN"))
            if not PIN_RE.match(new or ""):
                raise SignInError(M_("a PIN is 4 to 8 digits"))
            row.pin_hash, row.set_at = self.hasher.hash(new), self._now()
            audit.record(s, f"delegate:{user.delegate_id}", "portal.pin_changed",
                         {"delegate": user.delegate_id})

    def reset_pin(self, delegate_id: str, *, actor: str) -> None:
        """Staff: forget a delegate's PIN (they choose a new one at their next sign-in) and end their
        sessions."""
        with self.db.session() as s:
            row = s.get(PortalPin, delegate_id)
            if row is not None:
                s.delete(row)
            self._end(s, PortalSession.delegate_id == delegate_id, by=actor)
            audit.record(s, actor, "portal.pin_reset", {"delegate": delegate_id})
        self._tell(delegate_id)

    # --- sessions ------------------------------------------------------------------------------------

    def _user(self, s: Session, sess: PortalSession) -> PortalUser:
        d = s.get(Delegate, sess.delegate_id)
        seat = None
        if sess.device_id is not None:
            dev = s.get(PortalDevice, sess.device_id)
            seat = dev.seat if dev else None
        return PortalUser(sess.id, sess.public_id, d.id, d.name, d.delegation, sess.csrf_token,
                          seat or d.seat)

    def load(self, token: str) -> PortalUser | None:
        """The signed-in delegate of a cookie token, or None (unknown, ended, idle, too old)."""
        if not token:
            return None
        now = self._now()
        with self.db.session() as s:
            sess = s.get(PortalSession, _sha(token))
            if sess is None or sess.ended_at is not None:
                return None
            if now - sess.last_seen > IDLE or now - sess.created_at > LIFETIME:
                sess.ended_at, sess.ended_by = now, "expired"
                return None
            if now - sess.last_seen > TOUCH_EVERY:
                sess.last_seen = now
            return self._user(s, sess)

    def still_valid(self, session_id: str) -> bool:
        """Whether the session (by its stored id) is still open: the live stream asks every few seconds."""
        with self.db.session() as s:
            sess = s.get(PortalSession, session_id)
            return sess is not None and sess.ended_at is None

    def sign_out(self, user: PortalUser) -> None:
        with self.db.session() as s:
            self._end(s, PortalSession.id == user.session_id, by="sign-out")
            audit.record(s, f"delegate:{user.delegate_id}", "portal.sign_out",
                         {"delegate": user.delegate_id, "session": user.public_id})

    def revoke(self, public_id: str, *, actor: str) -> bool:
        """Staff: end one device's session; its next request is refused and its page wipes its cache."""
        with self.db.session() as s:
            sess = s.scalar(select(PortalSession).where(PortalSession.public_id == public_id))
            if sess is None or sess.ended_at is not None:
                return False
            delegate_id = sess.delegate_id
            self._end(s, PortalSession.id == sess.id, by=actor)
            audit.record(s, actor, "portal.revoke", {"delegate": delegate_id, "session": public_id})
        self._tell(delegate_id)
        return True

    def _end(self, s: Session, where, *, by: str) -> None:
        s.execute(update(PortalSession).where(where, PortalSession.ended_at.is_(None))
                  .values(ended_at=self._now(), ended_by=by[:64]))

    def _tell(self, delegate_id: str) -> None:
        # The delegate's open pages re-check their session at once (and wipe their cache if it ended).
        self._publish(EventKind.NOTICE, {"to": [delegate_id], "type": "session"})

    def sessions(self, *, active_only: bool = True) -> list[dict]:
        """Every device signed in (staff page), newest first."""
        with self.db.session() as s:
            q = (select(PortalSession, Delegate.name, PortalDevice.seat)
                 .join(Delegate, Delegate.id == PortalSession.delegate_id)
                 .outerjoin(PortalDevice, PortalDevice.id == PortalSession.device_id)
                 .order_by(PortalSession.created_at.desc()))
            if active_only:
                q = q.where(PortalSession.ended_at.is_(None))
            return [{"public_id": p.public_id, "delegate_id": p.delegate_id, "name": name, "seat": seat,
                     "user_agent": p.user_agent, "ip": p.ip, "created_at": p.created_at,
                     "last_seen": p.last_seen, "ended_at": p.ended_at, "ended_by": p.ended_by}
                    for p, name, seat in s.execute(q)]

    # --- seat-bound tablets --------------------------------------------------------------------------

    def add_device(self, seat: str, label: str, *, actor: str) -> tuple[int, str]:
        """Staff: a tablet for ``seat``; the one-time pairing code to type on it."""
        seat = seat.strip()
        if not seat:
            raise SignInError(M_("give the seat the tablet is bound to"))
        pairing = codes.code_for(secrets.token_bytes(16), seat)
        with self.db.session() as s:
            dev = PortalDevice(seat=seat[:16], label=label.strip()[:120],
                               pair_hash=_sha(codes.normalise(pairing)))
            s.add(dev)
            s.flush()
            audit.record(s, actor, "portal.device_added", {"device": dev.id, "seat": dev.seat})
            return dev.id, pairing

    def pair(self, pairing_code: str) -> str:
        """On the tablet: exchange the one-time pairing code for the device token (its cookie)."""
        bare = codes.normalise(pairing_code)
        with self.db.session() as s:
            dev = s.scalar(select(PortalDevice).where(PortalDevice.pair_hash == _sha(bare),
                                                      PortalDevice.revoked_at.is_(None))) if bare else None
            if dev is None:
                raise SignInError(M_("this pairing code is not known or was already used"))
            token = secrets.token_urlsafe(32)
            dev.token_hash, dev.pair_hash, dev.paired_at = _sha(token), "", self._now()
            audit.record(s, "portal", "portal.device_paired", {"device": dev.id, "seat": dev.seat})
            return token

    def _device(self, s: Session, token: str | None) -> PortalDevice | None:
        if not token:
            return None
        return s.scalar(select(PortalDevice).where(PortalDevice.token_hash == _sha(token),
                                                   PortalDevice.revoked_at.is_(None)))

    def tablet(self, device_token: str | None) -> BoundTablet | None:
        """The seat-bound tablet of a device token, with the delegate the roster seats there."""
        with self.db.session() as s:
            dev = self._device(s, device_token)
            if dev is None:
                return None
            d = s.scalar(select(Delegate).where(Delegate.seat == dev.seat))
            return BoundTablet(dev.id, dev.seat, dev.label, d.id if d else None, d.name if d else None)

    def devices(self) -> list[dict]:
        with self.db.session() as s:
            return [{"id": d.id, "seat": d.seat, "label": d.label, "paired": d.paired_at is not None,
                     "paired_at": d.paired_at, "revoked": d.revoked_at is not None}
                    for d in s.scalars(select(PortalDevice).order_by(PortalDevice.seat, PortalDevice.id))]

    def revoke_device(self, device_id: int, *, actor: str) -> bool:
        """Staff: unbind a tablet and end every session opened on it."""
        with self.db.session() as s:
            dev = s.get(PortalDevice, device_id)
            if dev is None or dev.revoked_at is not None:
                return False
            dev.revoked_at = self._now()
            ended = list(s.scalars(select(PortalSession.delegate_id).where(
                PortalSession.device_id == device_id, PortalSession.ended_at.is_(None))))
            self._end(s, PortalSession.device_id == device_id, by=actor)
            audit.record(s, actor, "portal.device_revoked", {"device": device_id, "seat": dev.seat})
        for delegate_id in set(ended):
            self._tell(delegate_id)
        return True
