"""Rate-limited audit of refused wire messages, so a flood of forgeries cannot fill the disk.

Every refused message (forged signature, unknown or revoked unit, replayed from another unit, wrong
venue, conflicting event id) is worth an audit row, but a broken or hostile device can send thousands a
second. :class:`RejectAudit` writes at most ``burst`` rows per (unit, reason) per ``window_s`` and at most
``global_burst`` rows per window overall; what it holds back is counted and written as one
``ingest.rejected.suppressed`` row per (unit, reason) when the window ends. Used only by the ingest
thread (not thread-safe by design), which flushes it inside its batch transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class _Window:
    start: float
    written: int = 0
    suppressed: int = 0
    last_detail: dict = field(default_factory=dict)


class RejectAudit:
    """Collects refusals with :meth:`note`; :meth:`flush` writes the due audit rows."""

    def __init__(
        self,
        *,
        burst: int = 5,
        window_s: float = 60.0,
        global_burst: int = 100,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.window_s, self.global_burst, self.max_keys = burst, window_s, global_burst, max_keys
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global = _Window(clock())
        self._pending: list[tuple[str, dict]] = []
        self.total_suppressed = 0

    def note(self, unit: str, reason: str, detail: dict) -> bool:
        """Record one refusal; True when it gets its own audit row."""
        now = self._clock()
        if now - self._global.start >= self.window_s:
            self._global = _Window(now)
        self._roll(now)
        key = (unit, reason)
        w = self._windows.get(key)
        if w is None:
            if len(self._windows) >= self.max_keys:
                self._global.suppressed += 1
                self.total_suppressed += 1
                return False
            w = self._windows[key] = _Window(now)
        if w.written < self.burst and self._global.written < self.global_burst:
            w.written += 1
            self._global.written += 1
            self._pending.append(("ingest.rejected", {"unit": unit, "reason": reason, **detail}))
            log.warning("refused message from %s (%s): %s", unit, reason, detail.get("message", ""))
            return True
        if w.suppressed == 0:
            log.warning("refusing more messages from %s (%s); audit rows held back for %.0f s",
                        unit, reason, self.window_s)
        w.suppressed += 1
        w.last_detail = detail
        self.total_suppressed += 1
        return False

    def _roll(self, now: float) -> None:
        for key, w in list(self._windows.items()):
            if now - w.start >= self.window_s:
                if w.suppressed:
                    unit, reason = key
                    self._pending.append(("ingest.rejected.suppressed", {
                        "unit": unit, "reason": reason, "count": w.suppressed,
                        "seconds": round(now - w.start), "last": w.last_detail.get("message", ""),
                    }))
                del self._windows[key]

    def flush(self, session: Session) -> int:
        """Write the pending rows into the audit chain (caller's transaction); return how many."""
        from controller import audit

        self._roll(self._clock())
        rows, self._pending = self._pending, []
        for action, detail in rows:
            audit.record(session, "ingest", action, detail)
        return len(rows)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def due(self) -> bool:
        """True when :meth:`flush` would write something now (pending rows or a window to summarise)."""
        now = self._clock()
        return bool(self._pending) or any(
            w.suppressed and now - w.start >= self.window_s for w in self._windows.values()
        )
