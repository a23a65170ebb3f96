"""Unit heartbeats from the ingest to the devices page.

:class:`StatusSink` is the ingest's ``on_status`` (built by ``create_app``): it stores a unit's
:class:`congress.wire.UnitStatus` with :func:`controller.devices.health.record_status` and pushes the
unit's new health to the live pages as a ``device`` event.
"""

from __future__ import annotations

import datetime as dt

from congress.wire import UnitStatus
from controller.devices import health
from controller.live import EventKind, LiveBus
from controller.storage.database import Database


class StatusSink:
    """The ingest's ``on_status``: store a unit's heartbeat and push the new health to live pages."""

    def __init__(self, db: Database, bus: LiveBus, policy: health.AlarmPolicy) -> None:
        self.db, self.bus, self.policy = db, bus, policy

    def __call__(self, status: UnitStatus, received: dt.datetime | float | None = None) -> None:
        if isinstance(received, int | float):
            received = dt.datetime.fromtimestamp(received, dt.UTC)
        with self.db.session() as s:
            row = health.record_status(s, status, received_at=received)
            data = health.as_dict(row, received or dt.datetime.now(dt.UTC), self.policy)
        self.bus.publish(EventKind.DEVICE, data)
