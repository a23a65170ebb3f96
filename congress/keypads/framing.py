"""Byte framing of the keypad base-station serial line: start marker, length, CRC-32, resync.

A frame on the wire is::

    A5 5A | version u8 | length u16 BE | type u8 | payload (length bytes) | CRC-32 BE

The CRC (``zlib.crc32``) covers version, length, type and payload. :class:`FrameParser` is fed raw
bytes as they arrive (any chunking) and returns whole frames and :class:`Rejection` records; it never
raises on bad input. After a bad CRC it drops one byte and searches for the next start marker, so a
corrupt, truncated or merged frame costs only that frame. A frame left incomplete when the line goes
idle or closes is reported as ``truncated`` by :meth:`FrameParser.flush`.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass

SOF = b"\xa5\x5a"
PROTOCOL_VERSION = 1
MAX_PAYLOAD = 1024
_HEAD = struct.Struct(">BHB")  # version, length, type
HEADER_LEN = len(SOF) + _HEAD.size
CRC_LEN = 4
OVERHEAD = HEADER_LEN + CRC_LEN


class RejectReason(enum.StrEnum):
    """Why a frame (or bytes on the line) were not accepted; logged and counted by the reader."""

    GARBAGE = "garbage"  # bytes outside any frame
    BAD_LENGTH = "bad_length"  # length field above MAX_PAYLOAD
    BAD_CRC = "bad_crc"
    TRUNCATED = "truncated"  # a frame cut short (next frame started inside it, or the line went idle)
    WRONG_VERSION = "wrong_version"
    UNKNOWN_TYPE = "unknown_type"
    MALFORMED = "malformed"  # payload size does not match the frame type
    UNKNOWN_KEYPAD = "unknown_keypad"
    BAD_TAG = "bad_tag"  # authentication failed: wrong key or tampered frame
    REPLAY = "replay"  # counter not above the last one accepted from that keypad
    WRONG_DIRECTION = "wrong_direction"  # a host-to-base frame arrived from the base station


@dataclass(frozen=True, slots=True)
class RawFrame:
    """A frame whose CRC and version were checked; ``payload`` is not interpreted yet."""

    type: int
    payload: bytes

    @property
    def wire_len(self) -> int:
        return OVERHEAD + len(self.payload)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Bytes that did not make a usable frame, with the reason and a short detail for the log."""

    reason: RejectReason
    detail: str = ""
    keypad_id: int | None = None


def encode_frame(frame_type: int, payload: bytes, *, version: int = PROTOCOL_VERSION) -> bytes:
    """Wrap ``payload`` in a frame ready to write to the serial line."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = _HEAD.pack(version, len(payload), frame_type) + payload
    return SOF + body + struct.pack(">I", zlib.crc32(body))


class FrameParser:
    """Incremental decoder: ``feed(chunk)`` -> frames and rejections in arrival order."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._resync = False  # bytes skipped right after a rejected frame belong to that rejection

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[RawFrame | Rejection]:
        self._buf += data
        out: list[RawFrame | Rejection] = []
        while self._step(out, final=False):
            pass
        return out

    def flush(self) -> list[RawFrame | Rejection]:
        """The line went idle or closed: report what is left as truncated and reparse the rest."""
        out: list[RawFrame | Rejection] = []
        while self._buf:
            if self._step(out, final=False):
                continue
            # Incomplete frame at the head: report it, drop its first byte and try again.
            if self._buf.startswith(SOF):
                out.append(Rejection(RejectReason.TRUNCATED, f"{len(self._buf)} bytes, line idle"))
                del self._buf[:1]
                self._resync = True
            else:
                self._skip_garbage(out, final=True)
        return out

    def _skip_garbage(self, out: list, *, final: bool) -> bool:
        """Drop bytes before the next start marker; True if something was dropped."""
        at = self._buf.find(SOF)
        if at == 0:
            return False
        if at < 0:
            # Keep a trailing first SOF byte: the second may still be on its way.
            keep = 1 if (not final and self._buf.endswith(SOF[:1])) else 0
            at = len(self._buf) - keep
            if at == 0:
                return False
        if not self._resync:
            out.append(Rejection(RejectReason.GARBAGE, f"{at} bytes skipped"))
        del self._buf[:at]
        return True

    def _step(self, out: list, *, final: bool) -> bool:
        """Try to take one item off the buffer; False when more bytes are needed."""
        if self._skip_garbage(out, final=final):
            return True
        if len(self._buf) < HEADER_LEN:
            return False
        version, length, ftype = _HEAD.unpack_from(self._buf, len(SOF))
        if length > MAX_PAYLOAD:
            out.append(Rejection(RejectReason.BAD_LENGTH, f"length {length} > {MAX_PAYLOAD}"))
            del self._buf[:1]
            self._resync = True
            return True
        total = HEADER_LEN + length + CRC_LEN
        if len(self._buf) < total:
            return False
        body = bytes(self._buf[len(SOF) : HEADER_LEN + length])
        (crc,) = struct.unpack_from(">I", self._buf, HEADER_LEN + length)
        if zlib.crc32(body) != crc:
            inner = self._buf.find(SOF, 1, total)
            reason = RejectReason.TRUNCATED if inner > 0 else RejectReason.BAD_CRC
            out.append(Rejection(reason, f"type 0x{ftype:02x}, {total} bytes claimed"))
            del self._buf[:1]
            self._resync = True
            return True
        del self._buf[:total]
        self._resync = False
        if version != PROTOCOL_VERSION:
            out.append(
                Rejection(RejectReason.WRONG_VERSION, f"version {version}, expected {PROTOCOL_VERSION}")
            )
            return True
        out.append(RawFrame(ftype, body[_HEAD.size :]))
        return True
