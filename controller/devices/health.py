"""Door-unit health: what every unit last said about itself, and alarms when one goes quiet.

The ingest thread hands every verified :class:`congress.wire.UnitStatus` (heartbeats, and the retained
``offline`` last will the broker publishes when a unit vanishes) to :func:`record_status` inside its
own transaction. :class:`DeviceWatch` (thread ``device-watch``, constructed by ``controller run``)
calls :func:`evaluate` every few seconds: a unit whose last heartbeat is older than
``[devices] silent_after_s`` is *silent*, one whose outbox holds more than ``outbox_alarm``
unacknowledged check-ins is *backlog*, one that said ``offline`` is *offline*. Raising and clearing an
alarm is audited and pushed to the live page. The keypad base station's health belongs to the voting
area and is shown next to this on the devices page.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from congress.wire import UnitState, UnitStatus
from controller import audit
from controller.live import EventKind
from controller.storage.database import Database, utcnow
from controller.storage.tables import UnitHealth

log = logging.getLogger(__name__)


class Alarm(StrEnum):
    """Why a unit needs a technician; empty string means healthy."""

    NONE = ""
    OFFLINE = "offline"
    SILENT = "silent"
    BACKLOG = "backlog"
    DEGRADED = "degraded"


@dataclass(frozen=True)
class AlarmPolicy:
    """Thresholds from ``[devices]`` in the controller configuration."""

    silent_after_s: float = 45.0
    outbox_alarm: int = 50


def _detail(text: str) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _number(d: dict, *keys: str) -> float | None:
    for k in keys:
        v = d.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
    return None


def record_status(
    session: Session, status: UnitStatus, *, received_at: dt.datetime | None = None
) -> UnitHealth:
    """Store one verified status message of a unit (heartbeat or last will); return its row.

    A message older than the one already stored (same boot, lower sequence number) is ignored so that
    a retained message redelivered after a reconnect cannot roll the state back.
    """
    now = received_at or utcnow()
    row = session.get(UnitHealth, status.unit, with_for_update=True)
    if row is None:
        row = UnitHealth(unit_id=status.unit, versions={}, detail={}, alarm="", last_seq=0)
        session.add(row)
    elif row.boot_id == status.boot and status.seq <= (row.last_seq or 0):
        return row
    detail = _detail(status.detail)
    offline = status.state is UnitState.OFFLINE
    if row.online == offline or row.availability_at is None:
        row.availability_at = now
    row.online = not offline
    row.state = status.state.value
    row.boot_id, row.last_seq = status.boot, status.seq
    if not offline:
        row.last_seen = now
        row.uptime_s = status.uptime_s
        row.outbox_depth = status.outbox
        row.rss_kb = status.rss_kb
        row.temperature_c = None if status.temp_mc is None else status.temp_mc / 1000.0
        row.fps = _number(detail, "fps")
        row.latency_ms = _number(detail, "latency_ms", "p50_ms", "decision_ms")
        row.versions = {"software": status.software, "gallery": status.gallery_version}
        if isinstance(detail.get("model"), str) and detail["model"]:
            row.versions["model"] = detail["model"][:64]
        row.detail = detail
    session.flush()
    return row


def alarm_of(row: UnitHealth, now: dt.datetime, policy: AlarmPolicy) -> Alarm:
    """The alarm a unit deserves right now (the most urgent one)."""
    if not row.online:
        return Alarm.OFFLINE
    if row.last_seen is None or (now - row.last_seen).total_seconds() > policy.silent_after_s:
        return Alarm.SILENT
    if (row.outbox_depth or 0) > policy.outbox_alarm:
        return Alarm.BACKLOG
    if row.state == UnitState.DEGRADED.value:
        return Alarm.DEGRADED
    return Alarm.NONE


def as_dict(row: UnitHealth, now: dt.datetime, policy: AlarmPolicy) -> dict[str, Any]:
    """A unit's health for the page and the JSON API."""
    age = None if row.last_seen is None else round((now - row.last_seen).total_seconds(), 1)
    return {
        "unit_id": row.unit_id,
        "online": row.online,
        "state": row.state,
        "last_seen": row.last_seen.isoformat() if row.last_seen else None,
        "seconds_since_seen": age,
        "fps": row.fps,
        "latency_ms": row.latency_ms,
        "outbox": row.outbox_depth,
        "temperature_c": row.temperature_c,
        "rss_mb": None if row.rss_kb is None else round(row.rss_kb / 1024, 1),
        "uptime_s": row.uptime_s,
        "versions": row.versions or {},
        "alarm": alarm_of(row, now, policy).value,
    }


def list_units(session: Session, policy: AlarmPolicy, *, now: dt.datetime | None = None) -> list[dict]:
    now = now or utcnow()
    rows = session.scalars(select(UnitHealth).order_by(UnitHealth.unit_id))
    return [as_dict(r, now, policy) for r in rows]


def evaluate(session: Session, policy: AlarmPolicy, *, now: dt.datetime | None = None) -> list[dict]:
    """Update every unit's stored alarm; audit and return the units whose alarm changed."""
    now = now or utcnow()
    changed = []
    for row in session.scalars(select(UnitHealth).order_by(UnitHealth.unit_id)):
        alarm = alarm_of(row, now, policy)
        if alarm.value == (row.alarm or ""):
            continue
        previous, row.alarm, row.alarm_since = row.alarm, alarm.value, now
        if alarm is Alarm.NONE:
            audit.record(session, "system", "device.alarm_cleared", {"unit": row.unit_id, "was": previous})
        else:
            audit.record(session, "system", "device.alarm", {"unit": row.unit_id, "alarm": alarm.value})
            log.warning("door unit %s: alarm %s", row.unit_id, alarm.value)
        changed.append(as_dict(row, now, policy))
    session.flush()
    return changed


class DeviceWatch(threading.Thread):
    """Thread ``device-watch``: evaluates alarms every ``interval`` seconds and publishes changes."""

    def __init__(
        self,
        db: Database,
        policy: AlarmPolicy,
        publish: Callable[[str, dict], None],
        *,
        interval: float = 5.0,
    ) -> None:
        super().__init__(name="device-watch", daemon=True)
        self.db, self.policy, self.publish, self.interval = db, policy, publish, interval
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                with self.db.session() as s:
                    changed = evaluate(s, self.policy)
                for unit in changed:
                    self.publish(EventKind.DEVICE, unit)
            except Exception:  # keep watching; a database hiccup must not end the alarms
                log.exception("device alarm check failed; retrying in %.0f s", self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout)
