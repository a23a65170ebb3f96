"""Keypad protocol: framing round trip, resync after garbage, authentication and direction binding."""

from __future__ import annotations

import os
import stat

import pytest

from congress.errors import ConfigError, ProtocolError
from congress.keypads import protocol as p
from congress.keypads.framing import FrameParser, RawFrame, Rejection, RejectReason, encode_frame
from congress.keypads.keystore import KeyStore


@pytest.fixture
def keys():
    return KeyStore.generate(range(1, 6))


def parse(data: bytes, *, flush=True):
    parser = FrameParser()
    out = parser.feed(data)
    return out + (parser.flush() if flush else [])


def test_vote_round_trip_any_chunking(keys):
    frame = p.encode_vote(keys.sealer(3), 3, 7, 42, {1, 5})
    parser = FrameParser()
    items = []
    for b in frame:  # one byte at a time, as a slow UART delivers it
        items += parser.feed(bytes([b]))
    assert len(items) == 1 and isinstance(items[0], RawFrame)
    vote = p.decode_base_frame(items[0], keys.sealer)
    assert vote == p.VoteFrame(3, 7, 42, frozenset({1, 5}))


def test_vote_frames_have_the_same_length_whatever_the_choice(keys):
    lengths = {len(p.encode_vote(keys.sealer(1), 1, 1, 1, c)) for c in ([], [1], [1, 2, 3, 4, 64])}
    assert len(lengths) == 1


def test_status_hello_and_ack(keys):
    st = parse(p.encode_status(keys.sealer(2), 2, 9, battery=55, rssi=-71))[0]
    assert p.decode_base_frame(st, keys.sealer) == p.StatusFrame(2, 9, -71, 55, 0)
    hello = parse(p.encode_hello(77, "base-fw 2.1"))[0]
    assert p.decode_base_frame(hello, keys.sealer) == p.BaseHello(77, 1, "base-fw 2.1")
    ack = parse(p.encode_ack(keys.sealer(2), 2, 9, p.AckStatus.ACCEPTED, 4821))[0]
    assert p.decode_ack(ack, keys.sealer) == p.Ack(2, 9, p.AckStatus.ACCEPTED, 4821)


def test_host_frames(keys):
    frames = p.encode_repoll(5, range(1, 600))
    assert len(frames) == 3
    got = [p.decode_host_frame(parse(f)[0]) for f in frames]
    assert sum((r.keypad_ids for r in got), ()) == tuple(range(1, 600))
    ann = p.BallotAnnounce(5, p.BallotState.OPEN, 2, 3, 7)
    assert p.decode_host_frame(parse(p.encode_ballot(ann))[0]) == ann


def test_garbage_between_frames_is_skipped_and_reported(keys):
    f1 = p.encode_vote(keys.sealer(1), 1, 1, 1, {1})
    f2 = p.encode_vote(keys.sealer(2), 2, 1, 1, {2})
    out = parse(b"\x00\xa5noise" + f1 + b"\xa5\xa5" + f2)
    frames = [x for x in out if isinstance(x, RawFrame)]
    assert len(frames) == 2
    assert [x.reason for x in out if isinstance(x, Rejection)] == [RejectReason.GARBAGE] * 2


def test_truncated_frame_followed_by_a_good_one(keys):
    f1 = p.encode_vote(keys.sealer(1), 1, 1, 1, {1})
    f2 = p.encode_vote(keys.sealer(2), 2, 1, 1, {2})
    out = parse(f1[:20] + f2)
    assert [type(x) for x in out] == [Rejection, RawFrame]
    assert out[0].reason == RejectReason.TRUNCATED
    assert p.decode_base_frame(out[1], keys.sealer).keypad_id == 2


def test_cut_at_end_of_line_is_truncated(keys):
    out = parse(p.encode_vote(keys.sealer(1), 1, 1, 1, {1})[:-3])
    assert [x.reason for x in out] == [RejectReason.TRUNCATED]


def test_bad_crc_wrong_version_bad_length():
    good = encode_frame(0x10, b"x" * 30)
    bad = bytearray(good)
    bad[10] ^= 0x01
    assert [x.reason for x in parse(bytes(bad))] == [RejectReason.BAD_CRC]
    assert [x.reason for x in parse(encode_frame(0x10, b"", version=9))] == [RejectReason.WRONG_VERSION]
    assert parse(b"\xa5\x5a\x01\xff\xff\x10")[0].reason == RejectReason.BAD_LENGTH


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw, keys: RawFrame(raw.type, raw.payload[:-1]), RejectReason.MALFORMED),
        (lambda raw, keys: RawFrame(0x33, raw.payload), RejectReason.UNKNOWN_TYPE),
        (lambda raw, keys: RawFrame(p.FrameType.ACK, raw.payload), RejectReason.WRONG_DIRECTION),
        (lambda r, k: RawFrame(r.type, b"\x00\x00\x00\x63" + r.payload[4:]), RejectReason.UNKNOWN_KEYPAD),
        (lambda raw, keys: RawFrame(raw.type, b"\x00\x00\x00\x02" + raw.payload[4:]), RejectReason.BAD_TAG),
        (lambda raw, keys: RawFrame(raw.type, raw.payload[:-1] + b"\x00"), RejectReason.BAD_TAG),
    ],
)
def test_decode_rejections_carry_reasons(keys, mutate, reason):
    raw = parse(p.encode_vote(keys.sealer(1), 1, 1, 1, {1}))[0]
    with pytest.raises(ProtocolError) as exc:
        p.decode_base_frame(mutate(raw, keys), keys.sealer)
    assert exc.value.reason == reason


def test_frame_sealed_for_the_other_direction_is_rejected(keys):
    """Same key, id, counter and body, but sealed controller->keypad: the tag does not verify."""
    import struct

    body = struct.pack(">IQ", 1, 1)
    sealed = keys.sealer(1).seal(p.Direction.HOST_TO_KEYPAD, p.FrameType.VOTE, 1, 5, body)
    raw = RawFrame(p.FrameType.VOTE, struct.pack(">II", 1, 5) + sealed)
    with pytest.raises(ProtocolError) as exc:
        p.decode_base_frame(raw, keys.sealer)
    assert exc.value.reason == RejectReason.BAD_TAG


def test_keystore_is_private_and_refuses_loose_permissions(tmp_path, keys):
    path = keys.save(tmp_path / "keys.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyStore.load(path)
    assert loaded.ids() == keys.ids() and loaded.key(4) == keys.key(4)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        KeyStore.load(path)
