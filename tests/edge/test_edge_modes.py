"""Door modes: badge, badge+face (1:1) and attendant, with real QR codes, real faces, real broker."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from edge_controller_stand_in import PATIENCE_S, ControllerStandIn, wait_until
from edge_env import FACES, enroll, install_gallery, unit_tables, write_config
from gpiozero.pins.mock import MockFactory

from congress import badge_token, pki, wire
from congress.config import load_config
from congress.config.edge import EdgeConfig
from congress.faces import decode_image
from edge.camera.replay import letterbox
from edge.recognition import Decision

AMBER, GREEN = 22, 17


@pytest.fixture(scope="module")
def analyzer():
    from edge.engine import EngineAnalyzer

    return EngineAnalyzer.load()


def qr(text: str, scale: int = 4) -> np.ndarray:
    q = cv2.QRCodeEncoder.create().encode(text)
    q = cv2.resize(q, (q.shape[1] * scale, q.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    return np.pad(q, 4 * scale, constant_values=255)


def frame(face: str | None, token: str | None) -> np.ndarray:
    img = letterbox(decode_image(FACES / face), (640, 480)) if face else np.full((480, 640, 3), 200, np.uint8)
    if token:
        q = qr(token)
        img[-q.shape[0]:, -q.shape[1]:] = q[..., None]
    return img


def unit_with(tmp_path, venue_ca, broker, analyzer, faces_dir, frames, **overrides):
    from edge.main import Unit

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, img in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), img)
    tables = unit_tables(tmp_path, venue_ca, broker, "door-1", folder, **overrides)
    cfg = load_config(write_config(tmp_path / "door-1.toml", tables), EdgeConfig)
    photos = {f"D-{i:02d}": [sorted((faces_dir / "celebs" / f"id{i:02d}").iterdir())[0]] for i in (2, 3)}
    install_gallery(cfg, *enroll(analyzer, photos))
    factory = MockFactory()
    return Unit(cfg, pin_factory=factory, analyzer=analyzer, realtime=False), factory


def signer(venue_ca):
    return pki.load_signing_key(venue_ca.controller_signing_key)


def test_badge_mode_accepts_signed_badges_and_refuses_forged(tmp_path, venue_ca, broker, analyzer, faces_dir):
    good = badge_token.issue(signer(venue_ca), venue_ca.venue, "D-02")
    forged = badge_token.issue(Ed25519PrivateKey.generate(), venue_ca.venue, "D-03")
    other_venue = badge_token.issue(signer(venue_ca), "elsewhere", "D-03")
    frames = [frame(None, good), frame(None, forged), frame(None, other_venue)]
    ctl = ControllerStandIn(venue_ca, broker)
    unit, _ = unit_with(tmp_path, venue_ca, broker, analyzer, faces_dir, frames,
                        door={"mode": "badge"}, camera={"hold_frames": 3})
    try:
        unit.start()
        assert unit.door.finished.wait(PATIENCE_S)
        decisions = [(o.decision, o.delegate_id) for o in unit.door.outcomes]
        assert decisions == [(Decision.ACCEPTED, "D-02"), (Decision.REFUSED, None), (Decision.REFUSED, None)]
        assert ctl.wait_for(lambda c: len(c.checkins) == 1)
        (msg,) = ctl.checkins.values()
        assert (msg.delegate_id, msg.method) == ("D-02", wire.Method.BADGE)
    finally:
        unit.stop()
        ctl.close()


def test_badge_plus_face_verifies_one_to_one(tmp_path, venue_ca, broker, analyzer, faces_dir):
    d2 = badge_token.issue(signer(venue_ca), venue_ca.venue, "D-02")
    d3 = badge_token.issue(signer(venue_ca), venue_ca.venue, "D-03")
    # D-02's badge with D-02's face; then D-03's badge held by D-02 (someone else's badge).
    frames = [frame("celebs/id02/img27.jpg", d2), frame("celebs/id02/img28.jpg", d3)]
    ctl = ControllerStandIn(venue_ca, broker)
    unit, _ = unit_with(tmp_path, venue_ca, broker, analyzer, faces_dir, frames,
                        door={"mode": "badge+face"}, camera={"hold_frames": 90, "fps": 10.0})
    try:
        unit.start()
        assert unit.door.finished.wait(PATIENCE_S)
        decisions = [(o.decision, o.delegate_id, o.reason) for o in unit.door.outcomes]
        assert decisions[0][:2] == (Decision.ACCEPTED, "D-02")
        assert decisions[1] == (Decision.REFUSED, "D-03", "the face did not match the badge")
        assert ctl.wait_for(lambda c: len(c.checkins) == 1)
        (msg,) = ctl.checkins.values()
        assert (msg.delegate_id, msg.method) == ("D-02", wire.Method.BADGE_FACE) and msg.score >= 0.56
    finally:
        unit.stop()
        ctl.close()


def test_attendant_mode_asks_staff_and_follows_the_answer(tmp_path, venue_ca, broker, analyzer, faces_dir):
    # Another photo of D-02 scores about 0.50 (SFace): below this door's min_score 0.99, above attendant 0.45.
    # Every step waits for the event it needs (never a fixed sleep), bounded by PATIENCE_S for a loaded
    # machine: the checks are those of a quiet one.
    frames = [frame("celebs/id02/img46.jpg", None)]
    ctl = ControllerStandIn(venue_ca, broker)
    unit, factory = unit_with(tmp_path, venue_ca, broker, analyzer, faces_dir, frames,
                              door={"mode": "attendant"}, camera={"hold_frames": 5},
                              recognition={"min_score": 0.99, "attendant_score": 0.45})
    try:
        unit.start()
        assert unit.door.finished.wait(PATIENCE_S)
        assert [(o.decision, o.delegate_id) for o in unit.door.outcomes] == [(Decision.ATTENDANT, "D-02")]
        assert factory.pin(AMBER).state is True
        assert ctl.wait_for(lambda c: len(c.checkins) == 1)
        (msg,) = ctl.checkins.values()
        assert (msg.delegate_id, msg.method) == ("D-02", wire.Method.ATTENDANT)
        assert ctl.wait_for(lambda c: any(s.boot == unit.publisher.boot for s in c.statuses))
        stale = wire.UnitCommand(venue=venue_ca.venue, unit="door-1", boot=ctl.counter.boot,
                                 seq=ctl.counter.next(), unit_boot="an-earlier-run",
                                 command=wire.Command.OPEN_DOOR, args={"delegate_id": "D-02"})
        ctl.publish(stale)
        # The unit has received the command and turned it down (it names another run of the unit)...
        assert wait_until(lambda: unit.publisher.stats.ignored_commands == 1)
        assert factory.pin(AMBER).state is True  # ...so the delegate still waits for staff
        cmd = wire.UnitCommand(venue=venue_ca.venue, unit="door-1", boot=ctl.counter.boot,
                               seq=ctl.counter.next(), unit_boot=unit.publisher.boot,
                               command=wire.Command.OPEN_DOOR, args={"delegate_id": "D-02", "accept": True})
        ctl.publish(cmd)
        assert wait_until(lambda: factory.pin(AMBER).state is False)
        # The green blink runs in gpiozero's own thread: it may start a moment after amber went off.
        assert wait_until(lambda: any(s.state for s in factory.pin(GREEN).states))
        assert unit.publisher.stats.ignored_commands == 1 and unit.publisher.stats.rejected_messages == 0
    finally:
        unit.stop()
        ctl.close()
