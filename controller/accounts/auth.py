"""Accounts, roles, passwords, web sessions and login throttling (no Flask in here).

Roles and what they may do are one table, :data:`PERMISSIONS`; every route names the permission it
needs (see :mod:`controller.web.guard`) and ``docs/controller.md`` prints the same table. Passwords
are hashed with Argon2id (argon2-cffi). A web session is a random token in an HttpOnly cookie; the
database keeps only its SHA-256, its CSRF token and its times, so logging out, disabling an account or
changing a password ends sessions at once. Failed logins slow further attempts from the same address at
the same account (:mod:`controller.accounts.throttle`: a delay, never a lock-out of the real person).
Everything security-relevant is written to the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from congress.errors import CongressError
from congress.i18n import M_, N_, Message
from controller import audit
from controller.accounts.throttle import LoginLimits, unlock, wait_left
from controller.storage.database import utcnow
from controller.storage.tables import LoginAttempt, Role, User, WebSession

MIN_PASSWORD = 10


class Perm(StrEnum):
    """Things a role may do on the controller page."""

    VIEW_ATTENDANCE = "view_attendance"
    VIEW_DEVICES = "view_devices"
    ATTEND_LANE = "attend_lane"
    VIEW_DELEGATES = "view_delegates"
    MANAGE_DELEGATES = "manage_delegates"
    PRINT_BADGES = "print_badges"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    VIEW_BALLOTS = "view_ballots"
    MANAGE_BALLOTS = "manage_ballots"
    VIEW_PROGRAMME = "view_programme"
    MANAGE_PROGRAMME = "manage_programme"
    MOVE_AGENDA = "move_agenda"
    VIEW_DOCUMENTS = "view_documents"
    MANAGE_DOCUMENTS = "manage_documents"
    VIEW_SYNTHESIS = "view_synthesis"
    MANAGE_SYNTHESIS = "manage_synthesis"


_ALL = frozenset(Role)
#: The permission table: which roles hold each permission.
PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.VIEW_ATTENDANCE: _ALL,
    Perm.VIEW_DEVICES: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Perm.ATTEND_LANE: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Perm.VIEW_DELEGATES: frozenset({Role.ADMIN, Role.TECHNICIAN, Role.CHAIR}),
    Perm.MANAGE_DELEGATES: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Perm.PRINT_BADGES: frozenset({Role.ADMIN, Role.TECHNICIAN}),  # badges are entry credentials
    Perm.VIEW_AUDIT: frozenset({Role.ADMIN, Role.CHAIR, Role.OBSERVER}),
    Perm.MANAGE_USERS: frozenset({Role.ADMIN}),
    Perm.VIEW_BALLOTS: _ALL,
    Perm.MANAGE_BALLOTS: frozenset({Role.ADMIN, Role.CHAIR}),
    Perm.VIEW_PROGRAMME: _ALL,
    Perm.MANAGE_PROGRAMME: frozenset({Role.ADMIN, Role.CHAIR}),
    Perm.MOVE_AGENDA: frozenset({Role.ADMIN, Role.CHAIR}),
    Perm.VIEW_DOCUMENTS: _ALL,
    # The secretariat: prepares, uploads and withdraws documents, and reads every stored one.
    Perm.MANAGE_DOCUMENTS: frozenset({Role.ADMIN, Role.TECHNICIAN, Role.CHAIR}),
    # The synthesis of what delegates said: the secretariat enters, runs and edits it; observers read it.
    Perm.VIEW_SYNTHESIS: frozenset({Role.ADMIN, Role.TECHNICIAN, Role.CHAIR, Role.OBSERVER}),
    Perm.MANAGE_SYNTHESIS: frozenset({Role.ADMIN, Role.TECHNICIAN, Role.CHAIR}),
}


def allowed(role: Role | str, perm: Perm) -> bool:
    return Role(role) in PERMISSIONS[perm]


class AuthError(CongressError):
    """An account operation was refused (bad name, weak password, unknown user).

    ``text`` is the reason as a :class:`congress.i18n.Message` for the page (``str`` stays English)."""

    def __init__(self, text: Message | str) -> None:
        super().__init__(str(text))
        self.text = text


class LoginRefused(CongressError):
    """A login failed; ``throttled`` tells the rate limit from a wrong name or password."""

    def __init__(self, message: Message | str, *, throttled: bool = False, retry_after: int = 0) -> None:
        super().__init__(str(message))
        self.text = message
        self.throttled = throttled
        self.retry_after = retry_after


def make_hasher(memory_kib: int = 65536, time_cost: int = 3) -> PasswordHasher:
    """Argon2id; the defaults are RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes)."""
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=4)


def check_password_strength(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(M_("the password must have at least %(count)d characters", count=MIN_PASSWORD))
    if password.lower() == name.lower():
        raise AuthError(N_("the password must differ from the account name"))


def _check_name(name: str) -> str:
    name = name.strip()
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise AuthError(N_("an account name is 1-64 letters, digits, '.', '_', '-' or '@'"))
    return name


def add_user(
    session: Session,
    name: str,
    role: Role | str,
    password: str,
    *,
    actor: str,
    hasher: PasswordHasher | None = None,
) -> User:
    name = _check_name(name)
    check_password_strength(name, password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AuthError(M_("an account named %(name)r exists already", name=name))
    user = User(
        name=name, role=Role(role), password_hash=(hasher or make_hasher()).hash(password), active=True
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", {"user": name, "role": user.role.value})
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AuthError(M_("no account named %(name)r", name=name))
    return user


def end_sessions(session: Session, user: User) -> int:
    return session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount


def set_password(
    session: Session, user: User, password: str, *, actor: str, hasher: PasswordHasher | None = None
) -> None:
    check_password_strength(user.name, password)
    user.password_hash = (hasher or make_hasher()).hash(password)
    user.password_changed_at = utcnow()
    end_sessions(session, user)
    audit.record(session, actor, "user.password", {"user": user.name})


def set_role(session: Session, user: User, role: Role | str, *, actor: str) -> None:
    old, user.role = user.role, Role(role)
    end_sessions(session, user)
    audit.record(session, actor, "user.role", {"user": user.name, "from": old.value, "to": user.role.value})


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    user.active = active
    if not active:
        end_sessions(session, user)
    audit.record(session, actor, "user.enable" if active else "user.disable", {"user": user.name})


def authenticate(
    session: Session,
    name: str,
    password: str,
    ip: str,
    limits: LoginLimits,
    *,
    hasher: PasswordHasher | None = None,
) -> User:
    """Check a login; record the attempt and audit it. Raise :class:`LoginRefused` on failure.

    The attempt and audit rows are in ``session``: catch the refusal inside the transaction and let it
    commit, or the rate limit never sees the failure.
    """
    now = limits.clock()
    name = name.strip()[:64]
    wait = wait_left(session, name, ip, limits, now)
    if wait > dt.timedelta(0):
        previous = limits.summary.refused(ip, name, now, limits.window)
        if previous is not None:  # one row per address and account per window, not one per attempt
            detail = {"ip": ip, "window_minutes": int(limits.window.total_seconds() // 60),
                      "refused_in_previous_window": previous}
            audit.record(session, name or "-", "login.throttled", detail)
        seconds = math.ceil(wait.total_seconds())
        text = M_("too many failed logins; wait %(seconds)d seconds and try again", seconds=seconds)
        raise LoginRefused(text, throttled=True, retry_after=seconds)
    user = session.scalar(select(User).where(User.name == name))
    hasher = hasher or make_hasher()
    ok = False
    if user is not None and user.active:
        try:
            ok = hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend the same time as a real check so that timing does not reveal which names exist.
        hasher.hash(password)
    session.add(LoginAttempt(name=name, ip=ip, at=now, ok=ok))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - 4 * limits.window))
    if not ok:
        audit.record(session, name or "-", "login.failed", {"ip": ip})
        raise LoginRefused(N_("wrong account name or password"))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    audit.record(session, user.name, "login.ok", {"ip": ip})
    return user


def unlock_user(session: Session, user: User, limits: LoginLimits | None = None, *, actor: str,
                ip: str | None = None) -> int:
    """Forget ``user``'s failed logins (from ``ip`` only, if given), so no delay applies; audited."""
    removed = unlock(session, user.name, limits, ip=ip)
    audit.record(session, actor, "user.unlock", {"user": user.name, "ip": ip, "failures_forgotten": removed})
    return removed


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_session(session: Session, user: User, ip: str) -> str:
    """Create a web session for ``user``; return the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
            ip=ip[:64],
        )
    )
    session.flush()
    return token


def load_session(
    session: Session, token: str, *, idle: dt.timedelta, lifetime: dt.timedelta
) -> tuple[WebSession, User] | None:
    """The live session and its user for a cookie token, or ``None`` (expired sessions are deleted)."""
    if not token or len(token) > 128:
        return None
    ws = session.get(WebSession, _digest(token))
    if ws is None:
        return None
    now = utcnow()
    user = session.get(User, ws.user_id)
    if user is None or not user.active or now - ws.last_seen > idle or now - ws.created_at > lifetime:
        session.delete(ws)
        return None
    if (now - ws.last_seen).total_seconds() > 30:  # spare the database a write per request
        ws.last_seen = now
    return ws, user


def close_session(session: Session, token: str) -> None:
    ws = session.get(WebSession, _digest(token))
    if ws is not None:
        session.delete(ws)
