"""``congress edge selftest``: check every part of a door unit and say how to fix what fails.

Each check returns a :class:`Check` (name, status pass/warn/fail, detail, hint). The checks build the
parts exactly as ``congress edge run`` does (same constructors), use them briefly and release them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from congress.config.edge import EdgeConfig
from congress.errors import CongressError


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass
class Check:
    name: str
    status: Status
    detail: str = ""
    hint: str = ""
    ms: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        return d


def _keys(cfg: EdgeConfig, ctx: dict) -> Check:
    from congress import pki

    ctx["signing_key"] = pki.load_signing_key(cfg.unit.signing_key_file)
    ctx["controller_key"] = pki.load_public_key(cfg.unit.controller_key_file)
    return Check("keys", Status.PASS, f"signing key {cfg.unit.signing_key_file.name}, controller key loaded")


def _camera(cfg: EdgeConfig, ctx: dict) -> Check:
    from edge.camera import open_camera

    cam = open_camera(cfg.camera, realtime=False)
    try:
        frame = cam.read()
    finally:
        cam.close()
    if frame is None:
        return Check("camera", Status.FAIL, f"{cfg.camera.type} camera gave no frame", "check the source")
    ctx["frame"] = frame.image
    h, w = frame.image.shape[:2]
    return Check("camera", Status.PASS, f"{cfg.camera.type}: {w}x{h} frame")


def _models(cfg: EdgeConfig, ctx: dict) -> Check:
    import numpy as np

    from edge.engine import EngineAnalyzer

    analyzer = EngineAnalyzer.load(cfg.recognition.models_dir, model=cfg.recognition.model)
    faces = analyzer.analyze(ctx.get("frame", np.full((480, 640, 3), 128, np.uint8)))
    ms = analyzer.last_timings
    return Check(
        "models",
        Status.PASS,
        f"{analyzer.version}; {len(faces)} face(s) in the test frame, "
        f"detect {ms['detect_ms']:.0f} ms, embed {ms['embed_ms']:.0f} ms",
    )


def _gallery(cfg: EdgeConfig, ctx: dict) -> Check:
    from edge.gallery import GalleryStore
    from edge.main import gallery_key

    store = GalleryStore(cfg.unit.data_dir, gallery_key(cfg), cfg.venue.id, cfg.unit.id,
                         model=cfg.recognition.model)
    if store.load_error:
        hint = ("the gallery's embedder differs from [recognition] model: set it to the controller's, or "
                "re-enroll on the controller" if "embeddings but" in store.load_error else
                "the unit's gallery key is not the one in the venue CA: flash the unit again")
        return Check("gallery", Status.FAIL, f"stored gallery does not open: {store.load_error}", hint)
    if store.version == 0:
        return Check(
            "gallery", Status.WARN, "no gallery yet", "it arrives from the controller once the unit is online"
        )
    return Check("gallery", Status.PASS, f"version {store.version}, {len(store.index)} delegates")


def _outbox(cfg: EdgeConfig, ctx: dict) -> Check:
    from congress.link.outbox import Outbox
    from edge.main import OUTBOX_FILE

    ob = Outbox(cfg.unit.data_dir / OUTBOX_FILE, cfg.outbox.max_events)
    try:
        depth = ob.depth()
    finally:
        ob.close()
    status = Status.FAIL if depth >= cfg.outbox.max_events else Status.PASS
    return Check(
        "outbox",
        status,
        f"{depth} of {cfg.outbox.max_events} events waiting",
        "connect the unit to the broker",
    )


def _broker(cfg: EdgeConfig, ctx: dict) -> Check:
    from congress import mqtt

    client = mqtt.make_client_from_config(cfg.broker, f"{cfg.unit.id}-selftest")
    mqtt.connect(client, cfg.broker.host, cfg.broker.port, timeout=5.0)
    client.disconnect()
    client.loop_stop()
    return Check("broker", Status.PASS, f"TLS connection to {cfg.broker.host}:{cfg.broker.port} accepted")


def _clock(cfg: EdgeConfig, ctx: dict) -> Check:
    from edge.health import ClockState, clock_state

    state = clock_state()
    if state is ClockState.SYNCED:
        return Check("clock", Status.PASS, "synchronised")
    return Check(
        "clock",
        Status.WARN,
        f"clock {state.value} (check-ins still count; their wall time is marked unsynchronised)",
        "enable systemd-timesyncd and point it at the venue's NTP server (the controller)",
    )


def _gpio(cfg: EdgeConfig, ctx: dict) -> Check:
    from edge.feedback import Feedback, make_pin_factory

    factory = make_pin_factory(cfg.feedback.pin_factory)
    fb = Feedback(cfg.feedback, factory)
    fb.close()
    if factory is not None:
        factory.close()
    kind = cfg.feedback.pin_factory or "default"
    return Check("gpio", Status.PASS, f"pins claimed with the {kind} pin factory")


HINTS = {
    "keys": "copy the unit's signing.key and controller-signing.pub from `congress ca issue-unit`",
    "camera": "check the camera cable/source and [camera]; a running congress-edge service holds the "
    "camera: systemctl stop congress-edge first",
    "models": "restore models/ from the release (sha256 must match models/manifest.json)",
    "gallery": "provision the unit's gallery key (secret gallery-key or <data_dir>/gallery.key)",
    "outbox": "check that the data directory is writable",
    "broker": "check [broker] host/port, the network, and the unit's certificate",
    "gpio": "check [feedback] pins and pin_factory (lgpio on a Pi 5)",
}

CHECKS: tuple[tuple[str, Callable[[EdgeConfig, dict], Check]], ...] = (
    ("keys", _keys),
    ("camera", _camera),
    ("models", _models),
    ("gallery", _gallery),
    ("outbox", _outbox),
    ("broker", _broker),
    ("clock", _clock),
    ("gpio", _gpio),
)


def run_checks(cfg: EdgeConfig) -> list[Check]:
    ctx: dict = {}
    out = []
    for name, fn in CHECKS:
        t0 = time.perf_counter()
        try:
            c = fn(cfg, ctx)
        except CongressError as exc:
            c = Check(name, Status.FAIL, exc.message, exc.hint or HINTS.get(name, ""))
        except (OSError, ValueError, RuntimeError) as exc:
            c = Check(name, Status.FAIL, f"{type(exc).__name__}: {exc}", HINTS.get(name, ""))
        c.ms = round((time.perf_counter() - t0) * 1000, 1)
        out.append(c)
    return out
