"""The door unit program: build every part from the configuration in one place and run it.

:class:`Unit` constructs the outbox, gallery store, feedback devices, camera, face analyser, publisher
and door loop, in that order, and passes each what it needs (no module-level state). :func:`run` is
``congress edge run``: it starts the unit, tells systemd ``READY=1``, pings the watchdog while both
threads are alive, and stops cleanly on SIGTERM/SIGINT (threads joined, pins released, outbox closed).
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from congress import __version__, pki, wire
from congress.config import read_secret
from congress.config.edge import EdgeConfig
from congress.errors import ConfigError
from congress.gallery_keys import parse_key
from congress.link.outbox import Outbox
from congress.link.publisher import Publisher
from edge import health
from edge.camera import open_camera
from edge.door import Door
from edge.feedback import Feedback, make_pin_factory
from edge.gallery import GalleryStore
from edge.gallery_sync import GallerySync

log = logging.getLogger(__name__)

OUTBOX_FILE = "outbox.db"
#: Exit status after a ``restart`` command: not 0, so systemd's Restart=on-failure starts the unit again.
RESTART_EXIT = 75
GALLERY_KEY_FILE = "gallery.key"


def gallery_key(cfg: EdgeConfig) -> bytes:
    """The unit's gallery private key (X25519, 64 hex digits, from ``congress ca issue-unit``): the
    configured secret, else ``<data_dir>/gallery.key``."""
    secret = read_secret(cfg.gallery.key_name, required=False)
    if secret:
        return parse_key(secret, f"secret {cfg.gallery.key_name}")
    path = cfg.unit.data_dir / GALLERY_KEY_FILE
    if path.is_file():
        return parse_key(path.read_text(), str(path))
    env = "CONGRESS_" + cfg.gallery.key_name.upper().replace("-", "_")
    raise ConfigError(
        f"no gallery key: secret {cfg.gallery.key_name!r} is not set and {path} does not exist",
        hint=f"provision the unit with congress flash (it copies units/<unit>/gallery.key from the venue "
        f"CA folder), or set {env}",
    )


class Unit:
    """Every part of one door unit, built from ``cfg``; ``start()`` / ``stop()``."""

    def __init__(self, cfg: EdgeConfig, *, pin_factory=None, analyzer=None, realtime: bool = True) -> None:
        self.cfg = cfg
        self.started = time.monotonic()
        cfg.unit.data_dir.mkdir(parents=True, exist_ok=True)
        self.signing_key = pki.load_signing_key(cfg.unit.signing_key_file)
        self.controller_key = pki.load_public_key(cfg.unit.controller_key_file)
        self.outbox = Outbox(cfg.unit.data_dir / OUTBOX_FILE, cfg.outbox.max_events)
        self.gallery = GalleryStore(cfg.unit.data_dir, gallery_key(cfg), cfg.venue.id, cfg.unit.id,
                                    model=cfg.recognition.model)
        if pin_factory is None:
            pin_factory = make_pin_factory(cfg.feedback.pin_factory)
        self.feedback = Feedback(cfg.feedback, pin_factory)
        self.camera = open_camera(cfg.camera, realtime=realtime)
        if analyzer is None:
            from edge.engine import EngineAnalyzer

            analyzer = EngineAnalyzer.load(cfg.recognition.models_dir, model=cfg.recognition.model)
        self.analyzer = analyzer
        self.publisher = Publisher(
            broker=cfg.broker,
            venue_id=cfg.venue.id,
            unit_id=cfg.unit.id,
            signing_key=self.signing_key,
            controller_key=self.controller_key,
            outbox=self.outbox,
            health=self.health,
            on_gallery=GallerySync(self.gallery),
            on_command=self.command,
            heartbeat_s=cfg.status.heartbeat_s,
            software=f"congress {__version__}",
        )
        self.door = Door(
            cfg,
            camera=self.camera,
            analyzer=analyzer,
            gallery=self.gallery,
            outbox=self.outbox,
            feedback=self.feedback,
            signing_key=self.signing_key,
            controller_key=self.controller_key,
            notify=self.publisher.notify,
        )
        self.ready_s: float | None = None
        #: Set by the controller's ``restart`` command; ``run`` then exits with RESTART_EXIT.
        self.restart_requested = threading.Event()

    def start(self) -> Unit:
        self.publisher.start()
        self.door.start()
        self.ready_s = time.monotonic() - self.started
        log.info("door unit %s ready in %.2f s", self.cfg.unit.id, self.ready_s)
        return self

    def stop(self) -> None:
        self.door.stop()
        self.publisher.stop()
        self.camera.close()
        self.feedback.close()
        self.outbox.close()

    def fault(self, stall_s: float = 15.0) -> str | None:
        """Why the watchdog must not be fed, in words, or None: a stopped thread, a failed door loop
        (a camera that failed), or a loop that has not turned for ``stall_s`` (a camera read or an
        inference that hangs); systemd then restarts the unit. A replay that ended is no fault."""
        if not self.publisher.is_alive():
            return "the publisher thread has stopped"
        if self.door.finished.is_set():
            return f"the door loop stopped: {self.door.error}" if self.door.error else None
        if not self.door.is_alive():
            return "the door loop thread has stopped"
        idle = time.monotonic() - self.door.progress
        if idle >= stall_s:
            return f"the door loop has not turned for {idle:.0f} s (a camera read or inference hangs)"
        return None

    def alive(self, stall_s: float = 15.0) -> bool:
        """Both threads running and the door loop turning (see :meth:`fault`)."""
        return self.fault(stall_s) is None

    def health(self) -> dict:
        s = self.door.stats
        return {
            "gallery_version": self.gallery.version,
            "degraded": bool(self.door.error) or self.feedback.alarm_on,
            "rss_kb": health.rss_kb(),
            "temp_mc": health.cpu_temp_mc(),
            "detail": {
                "fps": round(s.fps(), 1),
                "latency_ms": s.p50().get("frame_ms"),
                "ms": s.p50(),
                "model": getattr(self.analyzer, "version", ""),
                "clock": "synced" if self.door.clock_synced() else "unsynced",
                "door": self.cfg.door.id,
                "mode": self.cfg.door.mode.value,
                "alarm": self.feedback.alarm_on,
                "error": self.door.error[:120],
            },
        }

    def command(self, cmd: wire.UnitCommand) -> None:
        """A verified command from the controller, for this run of the unit."""
        log.info("command from the controller: %s %s", cmd.command, cmd.args)
        if cmd.command is wire.Command.OPEN_DOOR:
            delegate = cmd.args.get("delegate_id")
            self.door.attendant_answered(
                str(delegate) if delegate else None, bool(cmd.args.get("accept", True))
            )
        elif cmd.command is wire.Command.IDENTIFY:
            self.feedback.identify()
        elif cmd.command is wire.Command.SET_DIRECTION:
            value = str(cmd.args.get("direction", ""))
            if value in (d.value for d in wire.Direction):
                self.door.direction = wire.Direction(value)
        elif cmd.command is wire.Command.RESTART:
            self.restart_requested.set()
        elif cmd.command is wire.Command.SYNC_GALLERY:
            self.publisher.notify()


def run(cfg: EdgeConfig, *, stop: threading.Event | None = None) -> int:
    """``congress edge run``: start, notify systemd, keep the watchdog fed, stop on SIGTERM (exit 0)
    or on the controller's ``restart`` command (exit RESTART_EXIT, so systemd starts it again)."""
    import sdnotify

    stop = stop or threading.Event()

    def on_signal(signum, frame) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    notifier = sdnotify.SystemdNotifier()
    unit = Unit(cfg).start()
    notifier.notify(f"READY=1\nSTATUS=door {cfg.door.id} ready in {unit.ready_s:.1f} s")
    watchdog_s = min(_watchdog_interval(), 1.0)  # feeding more often than needed is harmless
    try:
        reported = None  # the kind of fault last logged: once per episode, not every second
        while not stop.wait(watchdog_s) and not unit.restart_requested.is_set():
            fault = unit.fault()
            kind = fault.split(":")[0].split(" for ")[0] if fault else None
            if fault is None:
                notifier.notify("WATCHDOG=1")
                if reported is not None:
                    log.info("feeding the watchdog again")
            elif kind != reported:
                log.error("not feeding the watchdog: %s", fault)
            reported = kind
    finally:
        notifier.notify("STOPPING=1")
        unit.stop()
    if unit.restart_requested.is_set():
        log.info("restarting on the controller's command")
        return RESTART_EXIT
    return 0


def _watchdog_interval() -> float:
    import os

    usec = os.environ.get("WATCHDOG_USEC")
    return max(0.5, int(usec) / 2e6) if usec and usec.isdigit() else 5.0
