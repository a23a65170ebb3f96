"""Votes from satellite sites: keypad frames relayed by the site gateways, counted by the keypad reader.

A site with a keypad base station runs the gateway's relay (:mod:`gateway.relay`): it forwards every
whole frame its base station sends, signed by the site's key, through its outbox and the site's bridge
(:class:`congress.wire.KeypadFrames` on ``congress/<venue>/site/<site>/unit/<site>/keypads``).
:class:`SiteKeypads` takes them off the controller's link in its own thread (``site-keypads``) and:

1. verifies the message (the site's Ed25519 key, the venue) and that it came from a site gateway
   through that same site's bridge — a door unit's certificate cannot relay keypad frames;
2. hands the frames to the controller's one :class:`controller.voting.keypad_reader.KeypadReader`
   (:meth:`~controller.voting.keypad_reader.KeypadReader.relay`), which treats them exactly as frames
   from its own line: AES-CCM authentication per keypad, counters that must rise (stored before any
   acknowledgement, so a replay — a broker delivering twice, a gateway resending after a restart —
   is refused), eligibility, one vote per delegate and ballot, and a secret ballot's split between
   who voted and what was chosen;
3. after that commit sends the keypads' acknowledgements (with their receipt codes) back to the site
   (:class:`congress.wire.KeypadReplies`), then acknowledges the message, and only then does the
   gateway drop it from its outbox.

Ballot announcements and re-polls the reader sends to its own line are mirrored to every site gateway.
Nothing here logs, stores or inspects a frame's sealed part; what the gateway, the brokers and the
link see is what a base station sees: keypad ids, counters and fixed-length ciphertext.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from congress import wire
from congress.errors import ProtocolError
from controller.checkins.unit_registry import UnitRegistry
from controller.link import ControllerLink
from controller.voting.keypad_reader import KeypadReader

log = logging.getLogger(__name__)


class SiteKeypads:
    """See the module docstring; construct before the link starts, then :meth:`start`."""

    def __init__(self, link: ControllerLink, reader: KeypadReader, registry: UnitRegistry, *,
                 gateways: Callable[[], list[str]] | None = None) -> None:
        self.link, self.reader, self.registry = link, reader, registry
        self.venue = link.venue_id
        self.gateways = gateways or registry.site_gateways
        self.stats = {"messages": 0, "frames": 0, "replies": 0, "refused": 0, "repeats": 0}
        self._replay = wire.ReplayGuard()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        link.subscribe([(wire.routed("+", wire.unit_topic(self.venue, "+", wire.Kind.KEYPADS)), 1)],
                       lambda topic, payload, _arrived: self._queue.put((topic, payload)))
        reader.mirrors.append(self.broadcast)

    def start(self) -> SiteKeypads:
        self._thread = threading.Thread(target=self._run, name="site-keypads", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.handle(topic, payload)
            except Exception:  # not acknowledged: the gateway sends it again
                log.exception("keypad frames from %s could not be handled", topic)

    def handle(self, topic: str, payload: bytes) -> None:
        """One relayed message: verify, count its frames, reply to the site, acknowledge."""
        try:
            msg = wire.verify(payload, topic=topic, venue=self.venue, unit_keys=self.registry.key)
            site = wire.split_route(topic)[0]
            if site is None or msg.unit != site or self.registry.site_of(site) != site:
                raise ProtocolError(wire.Reason.TOPIC_MISMATCH,
                                    f"keypad frames from {msg.unit!r} on {topic!r}: only a site's gateway, "
                                    "through its own bridge, relays keypad frames")
        except ProtocolError as exc:
            self.stats["refused"] += 1
            log.warning("refused relayed keypad frames: %s (%s)", exc, exc.reason)
            return
        self.stats["messages"] += 1
        try:
            self._replay.check(msg.unit, msg.boot, msg.seq)
        except ProtocolError:  # handled already; its acknowledgement went astray: only acknowledge
            self.stats["repeats"] += 1
        else:
            replies: list[bytes] = []
            self.reader.relay(list(msg.frames), replies.append)
            self.stats["frames"] += len(msg.frames)
            self._reply(site, replies)
        self.link.send(lambda boot, seq: wire.Ack(
            venue=self.venue, unit=site, boot=boot, seq=seq,
            events=(wire.AckedEvent(msg.boot, msg.seq),)), site=site)

    def _reply(self, site: str, frames: list[bytes]) -> None:
        for i in range(0, len(frames), wire.MAX_RELAYED_FRAMES):
            chunk = tuple(frames[i : i + wire.MAX_RELAYED_FRAMES])
            self.link.send(lambda boot, seq, chunk=chunk: wire.KeypadReplies(
                venue=self.venue, unit=site, boot=boot, seq=seq, frames=chunk), site=site)
            self.stats["replies"] += len(chunk)

    def broadcast(self, frame: bytes) -> None:
        """A frame for every site's base station (the keypad reader's mirror: ballots, re-polls)."""
        if not self.link.started:
            return
        for site in self.gateways():
            self._reply(site, [frame])
