"""Canonical encoding, Ed25519 signatures and verification of wire messages.

A message on the wire is one JSON object::

    {"body":{...},"boot":"...","seq":7,"sig":"<base64url>","type":"checkin","unit":"door-1","v":1,
     "venue":"congress-2026"}

encoded canonically: keys sorted, no whitespace (``,`` and ``:``), UTF-8 (no ``\\u`` escapes except
those JSON requires), integers only (no floats, no NaN), every integer within +-(2**53-1). The signature
is Ed25519 over the canonical encoding of the same object without ``sig``. A payload that is not
byte-for-byte canonical is rejected, so one signed message has exactly one encoding.

Unit messages (check-in, status) are signed with the unit's key; controller messages (ack, gallery,
command) with the controller key created by ``congress ca init``. :func:`verify` checks, in order: size,
JSON, version, signature present, type, topic and venue, signer known, signature, body fields, replay.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from congress.errors import ProtocolError
from congress.wire.fields import _ID, MAX_INT, excerpt, get_int, get_str
from congress.wire.messages import MESSAGE_TYPES, Message
from congress.wire.topics import CONTROLLER_WRITES, Kind, parse_topic, split_route

PROTOCOL_VERSION = 1
#: Largest check-in, status, ack or command accepted (bytes of the whole payload).
MAX_MESSAGE_BYTES = 16 * 1024
#: Largest gallery manifest or part; bigger galleries are split into more parts. Small on purpose: the
#: broker's packet limit applies to every client alike (Mosquitto has no per-client limit), so this is
#: also the most a door unit's certificate can make the broker hold per message (docs/security.md, 3).
MAX_GALLERY_BYTES = 128 * 1024
#: Gallery manifests and parts may be up to MAX_GALLERY_BYTES.
GALLERY_KINDS = frozenset({Kind.GALLERY, Kind.GALLERY_PART})
_ENVELOPE = {"v", "type", "venue", "unit", "boot", "seq", "body", "sig"}


class Reason(StrEnum):
    """``ProtocolError.reason`` codes raised by :func:`verify`."""

    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    WRONG_VERSION = "wrong_version"
    UNKNOWN_TYPE = "unknown_type"
    UNEXPECTED_TYPE = "unexpected_type"
    BAD_TOPIC = "bad_topic"
    TOPIC_MISMATCH = "topic_mismatch"
    WRONG_VENUE = "wrong_venue"
    UNKNOWN_UNIT = "unknown_unit"
    REPLAY = "replay"


def canonical(obj: Any) -> bytes:
    """The canonical bytes of a JSON value (see the module docstring); rejects floats."""
    _check_numbers(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _check_numbers(obj: Any) -> None:
    if isinstance(obj, float):
        raise ProtocolError(Reason.MALFORMED, "floating-point numbers are not allowed on the wire")
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) > MAX_INT:
        raise ProtocolError(Reason.MALFORMED, "integer out of the exact JSON range")
    if isinstance(obj, dict):
        for v in obj.values():
            _check_numbers(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _check_numbers(v)


def _unsigned(msg: Message) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": msg.kind.value, "venue": msg.venue, "unit": msg.unit,
            "boot": msg.boot, "seq": msg.seq, "body": msg.body()}


def encode(msg: Message, key: Ed25519PrivateKey) -> bytes:
    """Sign ``msg`` with ``key`` and return its canonical payload bytes (what is published)."""
    obj = _unsigned(msg)
    sig = key.sign(canonical(obj))
    obj["sig"] = base64.urlsafe_b64encode(sig).rstrip(b"=").decode("ascii")
    payload = canonical(obj)
    limit = MAX_GALLERY_BYTES if msg.kind in GALLERY_KINDS else MAX_MESSAGE_BYTES
    if len(payload) > limit:
        raise ProtocolError(Reason.OVERSIZED, f"{msg.kind} message of {len(payload)} bytes exceeds {limit}",
                            hint="split the gallery into more parts" if msg.kind in GALLERY_KINDS else None)
    return payload


sign = encode

KeyLookup = Mapping[str, Ed25519PublicKey] | Callable[[str], Ed25519PublicKey | None]


def size_limit(topic: str | None) -> int:
    """The largest payload accepted on ``topic``: 16 KiB, or 128 KiB on a gallery manifest or part topic
    (the only large messages). Without a topic, the gallery limit (checked again once the type is read).
    Decided from the topic alone, so it applies before a byte of the payload is parsed."""
    if topic is None:
        return MAX_GALLERY_BYTES
    levels = topic.rsplit("/", 2)
    gallery = levels[-1] == Kind.GALLERY.value or (len(levels) == 3 and levels[-2] == Kind.GALLERY.value)
    return MAX_GALLERY_BYTES if gallery else MAX_MESSAGE_BYTES


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate key")
    return d


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def verify(
    payload: bytes,
    *,
    topic: str | None = None,
    venue: str | None = None,
    unit_keys: KeyLookup | None = None,
    controller_key: Ed25519PublicKey | None = None,
    replay: ReplayGuard | None = None,
) -> Message:
    """Check ``payload`` and return the message; raise ``ProtocolError(reason, message)``.

    The controller passes ``unit_keys`` (unit id -> public key, a mapping or a function returning None
    for unknown units); a door unit passes ``controller_key``. A message type whose signer this side has
    no key for is ``unexpected_type``. With ``topic`` the message's venue, unit and type must match it;
    with ``replay`` a repeated or too old ``(sender, boot, seq)`` is ``replay``.
    """
    if not isinstance(payload, bytes | bytearray):
        raise ProtocolError(Reason.MALFORMED, "payload is not bytes")
    payload = bytes(payload)
    before_parsing = size_limit(topic)
    if len(payload) > before_parsing:
        raise ProtocolError(Reason.OVERSIZED, f"message of {len(payload)} bytes exceeds {before_parsing}")
    try:
        obj = json.loads(payload.decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_float=lambda s: _reject_constant("a floating-point number"),
                         parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(Reason.MALFORMED, f"not a JSON message: {excerpt(str(exc), 80)}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(Reason.MALFORMED, "message is not a JSON object")
    if "v" not in obj:
        raise ProtocolError(Reason.MALFORMED, "message has no protocol version 'v'")
    if obj["v"] != PROTOCOL_VERSION or isinstance(obj["v"], bool):
        raise ProtocolError(Reason.WRONG_VERSION, f"protocol version {excerpt(obj['v'])} is not supported "
                            f"(this program speaks version {PROTOCOL_VERSION})",
                            hint="update the software on the unit and the controller to the same release")
    if "sig" not in obj:
        raise ProtocolError(Reason.UNSIGNED, "message is not signed")
    if set(obj) != _ENVELOPE:
        raise ProtocolError(Reason.MALFORMED, f"envelope fields must be exactly {sorted(_ENVELOPE)}")
    try:
        kind = Kind(obj["type"])
    except ValueError:
        raise ProtocolError(Reason.UNKNOWN_TYPE, f"unknown message type {excerpt(obj['type'])}") from None
    limit = MAX_GALLERY_BYTES if kind in GALLERY_KINDS else MAX_MESSAGE_BYTES
    if len(payload) > limit:
        raise ProtocolError(Reason.OVERSIZED, f"{kind} message of {len(payload)} bytes exceeds {limit}")
    env = {"venue": get_str(obj, "venue", max_len=63, pattern=_ID),
           "unit": get_str(obj, "unit", max_len=63, pattern=_ID),
           "boot": get_str(obj, "boot", max_len=64, pattern=_ID), "seq": get_int(obj, "seq")}
    if not isinstance(obj["body"], dict):
        raise ProtocolError(Reason.MALFORMED, "field 'body' must be an object")
    if topic is not None:
        topic = split_route(topic)[1]  # a site's route is not part of the signed message
        t_venue, t_unit, t_kind = parse_topic(topic)
        if (t_venue, t_unit, t_kind) != (env["venue"], env["unit"], kind):
            raise ProtocolError(Reason.TOPIC_MISMATCH, f"{kind} for venue {env['venue']!r} unit "
                                f"{env['unit']!r} arrived on topic {excerpt(topic, 120)}")
    if venue is not None and env["venue"] != venue:
        raise ProtocolError(Reason.WRONG_VENUE, f"message is for venue {env['venue']!r}, not {venue!r}")
    key = _signer_key(kind, env["unit"], unit_keys, controller_key)
    sig = obj["sig"]
    raw_sig = _decode_sig(sig)
    if _dumps(obj) != payload:  # floats were refused while parsing; every int is range-checked below
        raise ProtocolError(Reason.MALFORMED, "message is not canonically encoded")
    # The signed bytes are the payload without its top-level "sig" member: in canonical order it sits
    # between "seq" and "type", and nothing after it can contain quotes, so the last match is the one.
    cut = b',"sig":"' + sig.encode("ascii") + b'"'
    at = payload.rfind(cut)
    signed = payload[:at] + payload[at + len(cut):]
    try:
        key.verify(raw_sig, signed)
    except InvalidSignature:
        who = "the controller" if kind in CONTROLLER_WRITES else f"unit {env['unit']!r}"
        raise ProtocolError(Reason.BAD_SIGNATURE, f"{kind} signature does not match the key of {who}",
                            hint="the message was altered, or the sender uses a key this side does not know "
                            "(re-issued unit? copy the new signing.pub to the controller)") from None
    cls = MESSAGE_TYPES[kind]
    signed_event = (env["unit"], env["boot"], env["seq"])
    if set(obj["body"]) != cls.body_keys:
        raise ProtocolError(Reason.MALFORMED, f"{kind} body fields must be exactly {sorted(cls.body_keys)}",
                            signed_event=signed_event)
    try:
        msg = cls.from_body(env, obj["body"])
    except ProtocolError as exc:  # signed by its sender, refused for a field: say so, for the ack
        raise ProtocolError(exc.reason, exc.message, hint=exc.hint, signed_event=signed_event) from None
    if topic is not None and msg.topic != topic:  # a gallery part on another part's topic
        raise ProtocolError(Reason.TOPIC_MISMATCH,
                            f"{kind} for {msg.topic!r} arrived on topic {excerpt(topic, 120)}")
    if replay is not None:
        sender = "controller" if kind in CONTROLLER_WRITES else env["unit"]
        replay.check(sender, env["boot"], env["seq"])
    return msg


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _decode_sig(sig: Any) -> bytes:
    """The 64 signature bytes; only the one canonical base64url spelling is accepted."""
    if isinstance(sig, str) and len(sig) == 86 and sig.isascii():
        try:
            raw = base64.urlsafe_b64decode(sig + "==")
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 64 and base64.urlsafe_b64encode(raw)[:86].decode("ascii") == sig:
            return raw
    raise ProtocolError(Reason.BAD_SIGNATURE, "signature is not 64 bytes of base64url")


def _signer_key(kind: Kind, unit: str, unit_keys: KeyLookup | None,
                controller_key: Ed25519PublicKey | None) -> Ed25519PublicKey:
    if kind in CONTROLLER_WRITES:
        if controller_key is None:
            raise ProtocolError(Reason.UNEXPECTED_TYPE, f"this side does not accept {kind} messages")
        return controller_key
    if unit_keys is None:
        raise ProtocolError(Reason.UNEXPECTED_TYPE, f"this side does not accept {kind} messages")
    key = unit_keys.get(unit) if isinstance(unit_keys, Mapping) else unit_keys(unit)
    if key is None:
        raise ProtocolError(Reason.UNKNOWN_UNIT, f"unit {unit!r} is not registered with this controller",
                            hint=f"issue it with `congress ca issue-unit {unit}` and register it")
    return key


class ReplayGuard:
    """Refuses a ``(sender, boot, seq)`` seen before, or older than ``window`` below the highest seen.

    A sliding window per (sender, boot) as in IPsec: out-of-order delivery within the window is fine.
    At most ``max_streams`` (sender, boot) pairs are remembered (least recently used dropped). Thread-safe.
    The controller also stores check-ins under a unique key, and must re-acknowledge a check-in refused
    here as a replay, since the unit resends until it gets an ack.
    """

    def __init__(self, window: int = 4096, max_streams: int = 65_536) -> None:
        self.window = window
        self.max_streams = max_streams
        self._streams: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()  # (highest, bitmap)
        self._lock = threading.Lock()

    def check(self, sender: str, boot: str, seq: int) -> None:
        """Record ``seq`` or raise ``ProtocolError('replay')``."""
        with self._lock:
            k = (sender, boot)
            highest, bits = self._streams.pop(k, (-1, 0))
            try:
                if seq > highest:
                    shift = seq - highest
                    fresh = highest < 0 or shift >= self.window
                    bits = 1 if fresh else ((bits << shift) | 1) & ((1 << self.window) - 1)
                    highest = seq
                elif highest - seq >= self.window:
                    raise ProtocolError(Reason.REPLAY, f"{sender} boot {boot} message {seq} is older than "
                                        f"the replay window (highest seen {highest})")
                elif bits >> (highest - seq) & 1:
                    raise ProtocolError(Reason.REPLAY, f"{sender} boot {boot} message {seq} was already "
                                        "received (replay or duplicate)")
                else:
                    bits |= 1 << (highest - seq)
            finally:
                self._streams[k] = (highest, bits)
                while len(self._streams) > self.max_streams:
                    self._streams.popitem(last=False)


def new_boot_id() -> str:
    """A fresh boot id (32 hex digits). Take a new one every time the program starts: the counter that
    goes with it lives in memory, so reusing a boot id would reuse event ids."""
    return uuid.uuid4().hex


class BootCounter:
    """This program run's boot id and its per-boot message counter (thread-safe, starts at 1)."""

    def __init__(self, boot: str | None = None) -> None:
        self.boot = boot or new_boot_id()
        self._seq = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq
