"""Login throttling by delay, per address and account: a guesser is slowed, nobody is locked out.

Failed logins are counted per (address, account) since that pair's last success, within the window.
The first ``per_account`` failures are free; after that the pair must wait 1 s, then 2, 4, ... up to
``max_delay`` since its last failure before the password is checked again (an attempt inside the wait
is refused unchecked, and is not a failure, so it does not lengthen the wait). The same real account
from another address is not affected at all: an attacker who knows the admin's name cannot keep the
admin out. Password spraying from one address (many accounts) is slowed by a second, gentler rule:
past ``per_ip`` failures from the address, it waits up to :data:`ADDRESS_MAX_DELAY` between attempts,
so colleagues behind the same address wait seconds, never minutes.

Refusals are summarised in the audit trail: one ``login.throttled`` row per (address, account) per
window, carrying how many attempts the previous window of that pair refused
(:class:`ThrottleAudit`, in memory: the page is one process). ``congress controller user unlock NAME``
forgets an account's failures (:func:`unlock`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from controller.storage.database import utcnow
from controller.storage.tables import LoginAttempt

#: Longest wait the per-address rule imposes (colleagues behind one NAT or proxy share an address).
ADDRESS_MAX_DELAY = dt.timedelta(seconds=5)
#: Pairs the audit summary remembers at most (older windows are dropped first).
SUMMARY_PAIRS = 10_000


class ThrottleAudit:
    """Which (address, account) pairs already have their ``login.throttled`` row in this window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], list] = {}  # pair -> [window start, refused in it]

    def refused(self, ip: str, name: str, now: dt.datetime, window: dt.timedelta) -> int | None:
        """Count one refusal; the previous window's count when this one needs an audit row, else None."""
        with self._lock:
            entry = self._pairs.get((ip, name))
            if entry is not None and now - entry[0] < window:
                entry[1] += 1
                return None
            previous = entry[1] if entry is not None else 0
            if len(self._pairs) >= SUMMARY_PAIRS:
                for pair in sorted(self._pairs, key=lambda p: self._pairs[p][0])[: SUMMARY_PAIRS // 10]:
                    del self._pairs[pair]
            self._pairs[(ip, name)] = [now, 1]
            return previous

    def forget(self, name: str, ip: str | None = None) -> None:
        with self._lock:
            for pair in [p for p in self._pairs if p[1] == name and ip in (None, p[0])]:
                del self._pairs[pair]


@dataclass(frozen=True)
class LoginLimits:
    """From ``[security]``: free failures per (address, account) and per address, the window, the
    longest delay; ``clock`` is the time source (tests hold it still)."""

    per_account: int = 5
    per_ip: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    max_delay: dt.timedelta = dt.timedelta(seconds=60)
    clock: Callable[[], dt.datetime] = utcnow
    summary: ThrottleAudit = field(default_factory=ThrottleAudit, compare=False, repr=False)


def _delay(failures: int, free: int, cap: dt.timedelta) -> dt.timedelta:
    if failures < free:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** min(failures - free, 20)), cap)


def _failures(session: Session, where: list, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(*where, LoginAttempt.ok.is_(True)))
    start = max(since, last_ok) if last_ok is not None else since
    q = select(func.count(), func.max(LoginAttempt.at)).where(
        *where, LoginAttempt.ok.is_(False), LoginAttempt.at >= start
    )
    n, last = session.execute(q).one()
    return n or 0, last


def wait_left(session: Session, name: str, ip: str, limits: LoginLimits, now: dt.datetime) -> dt.timedelta:
    """How long (address, account) must still wait before its password is checked (0: not at all)."""
    since = now - limits.window
    pair_n, pair_last = _failures(session, [LoginAttempt.name == name, LoginAttempt.ip == ip], since)
    ip_n, ip_last = _failures(session, [LoginAttempt.ip == ip], since)
    until = now
    if pair_last is not None:
        until = max(until, pair_last + _delay(pair_n, limits.per_account, limits.max_delay))
    if ip_last is not None:
        until = max(until, ip_last + _delay(ip_n, limits.per_ip, min(ADDRESS_MAX_DELAY, limits.max_delay)))
    return until - now


def unlock(session: Session, name: str, limits: LoginLimits | None = None, *, ip: str | None = None) -> int:
    """Forget the failed logins of ``name`` (from ``ip`` only, if given); the number of rows removed."""
    q = delete(LoginAttempt).where(LoginAttempt.name == name, LoginAttempt.ok.is_(False))
    if ip is not None:
        q = q.where(LoginAttempt.ip == ip)
    removed = session.execute(q).rowcount
    if limits is not None:
        limits.summary.forget(name, ip)
    return removed
