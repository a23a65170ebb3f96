"""A whole door unit (real face engine, real broker, replayed real photos, mock GPIO pins)."""

from __future__ import annotations

import time

import pytest
from edge_controller_stand_in import ControllerStandIn
from edge_env import enroll, install_gallery, playlist, unit_tables, write_config
from gpiozero.pins.mock import MockFactory

from congress import wire
from congress.config import load_config
from congress.config.edge import EdgeConfig
from edge.recognition import Decision

RED, GREEN = 27, 17
CELEBS = "celebs"
THREE_KNOWN = [(f"{CELEBS}/{p}.jpg", 4) for p in ("id02/img28", "id03/img49", "id05/img59")]
ENROLLED = {f"D-{i:02d}": f"{CELEBS}/id{i:02d}" for i in range(1, 7)}


@pytest.fixture(scope="module")
def analyzer():
    from edge.engine import EngineAnalyzer

    return EngineAnalyzer.load()


@pytest.fixture(scope="module")
def celeb_gallery(analyzer, faces_dir):
    photos = {d: [sorted((faces_dir / p).iterdir())[0]] for d, p in ENROLLED.items()}
    return enroll(analyzer, photos)


def make_unit(tmp_path, venue_ca, broker, items, gallery, analyzer, *, unit_id="door-1", **overrides):
    from edge.main import Unit

    pl = playlist(tmp_path / f"{unit_id}.txt", items)
    path = write_config(tmp_path / f"{unit_id}.toml", unit_tables(tmp_path, venue_ca, broker, unit_id, pl,
                                                                   **overrides))
    cfg = load_config(path, EdgeConfig)
    install_gallery(cfg, *gallery)
    factory = MockFactory()
    unit = Unit(cfg, pin_factory=factory, analyzer=analyzer, realtime=False)
    return unit, factory


def wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def red_lit(factory) -> bool:
    return any(s.state for s in factory.pin(RED).states)


def test_replayed_faces_check_in_exactly_the_expected_delegates(tmp_path, venue_ca, broker, analyzer,
                                                               celeb_gallery):
    items = [
        (f"{CELEBS}/id01/img2.jpg", 4), ("no_face/brick.jpg", 3), (f"{CELEBS}/id02/img27.jpg", 4),
        (f"{CELEBS}/id09/img38.jpg", 4), (f"{CELEBS}/id03/img48.jpg", 4), (f"{CELEBS}/id11/img20.jpg", 4),
        (f"{CELEBS}/id05/img17.jpg", 4), (f"{CELEBS}/id01/img4.jpg", 4), (f"{CELEBS}/id12/img22.jpg", 4),
        (f"{CELEBS}/id06/img14.jpg", 4), (f"{CELEBS}/id13/img24.jpg", 4),
    ]
    ctl = ControllerStandIn(venue_ca, broker)
    unit, factory = make_unit(tmp_path, venue_ca, broker, items, celeb_gallery, analyzer)
    try:
        unit.start()
        assert unit.door.finished.wait(120)
        assert not unit.door.error
        expected = {"D-01", "D-02", "D-03", "D-05", "D-06"}
        assert ctl.wait_for(lambda c: len(c.checkins) >= len(expected))
        assert wait(lambda: unit.outbox.depth() == 0)
        time.sleep(0.5)
        got = sorted(m.delegate_id for m in ctl.checkins.values())
        assert got == sorted(expected)  # each once: the second id01 photo is debounced
        assert all(m.method is wire.Method.FACE and m.door == "north" and m.direction is wire.Direction.IN
                   and m.score >= 0.5 and m.margin >= 0.05 for m in ctl.checkins.values())
        assert sorted(k[2] for k in ctl.checkins) == [1, 2, 3, 4, 5]
        assert ctl.rejected == []
        decisions = [o.decision for o in unit.door.outcomes]
        assert decisions.count(Decision.UNKNOWN) == 4
        assert decisions.count(Decision.DEBOUNCED) == 1
        assert red_lit(factory) and any(s.state for s in factory.pin(GREEN).states)
        assert unit.alive()  # a finished replay is not a fault...
        unit.door.error = "camera stopped delivering frames"
        assert not unit.alive()  # ...a failed camera is: the watchdog is no longer fed
        assert unit.fault() == "the door loop stopped: camera stopped delivering frames"
        unit.door.error = ""
        assert ctl.wait_for(lambda c: any(s.gallery_version == 1 and '"fps"' in s.detail for s in c.statuses))
    finally:
        unit.stop()
        ctl.close()


def test_spoofs_do_not_pass_liveness_but_a_moving_face_does(tmp_path, venue_ca, broker, analyzer, faces_dir):
    spoofs = ["printed_photo", "tablet_screen", "monitor_screen", "real_1", "real_2"]
    photos = {f"S-{i}": [faces_dir / "spoof" / f"{n}.jpg"] for i, n in enumerate(spoofs)}
    photos["E-1"] = [faces_dir / "eyes" / "open.jpg"]
    gallery = enroll(analyzer, photos)  # the spoofed people ARE enrolled: only liveness can stop them
    items = [(f"spoof/{n}.jpg", 35) for n in spoofs] + [("eyes/open.jpg", 3), ("eyes/closed.jpg", 3)] * 5
    ctl = ControllerStandIn(venue_ca, broker)
    unit, factory = make_unit(tmp_path, venue_ca, broker, items, gallery, analyzer,
                              door={"liveness": True, "liveness_window_s": 3.0},
                              recognition={"min_score": 0.5, "min_margin": 0.0})
    try:
        unit.start()
        assert unit.door.finished.wait(180)
        spoofed = [o for o in unit.door.outcomes if o.decision is Decision.SPOOF]
        assert sorted(o.delegate_id for o in spoofed) == sorted(photos.keys() - {"E-1"})
        assert ctl.wait_for(lambda c: len(c.checkins) >= 1)
        time.sleep(0.5)
        assert [m.delegate_id for m in ctl.checkins.values()] == ["E-1"]
        assert next(iter(ctl.checkins.values())).liveness is wire.Liveness.PASS
        assert red_lit(factory)
    finally:
        unit.stop()
        ctl.close()


def test_broker_down_check_ins_queue_then_arrive(tmp_path, venue_ca, broker, analyzer, celeb_gallery):
    items = THREE_KNOWN
    broker.stop()
    unit, factory = make_unit(tmp_path, venue_ca, broker, items, celeb_gallery, analyzer)
    ctl = None
    try:
        unit.start()
        assert unit.door.finished.wait(120)
        assert [d for _, _, d in unit.door.published] == ["D-02", "D-03", "D-05"]
        assert unit.outbox.depth() == 3
        assert any(s.state for s in factory.pin(GREEN).states)  # accepted at the door while offline
        broker.start()
        ctl = ControllerStandIn(venue_ca, broker)
        assert ctl.wait_for(lambda c: len(c.checkins) == 3, timeout=60)
        assert wait(lambda: unit.outbox.depth() == 0)
        assert sorted(m.delegate_id for m in ctl.checkins.values()) == ["D-02", "D-03", "D-05"]
    finally:
        unit.stop()
        if ctl is not None:
            ctl.close()


def test_outbox_full_refuses_visibly(tmp_path, venue_ca, broker, analyzer, celeb_gallery):
    items = THREE_KNOWN
    broker.stop()
    unit, factory = make_unit(tmp_path, venue_ca, broker, items, celeb_gallery, analyzer,
                              outbox={"max_events": 2})
    try:
        unit.start()
        assert unit.door.finished.wait(120)
        assert unit.outbox.depth() == 2
        refused = [o for o in unit.door.outcomes if o.decision is Decision.REFUSED]
        assert [(o.delegate_id, o.reason) for o in refused] == [("D-05", "outbox full")]
        assert unit.feedback.alarm_on and factory.pin(RED).state is True  # red steady, alarm beeping
        broker.start()
        ctl = ControllerStandIn(venue_ca, broker, acking=False)
        try:  # the controller's devices page learns of it from the heartbeat
            assert ctl.wait_for(lambda c: any(s.state is wire.UnitState.DEGRADED and s.outbox == 2
                                              for s in c.statuses))
        finally:
            ctl.close()
    finally:
        unit.stop()
