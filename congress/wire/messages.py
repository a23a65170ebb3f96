"""The message types and how each maps to and from its JSON ``body``.

Every message carries the envelope fields ``venue``, ``unit`` (the unit it comes from or goes to),
``boot`` (the sender's boot id) and ``seq`` (the sender's per-boot counter). Bodies hold only strings,
integers, booleans, lists and objects: scores and margins travel as integers in 1/10,000
(``score_e4``), embeddings as base64 of their raw bytes. ``from_body`` checks every field and raises
``ProtocolError('malformed', ...)`` naming it.
"""

from __future__ import annotations

import abc
import base64
import binascii
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from congress.wire.fields import (
    _ID,
    MAX_INT,
    _bad,
    e4,
    get_bool,
    get_enum,
    get_int,
    get_list,
    get_str,
    un_e4,
)
from congress.wire.topics import MAX_GALLERY_PARTS, Kind, gallery_part_topic, unit_topic

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Latest wall time a message may carry: 9999-12-31T23:59:59.999Z, the last instant a date can hold.
MAX_WALL_TIME_MS = 253_402_300_799_999


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Method(StrEnum):
    FACE = "face"
    BADGE = "badge"
    BADGE_FACE = "badge+face"
    ATTENDANT = "attendant"


class Liveness(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_CHECKED = "not_checked"


class UnitState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    DEGRADED = "degraded"
    STOPPING = "stopping"
    OFFLINE = "offline"


class AckOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class Command(StrEnum):
    IDENTIFY = "identify"
    OPEN_DOOR = "open_door"
    SYNC_GALLERY = "sync_gallery"
    SET_DIRECTION = "set_direction"
    RESTART = "restart"


@dataclass(frozen=True, kw_only=True)
class Message(abc.ABC):
    """Envelope fields common to every message. ``kind`` says which topic the message goes to."""

    kind: ClassVar[Kind]
    body_keys: ClassVar[frozenset[str]]  # exactly the keys of body(); others are refused
    venue: str
    unit: str
    boot: str
    seq: int

    @property
    def topic(self) -> str:
        return unit_topic(self.venue, self.unit, self.kind)

    @property
    def event_id(self) -> tuple[str, str, int]:
        """``(unit, boot, seq)`` for unit messages; for controller messages ``boot`` is the controller's."""
        return (self.unit, self.boot, self.seq)

    @abc.abstractmethod
    def body(self) -> dict[str, Any]:
        """The type-specific fields, as they are signed."""

    @classmethod
    @abc.abstractmethod
    def from_body(cls, env: dict[str, Any], body: dict[str, Any]) -> Message:
        """Rebuild the message from a verified envelope and its body."""


@dataclass(frozen=True, kw_only=True)
class CheckIn(Message):
    """A delegate passed a door (or was let through by an attendant)."""

    kind: ClassVar[Kind] = Kind.CHECKIN
    body_keys: ClassVar[frozenset[str]] = frozenset(
        {"delegate_id", "direction", "method", "door", "score_e4", "margin_e4", "liveness", "mono_ms",
         "wall_time_ms", "clock_synced"})
    delegate_id: str
    direction: Direction
    method: Method
    door: str
    score: float | None = None  # cosine similarity of the face match, None for badge/attendant
    margin: float | None = None  # best score minus the runner-up's
    liveness: Liveness = Liveness.NOT_CHECKED
    mono_ms: int = 0  # the unit's monotonic clock when the decision was taken
    wall_time_ms: int | None = None  # Unix time in ms as the unit believed it; information only
    clock_synced: bool = False  # whether the unit's clock was NTP-synchronised at the time

    def body(self) -> dict[str, Any]:
        return {"delegate_id": self.delegate_id, "direction": self.direction.value,
                "method": self.method.value, "door": self.door, "score_e4": e4(self.score),
                "margin_e4": e4(self.margin), "liveness": self.liveness.value, "mono_ms": self.mono_ms,
                "wall_time_ms": self.wall_time_ms, "clock_synced": self.clock_synced}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> CheckIn:
        return cls(**env, delegate_id=get_str(body, "delegate_id", pattern=_ID),
                   direction=get_enum(body, "direction", Direction), method=get_enum(body, "method", Method),
                   door=get_str(body, "door", max_len=64), score=un_e4(body, "score_e4"),
                   margin=un_e4(body, "margin_e4"), liveness=get_enum(body, "liveness", Liveness),
                   mono_ms=get_int(body, "mono_ms"),
                   wall_time_ms=get_int(body, "wall_time_ms", hi=MAX_WALL_TIME_MS, optional=True),
                   clock_synced=get_bool(body, "clock_synced"))


@dataclass(frozen=True, kw_only=True)
class UnitStatus(Message):
    """Health of a door unit, sent periodically (retained) and as its MQTT last will (``offline``)."""

    kind: ClassVar[Kind] = Kind.STATUS
    body_keys: ClassVar[frozenset[str]] = frozenset(
        {"state", "uptime_s", "outbox", "gallery_version", "rss_kb", "temp_mc", "software", "detail"})
    state: UnitState
    uptime_s: int = 0
    outbox: int = 0  # check-ins waiting for an acknowledgement
    gallery_version: int = 0
    rss_kb: int | None = None
    temp_mc: int | None = None  # SoC temperature in milli-degrees Celsius
    software: str = ""
    detail: str = ""

    def body(self) -> dict[str, Any]:
        return {"state": self.state.value, "uptime_s": self.uptime_s, "outbox": self.outbox,
                "gallery_version": self.gallery_version, "rss_kb": self.rss_kb, "temp_mc": self.temp_mc,
                "software": self.software, "detail": self.detail}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> UnitStatus:
        return cls(**env, state=get_enum(body, "state", UnitState), uptime_s=get_int(body, "uptime_s"),
                   outbox=get_int(body, "outbox"), gallery_version=get_int(body, "gallery_version"),
                   rss_kb=get_int(body, "rss_kb", optional=True),
                   temp_mc=get_int(body, "temp_mc", lo=-100_000, hi=200_000, optional=True),
                   software=get_str(body, "software", max_len=64),
                   detail=get_str(body, "detail", max_len=500))


@dataclass(frozen=True)
class AckedEvent:
    """One check-in the controller has committed (or refused for good): delete it from the outbox."""

    boot: str
    seq: int
    outcome: AckOutcome = AckOutcome.STORED
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Ack(Message):
    """Controller -> unit: these of your check-ins are committed; ``unit`` is the addressee."""

    kind: ClassVar[Kind] = Kind.ACK
    body_keys: ClassVar[frozenset[str]] = frozenset({"events"})
    events: tuple[AckedEvent, ...]

    def body(self) -> dict[str, Any]:
        return {"events": [{"boot": e.boot, "seq": e.seq, "outcome": e.outcome.value, "reason": e.reason}
                           for e in self.events]}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> Ack:
        events = []
        for item in get_list(body, "events", 10_000):
            if not isinstance(item, dict) or set(item) != {"boot", "seq", "outcome", "reason"}:
                raise _bad("events", "must hold objects with boot, seq, outcome and reason")
            events.append(AckedEvent(get_str(item, "boot", max_len=64), get_int(item, "seq"),
                                     get_enum(item, "outcome", AckOutcome),
                                     get_str(item, "reason", max_len=200)))
        return cls(**env, events=tuple(events))


@dataclass(frozen=True, kw_only=True)
class GalleryUpdate(Message):
    """Controller -> unit: the manifest of one gallery version, retained on ``.../gallery``: how many
    sealed parts it has and the SHA-256 of each (:func:`congress.gallery_crypto.digest`). The unit
    installs the version once every part has arrived and matches; the face templates travel only
    inside the parts, sealed to that unit's key."""

    kind: ClassVar[Kind] = Kind.GALLERY
    body_keys: ClassVar[frozenset[str]] = frozenset({"version", "parts", "digests"})
    version: int
    parts: int = 1
    digests: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "parts": self.parts, "digests": list(self.digests)}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> GalleryUpdate:
        parts = get_int(body, "parts", lo=1, hi=MAX_GALLERY_PARTS)
        digests = tuple(get_str({"d": d}, "d", max_len=64, pattern=_SHA256)
                        for d in get_list(body, "digests", MAX_GALLERY_PARTS))
        if len(digests) != parts:
            raise _bad("digests", f"must name exactly {parts} part digests")
        return cls(**env, version=get_int(body, "version"), parts=parts, digests=digests)


@dataclass(frozen=True, kw_only=True)
class GalleryPart(Message):
    """Controller -> unit: part ``part`` of ``parts`` of a gallery version, retained on
    ``.../gallery/<part>``; ``sealed`` is opaque here (AES-256-GCM for this unit alone, see
    :mod:`congress.gallery_crypto`) and travels as base64."""

    kind: ClassVar[Kind] = Kind.GALLERY_PART
    body_keys: ClassVar[frozenset[str]] = frozenset({"version", "part", "parts", "sealed"})
    version: int
    part: int = 0
    parts: int = 1
    sealed: bytes = b""

    @property
    def topic(self) -> str:
        return gallery_part_topic(self.venue, self.unit, self.part)

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "part": self.part, "parts": self.parts,
                "sealed": base64.b64encode(self.sealed).decode("ascii")}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> GalleryPart:
        parts = get_int(body, "parts", lo=1, hi=MAX_GALLERY_PARTS)
        try:
            sealed = base64.b64decode(get_str(body, "sealed", max_len=12_000_000), validate=True)
        except (binascii.Error, ValueError):
            raise _bad("sealed", "is not base64") from None
        if not sealed:
            raise _bad("sealed", "is empty")
        return cls(**env, version=get_int(body, "version"), part=get_int(body, "part", hi=parts - 1),
                   parts=parts, sealed=sealed)


@dataclass(frozen=True, kw_only=True)
class UnitCommand(Message):
    """Controller -> unit: do something now. ``unit_boot`` must equal the unit's current boot id, so a
    command queued or replayed across a restart of the unit is ignored."""

    kind: ClassVar[Kind] = Kind.CMD
    body_keys: ClassVar[frozenset[str]] = frozenset({"unit_boot", "command", "args"})
    unit_boot: str
    command: Command
    args: dict[str, str | int | bool] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"unit_boot": self.unit_boot, "command": self.command.value, "args": dict(self.args)}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> UnitCommand:
        args = body.get("args")
        if not isinstance(args, dict) or len(args) > 32:
            raise _bad("args", "must be an object with at most 32 keys")
        for k, v in args.items():
            if (not isinstance(v, str | int | bool) or (isinstance(v, str) and len(v) > 256)
                    or (isinstance(v, int) and abs(v) > MAX_INT)):
                raise _bad(f"args.{k}", "must be a short string, an integer or a boolean")
        return cls(**env, unit_boot=get_str(body, "unit_boot", max_len=64),
                   command=get_enum(body, "command", Command), args=dict(args))


#: Frames in one keypad relay message: a vote frame is 64 base64 characters, so 200 fit in 16 KiB.
MAX_RELAYED_FRAMES = 200
_MAX_FRAME = 1034  # a keypad frame at its largest (congress.keypads.framing: 1,024 bytes of payload)


def _frames_from(body: dict) -> tuple[bytes, ...]:
    frames = []
    for item in get_list(body, "frames", MAX_RELAYED_FRAMES):
        try:
            raw = base64.b64decode(get_str({"f": item}, "f", max_len=4 * _MAX_FRAME // 3 + 4), validate=True)
        except (binascii.Error, ValueError):
            raise _bad("frames", "must hold base64 strings") from None
        if not 1 <= len(raw) <= _MAX_FRAME:
            raise _bad("frames", f"a frame must be 1 to {_MAX_FRAME} bytes")
        frames.append(raw)
    if not frames:
        raise _bad("frames", "is empty")
    return tuple(frames)


@dataclass(frozen=True, kw_only=True)
class KeypadFrames(Message):
    """Site gateway -> controller: whole frames exactly as the site's keypad base station sent them
    (docs/keypad-protocol.md), in order; ``unit`` is the site id (the gateway signs with the site's
    key). Each vote is sealed for its keypad (AES-CCM) and every vote frame has one length: the gateway,
    the brokers and the link can neither read, forge nor tell apart the votes they carry."""

    kind: ClassVar[Kind] = Kind.KEYPADS
    body_keys: ClassVar[frozenset[str]] = frozenset({"frames"})
    frames: tuple[bytes, ...]

    def body(self) -> dict[str, Any]:
        return {"frames": [base64.b64encode(f).decode("ascii") for f in self.frames]}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> KeypadFrames:
        return cls(**env, frames=_frames_from(body))


@dataclass(frozen=True, kw_only=True)
class KeypadReplies(KeypadFrames):
    """Controller -> site gateway: frames to write to the site's base station as they are (acks with
    their receipt codes, ballot announcements, re-polls, hello requests)."""

    kind: ClassVar[Kind] = Kind.KEYPAD_REPLIES


MESSAGE_TYPES: dict[Kind, type[Message]] = {
    c.kind: c for c in (CheckIn, UnitStatus, Ack, GalleryUpdate, GalleryPart, UnitCommand, KeypadFrames,
                        KeypadReplies)
}
