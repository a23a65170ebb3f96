"""The door loop: camera -> faces -> decisions -> outbox, lights and buzzer.

:class:`Door` is one named thread (``edge-door``) with a stop event. Everything it uses is built by
:mod:`edge.main` and passed in: the camera, the face analyser, the gallery store, the outbox, the
feedback devices and the publisher's ``notify``. Each decision of :class:`~edge.recognition.Recognizer`
(or :class:`~edge.badges.BadgeGate` in badge modes) becomes:

* accepted: a signed CheckIn stored in the outbox (then published), green light and beep;
* attendant: a signed CheckIn with method ``attendant`` (the controller asks a staff member to
  confirm it), amber light until the controller answers with an ``open_door`` command;
* unknown, spoof, refused badge: red light and two beeps, nothing sent;
* outbox full: the check-in is refused visibly (alarm: red steady, repeating beep) and nothing is lost.

``outcomes`` records every decision (an instrument for tests, the demo and the bench), ``stats`` the
frame rate and the stage latencies the heartbeat reports. A check-in's ``mono_ms`` is the monotonic
time its deciding frame left the camera, so the controller side can measure frame-to-arrival latency.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from congress import wire
from congress.config.edge import Direction, DoorMode, EdgeConfig
from congress.errors import CongressError
from congress.link.outbox import Outbox, OutboxFull
from edge.badges import BadgeGate
from edge.camera import Camera
from edge.feedback import Feedback
from edge.gallery import GalleryStore
from edge.health import ClockState, clock_state
from edge.liveness import LivenessVerdict
from edge.recognition import Decision, Outcome, Recognizer

log = logging.getLogger(__name__)

RECORD_KEPT = 100_000

_METHOD = {
    DoorMode.FACE: wire.Method.FACE,
    DoorMode.BADGE: wire.Method.BADGE,
    DoorMode.BADGE_FACE: wire.Method.BADGE_FACE,
    DoorMode.ATTENDANT: wire.Method.FACE,
}
_LIVENESS = {
    None: wire.Liveness.NOT_CHECKED,
    LivenessVerdict.PASS: wire.Liveness.PASS,
    LivenessVerdict.FAIL: wire.Liveness.FAIL,
    LivenessVerdict.PENDING: wire.Liveness.NOT_CHECKED,
}


class StageStats:
    """Rolling per-stage latencies (ms) and frame rate over the last ``n`` frames."""

    def __init__(self, n: int = 200) -> None:
        self.samples: dict[str, deque] = {}
        self.frame_times: deque = deque(maxlen=n)
        self.n = n
        self.frames = 0

    def add(self, timings: dict[str, float]) -> None:
        self.frames += 1
        self.frame_times.append(time.monotonic())
        for k, v in timings.items():
            self.samples.setdefault(k, deque(maxlen=self.n)).append(v)

    def fps(self) -> float:
        ft = self.frame_times
        return (len(ft) - 1) / (ft[-1] - ft[0]) if len(ft) > 1 and ft[-1] > ft[0] else 0.0

    def p50(self) -> dict[str, float]:
        return {k: round(float(np.median(v)), 1) for k, v in self.samples.items() if v}


class Door(threading.Thread):
    """Reads the camera until stopped (or a finite source ends) and acts on every decision."""

    def __init__(
        self,
        cfg: EdgeConfig,
        *,
        camera: Camera,
        analyzer,
        gallery: GalleryStore,
        outbox: Outbox,
        feedback: Feedback,
        signing_key,
        controller_key,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(name="edge-door", daemon=True)
        self.cfg = cfg
        self.camera, self.analyzer, self.gallery = camera, analyzer, gallery
        self.outbox, self.feedback, self.key, self.notify = outbox, feedback, signing_key, notify
        self.recognizer = Recognizer(cfg.recognition, cfg.door)
        self.badges = (
            BadgeGate(self.recognizer, controller_key, cfg.venue.id)
            if cfg.door.mode in (DoorMode.BADGE, DoorMode.BADGE_FACE)
            else None
        )
        self.direction = wire.Direction.OUT if cfg.door.direction is Direction.OUT else wire.Direction.IN
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        # Instruments, bounded so a unit running for days does not grow: the newest RECORD_KEPT.
        self.outcomes: deque[Outcome] = deque(maxlen=RECORD_KEPT)
        self.published: deque[tuple[str, int, str]] = deque(maxlen=RECORD_KEPT)  # (boot, seq, delegate)
        self.stats = StageStats()
        self.error: str = ""
        self._clock = clock_state()
        self._clock_checked = time.monotonic()
        self._pending_attendant: set[str] = set()
        self._captured = 0.0
        self.progress = time.monotonic()  # last loop turn; the watchdog is fed only while it moves

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self.progress = time.monotonic()
                frame = self.camera.read()
                if frame is None:
                    log.info("camera source ended after %d frames", self.stats.frames)
                    break
                self.step(frame.image, frame.t, captured=time.monotonic())
        except CongressError as exc:
            self.error = str(exc)
            log.error("door loop stopped: %s", exc)
            self.feedback.alarm(True)
        except Exception as exc:  # a bug must not leave a dead door that looks healthy
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("door loop crashed")
            self.feedback.alarm(True)
        finally:
            self.finished.set()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout)

    def step(self, image: np.ndarray, t: float, captured: float | None = None) -> list[Outcome]:
        """Process one frame (``captured``: monotonic time it left the camera; default now)."""
        self._captured = time.monotonic() if captured is None else captured
        t0 = time.perf_counter()
        badge_only = self.cfg.door.mode is DoorMode.BADGE
        faces = [] if badge_only else self.analyzer.analyze(image)  # a badge door needs no faces
        timings = {} if badge_only else dict(getattr(self.analyzer, "last_timings", {}))
        index = self.gallery.index
        t1 = time.perf_counter()
        if self.badges is not None:
            outcomes = self.badges.process(image, faces, t, index)
        else:
            outcomes = self.recognizer.process(image, faces, t, index)
        timings["decide_ms"] = (time.perf_counter() - t1) * 1000
        for o in outcomes:
            self.act(o)
        if self.feedback.alarm_on and not self.outbox.full and not self.error:
            self.feedback.alarm(False)
        timings["frame_ms"] = (time.perf_counter() - t0) * 1000
        self.stats.add(timings)
        return outcomes

    def act(self, o: Outcome) -> None:
        self.outcomes.append(o)
        log.info("door decision: %s %s %s", o.decision, o.delegate_id or "-", o.reason)
        if o.decision is Decision.ACCEPTED:
            if self._store(o, _METHOD[self.cfg.door.mode]):
                self.feedback.accepted()
        elif o.decision is Decision.DEBOUNCED:
            self.feedback.accepted()
        elif o.decision is Decision.ATTENDANT:
            if self._store(o, wire.Method.ATTENDANT):
                self._pending_attendant.add(o.delegate_id)
                self.feedback.attendant(True)
        else:
            self.feedback.rejected()

    def clock_synced(self) -> bool:
        if time.monotonic() - self._clock_checked > 60:
            self._clock, self._clock_checked = clock_state(), time.monotonic()
        return self._clock is ClockState.SYNCED

    def _store(self, o: Outcome, method: wire.Method) -> bool:
        synced = self.clock_synced()

        def build(boot: str, seq: int) -> bytes:
            msg = wire.CheckIn(
                venue=self.cfg.venue.id,
                unit=self.cfg.unit.id,
                boot=boot,
                seq=seq,
                delegate_id=o.delegate_id,
                direction=self.direction,
                method=method,
                door=self.cfg.door.id,
                score=o.score,
                margin=o.margin,
                liveness=_LIVENESS[o.liveness],
                mono_ms=int(self._captured * 1000),
                wall_time_ms=int(time.time() * 1000),
                clock_synced=synced,
            )
            return wire.encode(msg, self.key)

        try:
            ev = self.outbox.add(wire.Kind.CHECKIN.value, build)
        except OutboxFull as exc:
            log.error("check-in of %s refused: %s", o.delegate_id, exc)
            self.feedback.alarm(True)
            self.feedback.rejected()
            self.outcomes.append(Outcome(Decision.REFUSED, o.delegate_id, o.t, reason="outbox full"))
            return False
        self.published.append((ev.boot_id, ev.seq, o.delegate_id))
        self.notify()
        return True

    @property
    def awaiting_staff(self) -> frozenset[str]:
        """Delegates whose attendant request has no answer yet (the amber light is on for them)."""
        return frozenset(self._pending_attendant)

    def attendant_answered(self, delegate_id: str | None, accepted: bool) -> None:
        """The controller's answer to an attendant request (an ``open_door`` command)."""
        self._pending_attendant.discard(delegate_id)
        if not self._pending_attendant:
            self.feedback.attendant(False)
        self.feedback.accepted() if accepted else self.feedback.rejected()
