"""Door-unit health on both backends: heartbeats, last will, stale messages, alarms and their audit."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from congress.wire import UnitState, UnitStatus
from controller import audit
from controller.devices import health as devices
from controller.storage.tables import AuditEntry

POLICY = devices.AlarmPolicy(silent_after_s=30, outbox_alarm=10)
T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def status(seq, state=UnitState.READY, outbox=0, boot="b1", unit="door-1", detail=None):
    return UnitStatus(
        venue="test-venue",
        unit=unit,
        boot=boot,
        seq=seq,
        state=state,
        uptime_s=seq * 10,
        outbox=outbox,
        gallery_version=3,
        rss_kb=150_000,
        temp_mc=51_500,
        software="edge 0.1.0",
        detail=json.dumps(detail or {"fps": 14.5, "latency_ms": 21.0}),
    )


def units(db, now):
    with db.session() as s:
        return {u["unit_id"]: u for u in devices.list_units(s, POLICY, now=now)}


def test_heartbeat_is_recorded(db):
    with db.session() as s:
        devices.record_status(s, status(1), received_at=T0)
    u = units(db, T0 + dt.timedelta(seconds=5))["door-1"]
    assert u["online"] and u["state"] == "ready" and u["alarm"] == ""
    assert u["fps"] == 14.5 and u["latency_ms"] == 21.0 and u["temperature_c"] == 51.5
    assert u["outbox"] == 0 and u["rss_mb"] == round(150_000 / 1024, 1)
    assert u["versions"] == {"software": "edge 0.1.0", "gallery": 3}
    with db.session() as s:
        devices.record_status(s, status(2, detail={"fps": 9.0, "model": "dlib-int8 1.0"}), received_at=T0)
    assert units(db, T0)["door-1"]["versions"]["model"] == "dlib-int8 1.0"
    assert u["seconds_since_seen"] == 5.0


def test_alarms_silent_backlog_offline(db):
    with db.session() as s:
        devices.record_status(s, status(1), received_at=T0)
        devices.record_status(s, status(1, unit="door-2", outbox=11), received_at=T0)
        devices.record_status(s, status(1, unit="door-3"), received_at=T0)
        devices.record_status(s, status(2, unit="door-3", state=UnitState.OFFLINE), received_at=T0)
    later = T0 + dt.timedelta(seconds=31)
    got = {k: v["alarm"] for k, v in units(db, later).items()}
    assert got == {"door-1": "silent", "door-2": "silent", "door-3": "offline"}
    got = {k: v["alarm"] for k, v in units(db, T0 + dt.timedelta(seconds=1)).items()}
    assert got == {"door-1": "", "door-2": "backlog", "door-3": "offline"}


def test_evaluate_audits_raise_and_clear_once(db):
    with db.session() as s:
        devices.record_status(s, status(1), received_at=T0)
    with db.session() as s:
        assert [u["alarm"] for u in devices.evaluate(s, POLICY, now=T0 + dt.timedelta(seconds=40))] == [
            "silent"
        ]
    with db.session() as s:
        assert devices.evaluate(s, POLICY, now=T0 + dt.timedelta(seconds=50)) == []  # no repeat
    with db.session() as s:
        devices.record_status(s, status(2), received_at=T0 + dt.timedelta(seconds=60))
        assert [u["alarm"] for u in devices.evaluate(s, POLICY, now=T0 + dt.timedelta(seconds=61))] == [""]
    with db.session() as s:
        acts = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert acts == ["device.alarm", "device.alarm_cleared"]
        assert audit.verify(s).ok


def test_stale_or_replayed_status_is_ignored(db):
    with db.session() as s:
        devices.record_status(s, status(5, outbox=0), received_at=T0)
        devices.record_status(s, status(4, outbox=99), received_at=T0 + dt.timedelta(seconds=1))
    assert units(db, T0)["door-1"]["outbox"] == 0
    with db.session() as s:  # a new boot starts its counter again
        devices.record_status(s, status(1, boot="b2", outbox=7), received_at=T0 + dt.timedelta(seconds=2))
    assert units(db, T0)["door-1"]["outbox"] == 7


def test_last_will_then_back_online(db):
    with db.session() as s:
        devices.record_status(s, status(1), received_at=T0)
        devices.record_status(s, status(2, state=UnitState.OFFLINE), received_at=T0 + dt.timedelta(seconds=3))
    u = units(db, T0 + dt.timedelta(seconds=4))["door-1"]
    assert not u["online"] and u["alarm"] == "offline" and u["fps"] == 14.5  # last known values kept
    with db.session() as s:
        devices.record_status(s, status(1, boot="b2"), received_at=T0 + dt.timedelta(seconds=9))
    assert units(db, T0 + dt.timedelta(seconds=10))["door-1"]["alarm"] == ""


def test_device_watch_thread_publishes_changes(db):
    from controller.live import LiveBus

    with db.session() as s:
        devices.record_status(s, status(1), received_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60))
    bus = LiveBus()
    sub = bus.subscribe()
    watch = devices.DeviceWatch(db, POLICY, bus.publish, interval=0.05)
    watch.start()
    try:
        ev = sub.get(timeout=10)
    finally:
        watch.stop()
    assert not watch.is_alive() and watch.name == "device-watch"
    assert ev.kind == "device" and ev.data["alarm"] == "silent"
