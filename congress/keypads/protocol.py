"""Keypad messages on the base-station line and their authenticated encryption.

The base station is a radio bridge: it forwards keypad frames to the controller and the controller's
acknowledgements back, but it never holds keypad keys. Each keypad has a 128-bit key set at pairing
(see :mod:`congress.keypads.keystore`). Keypad frames and acknowledgements are sealed with AES-CCM
(16-byte tag): the nonce is ``direction | keypad id | counter`` and the associated data is
``type | keypad id | counter``, so a frame cannot be moved to another keypad, type or direction.
Every keypad frame carries a counter that must rise; the controller persists the highest accepted
counter before it acknowledges (see ``controller.voting.keypad_reader``), so a replay is rejected even after
a restart. The full byte layout is in ``docs/keypad-protocol.md``.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from congress.errors import ProtocolError
from congress.keypads.framing import MAX_PAYLOAD, RawFrame, RejectReason, encode_frame

KEY_LEN = 16
TAG_LEN = 16
MAX_OPTION = 64  # choices travel as a fixed-size 64-bit set, so frame length never reveals a vote


class FrameType(enum.IntEnum):
    """Frame types; values below 0x80 travel base -> controller, from 0x80 controller -> base."""

    BASE_HELLO = 0x01
    VOTE = 0x10
    STATUS = 0x11
    HELLO_REQUEST = 0x80
    ACK = 0x81
    REPOLL = 0x82
    BALLOT = 0x83


class Direction(enum.IntEnum):
    KEYPAD_TO_HOST = 1
    HOST_TO_KEYPAD = 2


class AckStatus(enum.IntEnum):
    """What the controller did with a vote; the keypad shows it with the receipt code."""

    ACCEPTED = 0
    CHANGED = 1  # replaced the keypad's earlier vote in this ballot
    INVALID_COUNTED = 2  # election ballot with too many choices: counted as invalid
    ALREADY_VOTED = 3
    NOT_ELIGIBLE = 4  # delegate not checked in, or keypad not bound to a delegate
    NO_BALLOT = 5  # that ballot is not open
    BAD_CHOICE = 6  # option outside the ballot
    STATUS_SEEN = 7  # acknowledgement of a status frame


class BallotState(enum.IntEnum):
    OPEN = 1
    CLOSED = 2


_ID_CTR = struct.Struct(">II")
_VOTE_BODY = struct.Struct(">IQ")  # ballot number, choice set
_STATUS_BODY = struct.Struct(">BB")  # battery percent, flags
_ACK_BODY = struct.Struct(">BH")  # status, receipt code 0..9999
_HELLO = struct.Struct(">IBB")  # base id, highest protocol version, firmware name length
_BALLOT = struct.Struct(">IBBBB")  # number, state, kind, max choices, options
_REPOLL_HEAD = struct.Struct(">IH")
REPOLL_MAX_IDS = (MAX_PAYLOAD - _REPOLL_HEAD.size) // 4


@dataclass(frozen=True, slots=True)
class BaseHello:
    base_id: int
    max_version: int
    firmware: str


@dataclass(frozen=True, slots=True)
class VoteFrame:
    keypad_id: int
    counter: int
    ballot_no: int
    choices: frozenset[int]


@dataclass(frozen=True, slots=True)
class StatusFrame:
    keypad_id: int
    counter: int
    rssi_dbm: int  # measured by the base station, not authenticated
    battery_pct: int
    flags: int


@dataclass(frozen=True, slots=True)
class Ack:
    keypad_id: int
    counter: int
    status: AckStatus
    receipt: int


@dataclass(frozen=True, slots=True)
class Repoll:
    ballot_no: int
    keypad_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BallotAnnounce:
    ballot_no: int
    state: BallotState
    kind: int
    max_choices: int
    n_options: int


def choices_to_mask(choices: Iterable[int]) -> int:
    mask = 0
    for c in choices:
        if not 1 <= c <= MAX_OPTION:
            raise ValueError(f"option {c} outside 1..{MAX_OPTION}")
        mask |= 1 << (c - 1)
    return mask


def mask_to_choices(mask: int) -> frozenset[int]:
    return frozenset(i + 1 for i in range(MAX_OPTION) if mask >> i & 1)


class Sealer:
    """AES-CCM for one keypad key; the cipher object is reused (cheap per frame)."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValueError(f"keypad key must be {KEY_LEN} bytes")
        self._aead = AESCCM(key, tag_length=TAG_LEN)

    @staticmethod
    def _nonce(direction: Direction, keypad_id: int, counter: int) -> bytes:
        return bytes([direction]) + _ID_CTR.pack(keypad_id, counter)

    def seal(self, d: Direction, ftype: FrameType, kid: int, ctr: int, plain: bytes) -> bytes:
        aad = bytes([ftype]) + _ID_CTR.pack(kid, ctr)
        return self._aead.encrypt(self._nonce(d, kid, ctr), plain, aad)

    def open(self, d: Direction, ftype: FrameType, kid: int, ctr: int, sealed: bytes) -> bytes:
        aad = bytes([ftype]) + _ID_CTR.pack(kid, ctr)
        try:
            return self._aead.decrypt(self._nonce(d, kid, ctr), sealed, aad)
        except InvalidTag:
            raise ProtocolError(
                RejectReason.BAD_TAG, f"keypad {kid}: authentication failed (wrong key or altered frame)"
            ) from None


# -- keypad side (simulator, firmware reference) ---------------------------------------------------


def encode_vote(sealer: Sealer, kid: int, ctr: int, ballot_no: int, choices: Iterable[int]) -> bytes:
    body = _VOTE_BODY.pack(ballot_no, choices_to_mask(choices))
    sealed = sealer.seal(Direction.KEYPAD_TO_HOST, FrameType.VOTE, kid, ctr, body)
    return encode_frame(FrameType.VOTE, _ID_CTR.pack(kid, ctr) + sealed)


def encode_status(sealer: Sealer, kid: int, ctr: int, battery: int, rssi: int, flags: int = 0) -> bytes:
    sealed = sealer.seal(
        Direction.KEYPAD_TO_HOST, FrameType.STATUS, kid, ctr, _STATUS_BODY.pack(battery, flags)
    )
    return encode_frame(FrameType.STATUS, _ID_CTR.pack(kid, ctr) + struct.pack(">b", rssi) + sealed)


def encode_hello(base_id: int, firmware: str, max_version: int = 1) -> bytes:
    name = firmware.encode()[:255]
    return encode_frame(FrameType.BASE_HELLO, _HELLO.pack(base_id, max_version, len(name)) + name)


def decode_ack(raw: RawFrame, key_for: Callable[[int], Sealer | None]) -> Ack:
    """Keypad side: open an acknowledgement addressed to one of ``key_for``'s keypads."""
    kid, ctr, sealed = _split_keyed(raw, _ACK_BODY.size)
    sealer = key_for(kid)
    if sealer is None:
        raise ProtocolError(RejectReason.UNKNOWN_KEYPAD, f"acknowledgement for unknown keypad {kid}")
    status, receipt = _ACK_BODY.unpack(sealer.open(Direction.HOST_TO_KEYPAD, FrameType.ACK, kid, ctr, sealed))
    return Ack(kid, ctr, AckStatus(status), receipt)


def decode_host_frame(raw: RawFrame) -> Repoll | BallotAnnounce | None:
    """Keypad side: the unsealed controller frames (``None`` for a hello request)."""
    p = raw.payload
    try:
        if raw.type == FrameType.REPOLL:
            ballot, n = _REPOLL_HEAD.unpack_from(p)
            if len(p) != _REPOLL_HEAD.size + 4 * n:
                raise struct.error("length")
            return Repoll(ballot, struct.unpack_from(f">{n}I", p, _REPOLL_HEAD.size))
        if raw.type == FrameType.BALLOT:
            no, state, kind, max_choices, n_opt = _BALLOT.unpack(p)
            return BallotAnnounce(no, BallotState(state), kind, max_choices, n_opt)
        if raw.type == FrameType.HELLO_REQUEST:
            return None
    except (struct.error, ValueError):
        raise ProtocolError(RejectReason.MALFORMED, f"frame type 0x{raw.type:02x}: bad payload") from None
    raise ProtocolError(RejectReason.UNKNOWN_TYPE, f"frame type 0x{raw.type:02x} not expected from host")


# -- controller side -------------------------------------------------------------------------------


def encode_ack(sealer: Sealer, kid: int, ctr: int, status: AckStatus, receipt: int) -> bytes:
    sealed = sealer.seal(Direction.HOST_TO_KEYPAD, FrameType.ACK, kid, ctr, _ACK_BODY.pack(status, receipt))
    return encode_frame(FrameType.ACK, _ID_CTR.pack(kid, ctr) + sealed)


def encode_repoll(ballot_no: int, keypad_ids: Iterable[int]) -> list[bytes]:
    ids = list(keypad_ids)
    frames = []
    for i in range(0, max(len(ids), 1), REPOLL_MAX_IDS):
        part = ids[i : i + REPOLL_MAX_IDS]
        payload = _REPOLL_HEAD.pack(ballot_no, len(part)) + struct.pack(f">{len(part)}I", *part)
        frames.append(encode_frame(FrameType.REPOLL, payload))
    return frames


def encode_ballot(ann: BallotAnnounce) -> bytes:
    return encode_frame(
        FrameType.BALLOT,
        _BALLOT.pack(ann.ballot_no, ann.state, ann.kind, ann.max_choices, ann.n_options),
    )


def encode_hello_request() -> bytes:
    return encode_frame(FrameType.HELLO_REQUEST, b"")


def _split_keyed(raw: RawFrame, body_len: int, extra: int = 0) -> tuple[int, int, bytes]:
    want = _ID_CTR.size + extra + body_len + TAG_LEN
    if len(raw.payload) != want:
        raise ProtocolError(
            RejectReason.MALFORMED,
            f"frame type 0x{raw.type:02x}: payload {len(raw.payload)} bytes, expected {want}",
        )
    kid, ctr = _ID_CTR.unpack_from(raw.payload)
    return kid, ctr, raw.payload[_ID_CTR.size + extra :]


def decode_base_frame(
    raw: RawFrame, key_for: Callable[[int], Sealer | None]
) -> BaseHello | VoteFrame | StatusFrame:
    """Controller side: authenticate and decode one frame from the base station.

    Raises :class:`ProtocolError` whose ``reason`` is a :class:`RejectReason`. The counter is *not*
    checked here: the caller compares it with the persisted one (see the reader).
    """
    if raw.type >= 0x80:
        raise ProtocolError(RejectReason.WRONG_DIRECTION, f"controller frame 0x{raw.type:02x} from base")
    if raw.type == FrameType.BASE_HELLO:
        p = raw.payload
        if len(p) < _HELLO.size or len(p) != _HELLO.size + p[_HELLO.size - 1]:
            raise ProtocolError(RejectReason.MALFORMED, "base hello: bad length")
        base_id, max_version, _ = _HELLO.unpack_from(p)
        return BaseHello(base_id, max_version, p[_HELLO.size :].decode("utf-8", "replace"))
    if raw.type not in (FrameType.VOTE, FrameType.STATUS):
        raise ProtocolError(RejectReason.UNKNOWN_TYPE, f"unknown frame type 0x{raw.type:02x}")
    is_vote = raw.type == FrameType.VOTE
    kid, ctr, rest = _split_keyed(
        raw, _VOTE_BODY.size if is_vote else _STATUS_BODY.size, extra=0 if is_vote else 1
    )
    sealer = key_for(kid)
    if sealer is None:
        raise ProtocolError(RejectReason.UNKNOWN_KEYPAD, f"keypad {kid} is not paired with this venue")
    ftype = FrameType(raw.type)
    plain = sealer.open(Direction.KEYPAD_TO_HOST, ftype, kid, ctr, rest)
    if is_vote:
        ballot_no, mask = _VOTE_BODY.unpack(plain)
        return VoteFrame(kid, ctr, ballot_no, mask_to_choices(mask))
    (rssi,) = struct.unpack_from(">b", raw.payload, _ID_CTR.size)
    battery, flags = _STATUS_BODY.unpack(plain)
    return StatusFrame(kid, ctr, rssi, battery, flags)
