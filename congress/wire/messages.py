"""The five message types and how each maps to and from its JSON ``body``.

Every message carries the envelope fields ``venue``, ``unit`` (the unit it comes from or goes to),
``boot`` (the sender's boot id) and ``seq`` (the sender's per-boot counter). Bodies hold only strings,
integers, booleans, lists and objects: scores and margins travel as integers in 1/10,000
(``score_e4``), embeddings as base64 of their raw bytes. ``from_body`` checks every field and raises
``ProtocolError('malformed', ...)`` naming it.
"""

from __future__ import annotations

import base64
import binascii
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
from congress.wire.topics import Kind, unit_topic


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
class Message:
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

    def body(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_body(cls, env: dict[str, Any], body: dict[str, Any]) -> Message:
        raise NotImplementedError


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
                   wall_time_ms=get_int(body, "wall_time_ms", optional=True),
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


@dataclass(frozen=True)
class GalleryEntry:
    """One delegate's face templates: ``embeddings`` is n x dim values in ``dtype``, little-endian."""

    delegate_id: str
    embeddings: bytes


@dataclass(frozen=True, kw_only=True)
class GalleryUpdate(Message):
    """Controller -> unit: face templates. A full gallery may be split in ``parts`` messages."""

    kind: ClassVar[Kind] = Kind.GALLERY
    body_keys: ClassVar[frozenset[str]] = frozenset(
        {"version", "full", "part", "parts", "dim", "dtype", "removed", "entries"})
    version: int
    full: bool = True  # True: replaces the unit's gallery once all parts arrived; False: a delta
    part: int = 0
    parts: int = 1
    dim: int = 128
    dtype: str = "f4"  # "f4" float32 or "i1" int8
    entries: tuple[GalleryEntry, ...] = ()
    removed: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "full": self.full, "part": self.part, "parts": self.parts,
                "dim": self.dim, "dtype": self.dtype, "removed": list(self.removed),
                "entries": [{"delegate_id": e.delegate_id,
                             "emb": base64.b64encode(e.embeddings).decode("ascii")} for e in self.entries]}

    @classmethod
    def from_body(cls, env: dict, body: dict) -> GalleryUpdate:
        dtype = get_str(body, "dtype", max_len=2)
        if dtype not in ("f4", "i1"):
            raise _bad("dtype", "must be f4 or i1")
        dim = get_int(body, "dim", lo=1, hi=4096)
        row = dim * (4 if dtype == "f4" else 1)
        parts = get_int(body, "parts", lo=1, hi=10_000)
        entries = []
        for item in get_list(body, "entries", 100_000):
            if not isinstance(item, dict) or set(item) != {"delegate_id", "emb"}:
                raise _bad("entries", "must hold objects with delegate_id and emb")
            try:
                raw = base64.b64decode(get_str(item, "emb", max_len=10_000_000), validate=True)
            except (binascii.Error, ValueError):
                raise _bad("entries.emb", "is not base64") from None
            if not raw or len(raw) % row:
                raise _bad("entries.emb", f"is not a whole number of {dim}-value {dtype} embeddings")
            entries.append(GalleryEntry(get_str(item, "delegate_id", pattern=_ID), raw))
        removed = tuple(get_str({"r": r}, "r", pattern=_ID) for r in get_list(body, "removed", 100_000))
        return cls(**env, version=get_int(body, "version"), full=get_bool(body, "full"),
                   part=get_int(body, "part", hi=parts - 1), parts=parts, dim=dim, dtype=dtype,
                   entries=tuple(entries), removed=removed)


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


MESSAGE_TYPES: dict[Kind, type[Message]] = {
    c.kind: c for c in (CheckIn, UnitStatus, Ack, GalleryUpdate, UnitCommand)
}
