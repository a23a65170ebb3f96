"""A satellite site's gateway: relays the site's keypad base station to the central controller.

``congress edge gateway --config gateway.toml`` (:class:`congress.config.gateway.GatewayConfig`) runs
next to the site's own Mosquitto, which bridges to the central broker (docs/multi-site.md). It is a
door unit without a camera: the same outbox and publisher (:mod:`congress.link`), under the site's id
and key, so what it relays has the door units' guarantee — kept on disk until the central controller's
signed acknowledgement comes back through the bridge, resent after any fault.

:class:`KeypadRelay` (thread ``keypad-relay``) owns the serial line: it asks the base station for its
hello when the line opens, cuts what it reads into whole frames (``congress.keypads.framing.FrameParser``;
line noise is dropped here, as the controller's reader would), and every ``batch_ms`` puts the frames
read into one signed :class:`congress.wire.KeypadFrames` message in the outbox. What the controller
sends back (:class:`congress.wire.KeypadReplies`: the keypads' acknowledgements with their receipt
codes, ballot announcements, re-polls) is written to the line in order. The gateway holds no keypad
key: it can neither read nor forge a vote, exactly like the base station itself.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time

import serial

from congress import pki, wire
from congress.config.gateway import GatewayConfig, RelaySection
from congress.keypads import protocol as p
from congress.keypads.framing import FrameParser, RawFrame, encode_frame
from congress.link.outbox import Outbox, OutboxFull
from congress.link.publisher import Publisher

log = logging.getLogger(__name__)


class KeypadRelay(threading.Thread):
    """The base station's line at a site; see the module docstring. ``relay(frames)`` stores one batch."""

    def __init__(self, section: RelaySection, relay) -> None:
        super().__init__(name="keypad-relay", daemon=True)
        self.section, self._relay = section, relay
        self.stop_event = threading.Event()
        self.connected = threading.Event()
        self.stats = {"frames": 0, "messages": 0, "rejected": 0, "written": 0, "dropped": 0}
        self._out: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def replies(self, msg: wire.KeypadReplies) -> None:
        """The publisher's hand-over: frames from the controller for the base station."""
        for frame in msg.frames:
            self._out.put(frame)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        s = self.section
        while not self.stop_event.is_set():
            try:
                line = serial.serial_for_url(s.port, baudrate=s.baud, timeout=0.05, write_timeout=2)
            except (serial.SerialException, OSError, ValueError) as exc:
                log.warning("keypad base station %s not available (%s); retrying", s.port, exc)
                self.stop_event.wait(s.retry_s)
                continue
            log.info("keypad base station %s open at %d baud", s.port, s.baud)
            try:
                line.write(p.encode_hello_request())
                self.connected.set()
                self._serve(line)
            except (serial.SerialException, OSError) as exc:
                log.warning("keypad base station %s lost (%s); reopening", s.port, exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(serial.SerialException, OSError):
                    line.close()

    def _serve(self, line) -> None:
        parser, batch, first = FrameParser(), [], 0.0
        window = self.section.batch_ms / 1000
        while not self.stop_event.is_set():
            while True:
                try:
                    frame = self._out.get_nowait()
                except queue.Empty:
                    break
                line.write(frame)
                self.stats["written"] += 1
            data = line.read(4096)
            for item in parser.feed(data) if data else ():
                if isinstance(item, RawFrame):
                    batch.append(encode_frame(item.type, item.payload))  # the bytes as the station sent them
                    first = first or time.monotonic()
                else:
                    self.stats["rejected"] += 1
                    log.warning("keypad line: %s (%s)", item.reason, item.detail)
            if batch and (len(batch) >= wire.MAX_RELAYED_FRAMES or time.monotonic() - first >= window):
                self._store(batch)
                batch, first = [], 0.0
        if batch:
            self._store(batch)

    def _store(self, frames: list[bytes]) -> None:
        try:
            self._relay(frames)
        except OutboxFull as exc:  # the keypads get no acknowledgement and vote again; re-poll reaches them
            self.stats["dropped"] += len(frames)
            log.error("%s: %d keypad frames not relayed", exc, len(frames))
            return
        self.stats["frames"] += len(frames)
        self.stats["messages"] += 1


class Gateway:
    """The site gateway's parts, built from its configuration; :meth:`start` / :meth:`stop`."""

    def __init__(self, cfg: GatewayConfig) -> None:
        self.cfg = cfg
        site = cfg.site
        site.data_dir.mkdir(parents=True, exist_ok=True)
        self.key = pki.load_signing_key(site.signing_key_file)
        capacity = cfg.keypads.capacity if cfg.keypads else 1000
        self.outbox = Outbox(site.data_dir / "relay.db", capacity)
        self.relay = KeypadRelay(cfg.keypads, self.relay_frames) if cfg.keypads else None
        self.publisher = Publisher(
            broker=cfg.broker, venue_id=cfg.venue.id, unit_id=site.id, signing_key=self.key,
            controller_key=pki.load_public_key(site.controller_key_file), outbox=self.outbox,
            health=self.health, on_keypad_replies=self.relay.replies if self.relay else None,
            heartbeat_s=site.heartbeat_s, software="congress-gateway", name="gateway-publisher")

    def relay_frames(self, frames: list[bytes]) -> None:
        venue, site = self.cfg.venue.id, self.cfg.site.id
        self.outbox.add(wire.Kind.KEYPADS.value, lambda boot, seq: wire.encode(
            wire.KeypadFrames(venue=venue, unit=site, boot=boot, seq=seq, frames=tuple(frames)), self.key))
        self.publisher.notify()

    def health(self) -> dict:
        relay = self.relay
        detail = {"keypads": "none"} if relay is None else {
            "keypads": "open" if relay.connected.is_set() else "closed", **relay.stats}
        return {"detail": detail, "degraded": relay is not None and not relay.connected.is_set()}

    def start(self) -> Gateway:
        self.publisher.start()
        if self.relay is not None:
            self.relay.start()
        return self

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        self.publisher.stop()
        self.outbox.close()


def run(cfg: GatewayConfig) -> int:
    """``congress edge gateway``: run until SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    gateway = Gateway(cfg).start()
    keypads = cfg.keypads.port if cfg.keypads else "none"
    log.info("site %s gateway running (keypads: %s)", cfg.site.id, keypads)
    try:
        stop.wait()
    finally:
        gateway.stop()
    return 0
