"""Wire protocol: round trips, canonical bytes, and every rejection reason of ``verify``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from congress import wire
from congress.errors import ProtocolError

VENUE = "venue-x"
UNIT_KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
CTRL_KEY = Ed25519PrivateKey.generate()
KEYS = {"door-1": UNIT_KEY.public_key(), "door-2": OTHER_KEY.public_key()}


def checkin(**kw) -> wire.CheckIn:
    base = dict(venue=VENUE, unit="door-1", boot="b00t", seq=1, delegate_id="D-0042",
                direction=wire.Direction.IN, method=wire.Method.FACE, door="north", score=0.8312,
                margin=0.1205, liveness=wire.Liveness.PASS, mono_ms=123_456, wall_time_ms=None,
                clock_synced=False)
    base.update(kw)
    return wire.CheckIn(**base)


def reason(payload: bytes, **kw) -> str:
    kw.setdefault("unit_keys", KEYS)
    with pytest.raises(ProtocolError) as err:
        wire.verify(payload, **kw)
    assert err.value.message  # every rejection carries words, not only a code
    return err.value.reason


def resign(obj: dict, key=UNIT_KEY) -> bytes:
    """Re-sign a hand-edited envelope so only the edited property is wrong."""
    obj = {k: v for k, v in obj.items() if k != "sig"}
    sig = key.sign(wire.canonical(obj))
    import base64

    obj["sig"] = base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    return wire.canonical(obj)


def test_checkin_round_trip_is_canonical_and_topic_bound():
    msg = checkin()
    payload = wire.encode(msg, UNIT_KEY)
    obj = json.loads(payload)
    assert payload == json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    assert obj["body"]["score_e4"] == 8312 and obj["v"] == wire.PROTOCOL_VERSION
    got = wire.verify(payload, topic=msg.topic, venue=VENUE, unit_keys=KEYS)
    assert got == msg
    assert got.event_id == ("door-1", "b00t", 1)
    assert msg.topic == "congress/venue-x/unit/door-1/checkin"


@settings(max_examples=60, deadline=None)
@given(score=st.none() | st.floats(-1, 1), seq=st.integers(0, 2**53 - 1),
       delegate=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}", fullmatch=True),
       wall=st.none() | st.integers(0, 2**45), method=st.sampled_from(wire.Method))
def test_any_checkin_survives_encode_verify(score, seq, delegate, wall, method):
    msg = checkin(score=score, seq=seq, delegate_id=delegate, wall_time_ms=wall, method=method)
    got = wire.verify(wire.encode(msg, UNIT_KEY), unit_keys=KEYS)
    assert got.seq == seq and got.delegate_id == delegate and got.method is method
    assert got.score == (None if score is None else round(score * 10_000) / 10_000)


def test_controller_messages_verify_with_controller_key_only():
    ack = wire.Ack(venue=VENUE, unit="door-1", boot="ctl", seq=5,
                   events=(wire.AckedEvent("b00t", 1), wire.AckedEvent("b00t", 2, wire.AckOutcome.DUPLICATE)))
    sealed = np.arange(2 * 128, dtype="<f4").tobytes()  # opaque to the wire: sealed for the unit
    gal = wire.GalleryUpdate(venue=VENUE, unit="door-1", boot="ctl", seq=6, version=3, parts=2,
                             digests=("ab" * 32, "cd" * 32))
    part = wire.GalleryPart(venue=VENUE, unit="door-1", boot="ctl", seq=8, version=3, part=1, parts=2,
                            sealed=sealed)
    cmd = wire.UnitCommand(venue=VENUE, unit="door-1", boot="ctl", seq=7, unit_boot="b00t",
                           command=wire.Command.OPEN_DOOR, args={"seconds": 3})
    for msg in (ack, gal, cmd, part):
        payload = wire.encode(msg, CTRL_KEY)
        assert wire.verify(payload, topic=msg.topic, controller_key=CTRL_KEY.public_key()) == msg
        assert reason(payload) == wire.Reason.UNEXPECTED_TYPE  # the controller does not accept them
        assert reason(payload, controller_key=UNIT_KEY.public_key()) == wire.Reason.BAD_SIGNATURE
    assert part.topic == f"congress/{VENUE}/unit/door-1/gallery/1"
    got = wire.verify(wire.encode(part, CTRL_KEY), topic=part.topic, controller_key=CTRL_KEY.public_key())
    assert got.sealed == sealed
    with pytest.raises(ProtocolError) as e:  # a part on another part's topic
        wire.verify(wire.encode(part, CTRL_KEY), topic=f"congress/{VENUE}/unit/door-1/gallery/0",
                    controller_key=CTRL_KEY.public_key())
    assert e.value.reason == wire.Reason.TOPIC_MISMATCH


def test_status_round_trip():
    st_ = wire.UnitStatus(venue=VENUE, unit="door-2", boot="b", seq=9, state=wire.UnitState.DEGRADED,
                          uptime_s=60, outbox=4, gallery_version=3, rss_kb=150_000, temp_mc=55_000,
                          software="0.1.0", detail="camera reconnecting")
    assert wire.verify(wire.encode(st_, OTHER_KEY), topic=st_.topic, unit_keys=KEYS) == st_


def test_malformed_payloads_are_rejected_with_reason():
    good = json.loads(wire.encode(checkin(), UNIT_KEY))
    assert reason(b"\xff\xfe not json") == "malformed"
    assert reason(b"[1,2]") == "malformed"
    assert reason(b'{"v":1,"v":1}') == "malformed"  # duplicate key
    assert reason(b'{"v":1.0}') == "malformed"  # floats are not allowed
    assert reason(b'{"v":NaN}') == "malformed"
    assert reason(b"{" * 100_000) == "malformed"  # deep nesting does not crash
    spaced = json.dumps(good, sort_keys=True).encode()  # valid JSON and signature, not canonical
    assert reason(spaced) == "malformed"
    bad_field = dict(good, body=dict(good["body"], direction="sideways"))
    with pytest.raises(ProtocolError, match="direction"):
        wire.verify(resign(bad_field), unit_keys=KEYS)
    assert reason(resign(dict(good, seq=-1))) == "malformed"
    assert reason(resign(dict(good, extra=1))) == "malformed"
    assert reason(resign(dict(good, body=dict(good["body"], score_e4=True)))) == "malformed"


def test_oversized_is_rejected_before_parsing():
    huge = checkin(door="x" * 64)
    payload = wire.encode(huge, UNIT_KEY)
    padded = payload[:-1] + b" " * (wire.MAX_MESSAGE_BYTES + 1 - len(payload)) + b"}"
    assert reason(padded) == "oversized"
    assert reason(b"{" + b" " * wire.MAX_GALLERY_BYTES + b"}") == "oversized"
    with pytest.raises(ProtocolError) as err:
        wire.encode(checkin(delegate_id="D" * 100, door="d" * 20_000), UNIT_KEY)
    assert err.value.reason == "oversized"


def test_unsigned_bad_signature_and_wrong_key():
    good = json.loads(wire.encode(checkin(), UNIT_KEY))
    assert reason(wire.canonical({k: v for k, v in good.items() if k != "sig"})) == "unsigned"
    tampered = dict(good, body=dict(good["body"], delegate_id="D-0666"))
    assert reason(wire.canonical(tampered)) == "bad_signature"
    assert reason(resign(good, key=OTHER_KEY)) == "bad_signature"  # door-1 signed by door-2's key
    assert reason(wire.canonical(dict(good, sig="AAAA"))) == "bad_signature"
    assert reason(wire.canonical(dict(good, sig=7))) == "bad_signature"


def test_wrong_version_and_unknown_type():
    good = json.loads(wire.encode(checkin(), UNIT_KEY))
    assert reason(resign(dict(good, v=2))) == "wrong_version"
    assert reason(resign(dict(good, v=True))) == "wrong_version"
    assert reason(resign(dict(good, type="vote"))) == "unknown_type"


def test_topic_mismatch_wrong_venue_and_unknown_unit():
    msg = checkin()
    payload = wire.encode(msg, UNIT_KEY)
    assert reason(payload, topic=wire.unit_topic(VENUE, "door-2", "checkin")) == "topic_mismatch"
    assert reason(payload, topic=wire.unit_topic(VENUE, "door-1", "status")) == "topic_mismatch"
    assert reason(payload, topic=wire.unit_topic("venue-y", "door-1", "checkin")) == "topic_mismatch"
    assert reason(payload, topic="congress/venue-x/door-1") == "bad_topic"
    assert reason(payload, venue="venue-y") == "wrong_venue"
    stranger = checkin(unit="door-99")
    assert reason(wire.encode(stranger, UNIT_KEY)) == "unknown_unit"
    assert reason(wire.encode(stranger, UNIT_KEY), unit_keys=lambda u: None) == "unknown_unit"


def test_replay_guard_refuses_repeats_and_old_but_allows_reordering():
    guard = wire.ReplayGuard(window=8)
    p = {s: wire.encode(checkin(seq=s), UNIT_KEY) for s in range(1, 30)}
    wire.verify(p[3], unit_keys=KEYS, replay=guard)
    wire.verify(p[1], unit_keys=KEYS, replay=guard)  # late but within the window
    assert reason(p[3], replay=guard) == "replay"
    assert reason(p[1], replay=guard) == "replay"
    wire.verify(p[20], unit_keys=KEYS, replay=guard)
    assert reason(p[2], replay=guard) == "replay"  # below the window now
    wire.verify(p[15], unit_keys=KEYS, replay=guard)
    other_boot = wire.encode(checkin(seq=3, boot="b00t-2"), UNIT_KEY)
    wire.verify(other_boot, unit_keys=KEYS, replay=guard)  # a new boot starts a new stream
    guard.check("door-1", "b00t", 2**53 - 1)  # huge jumps do not blow up memory
    with pytest.raises(ProtocolError, match="already received"):
        guard.check("door-1", "b00t", 2**53 - 1)


def test_replay_guard_forgets_least_recent_streams():
    guard = wire.ReplayGuard(max_streams=2)
    guard.check("a", "1", 1)
    guard.check("b", "1", 1)
    guard.check("c", "1", 1)
    guard.check("a", "1", 1)  # forgotten: accepted again (the controller's database dedups)
    with pytest.raises(ProtocolError):
        guard.check("c", "1", 1)


def test_boot_counter_and_boot_ids():
    a, b = wire.BootCounter(), wire.BootCounter()
    assert a.boot != b.boot and len(a.boot) == 32
    assert [a.next(), a.next(), a.next()] == [1, 2, 3]


def test_gallery_part_checks():
    gal = wire.GalleryUpdate(venue=VENUE, unit="door-1", boot="ctl", seq=1, version=1, parts=2,
                             digests=("ab" * 32,))
    with pytest.raises(ProtocolError, match="digests"):
        wire.verify(wire.encode(gal, CTRL_KEY), controller_key=CTRL_KEY.public_key())
    gal = wire.GalleryPart(venue=VENUE, unit="door-1", boot="ctl", seq=1, version=1, part=2, parts=2,
                           sealed=b"x")
    with pytest.raises(ProtocolError, match="part"):
        wire.verify(wire.encode(gal, CTRL_KEY), controller_key=CTRL_KEY.public_key())
    for bad in ("congress/v1/unit/door-1/gallery/01", "congress/v1/unit/door-1/gallery_part",
                "congress/v1/unit/door-1/gallery/10000"):
        with pytest.raises(ProtocolError):
            wire.parse_topic(bad)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_payloads_never_crash_and_never_verify(data):
    """Any byte changed, removed or inserted: a ProtocolError with a reason, never another exception."""
    payload = bytearray(wire.encode(checkin(seq=data.draw(st.integers(1, 1000))), UNIT_KEY))
    pos = data.draw(st.integers(0, len(payload) - 1))
    action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
    if action == "flip":
        payload[pos] ^= data.draw(st.integers(1, 255))
    elif action == "delete":
        del payload[pos]
    else:
        payload.insert(pos, data.draw(st.integers(0, 255)))
    with pytest.raises(ProtocolError) as err:
        wire.verify(bytes(payload), unit_keys=KEYS)
    assert err.value.reason in set(wire.Reason)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512) | st.text(max_size=200).map(str.encode))
def test_random_bytes_are_refused_with_a_reason(blob):
    with pytest.raises(ProtocolError) as err:
        wire.verify(blob, unit_keys=KEYS, controller_key=CTRL_KEY.public_key())
    assert err.value.reason in set(wire.Reason)


def test_body_and_signature_spelling_are_strict():
    good = json.loads(wire.encode(checkin(), UNIT_KEY))
    with pytest.raises(ProtocolError, match="body fields must be exactly"):
        wire.verify(resign(dict(good, body=dict(good["body"], is_admin=True))), unit_keys=KEYS)
    missing = {k: v for k, v in good["body"].items() if k != "liveness"}
    assert reason(resign(dict(good, body=missing))) == "malformed"
    sig = good["sig"]
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(sig[-1])
    # the last base64 character carries 4 spare bits: another spelling of the same 64 bytes is refused
    twin = sig[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]
    assert reason(wire.canonical(dict(good, sig=twin))) == "bad_signature"
    assert reason(wire.canonical(dict(good, sig=sig + "=="))) == "bad_signature"


def test_body_keys_declared_match_what_is_sent():
    samples = [
        checkin(),
        wire.UnitStatus(venue=VENUE, unit="door-1", boot="b", seq=1, state=wire.UnitState.READY),
        wire.Ack(venue=VENUE, unit="door-1", boot="c", seq=1, events=()),
        wire.GalleryUpdate(venue=VENUE, unit="door-1", boot="c", seq=1, version=1, digests=("0" * 64,)),
        wire.GalleryPart(venue=VENUE, unit="door-1", boot="c", seq=1, version=1, sealed=b"s"),
        wire.UnitCommand(venue=VENUE, unit="door-1", boot="c", seq=1, unit_boot="b",
                         command=wire.Command.IDENTIFY),
        wire.KeypadFrames(venue=VENUE, unit="site-1", boot="g", seq=1, frames=(b"\xa5Z",)),
        wire.KeypadReplies(venue=VENUE, unit="site-1", boot="c", seq=1, frames=(b"\xa5Z",)),
    ]
    assert {type(m) for m in samples} == {type(m) for m in samples} and len(samples) == len(wire.Kind)
    for m in samples:
        assert set(m.body()) == type(m).body_keys, type(m).__name__


def test_wire_bench_runs_and_reports(capsys):
    from congress.wire import bench

    assert bench.main(["--count", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 50 and out["verify_per_s"] > 0 and out["ed25519_verify_per_s"] > 0
    assert 300 < out["bytes"] < wire.MAX_MESSAGE_BYTES


@settings(max_examples=200, deadline=None)
@given(seqs=st.lists(st.integers(0, 200), max_size=120), window=st.integers(1, 64))
def test_replay_guard_matches_a_plain_model(seqs, window):
    """Accept a seq iff it was never accepted and is within ``window`` of the highest accepted."""
    guard = wire.ReplayGuard(window=window)
    seen: set[int] = set()
    for s in seqs:
        expected = s not in seen and (not seen or s > max(seen) - window)
        try:
            guard.check("u", "b", s)
            accepted = True
        except ProtocolError as exc:
            assert exc.reason == "replay"
            accepted = False
        assert accepted == expected, (s, sorted(seen))
        if accepted:
            seen.add(s)


def test_site_route_is_not_part_of_the_signed_message():
    """A unit behind a site signs the same bytes; the central topic carries the site as a route."""
    msg = checkin()
    payload = wire.encode(msg, UNIT_KEY)
    central = wire.routed("hanoi-1", msg.topic)
    assert central == "congress/venue-x/site/hanoi-1/unit/door-1/checkin"
    assert wire.split_route(central) == ("hanoi-1", msg.topic)
    assert wire.split_route(msg.topic) == (None, msg.topic)
    assert wire.verify(payload, topic=central, venue=VENUE, unit_keys=KEYS) == msg
    assert wire.parse_topic(central) == (VENUE, "door-1", wire.Kind.CHECKIN)
    assert reason(payload, topic=wire.routed("hanoi-1", wire.unit_topic(VENUE, "door-2", "checkin"))) \
        == "topic_mismatch"
    assert wire.routed("+", wire.subscription(VENUE, "checkin")) == "congress/venue-x/site/+/unit/+/checkin"
    assert wire.routed(None, msg.topic) == msg.topic
    for bad in ("congress/venue-x/site/bad site/unit/door-1/checkin",
                "congress/venue-x/site//unit/d/checkin"):
        with pytest.raises(ProtocolError):
            wire.parse_topic(bad)


def test_link_and_presence_topics():
    assert wire.link_topic(VENUE, "s1") == "congress/venue-x/site/s1/link"
    assert wire.parse_link_topic("congress/venue-x/site/s1/link") == (VENUE, "s1")
    assert wire.parse_link_topic("congress/venue-x/site/s1/unit/d/link") is None
    assert wire.parse_link_topic(wire.unit_topic(VENUE, "door-1", "checkin")) is None
    assert wire.presence_topic(VENUE) == "congress/venue-x/controller/online"


def test_keypad_frames_travel_as_they_are_and_bad_ones_are_refused():
    from congress.keypads.framing import encode_frame

    frames = (encode_frame(0x10, b"v" * 36), encode_frame(0x11, b"s" * 11))
    up = wire.KeypadFrames(venue=VENUE, unit="door-1", boot="g", seq=3, frames=frames)
    assert up.topic == "congress/venue-x/unit/door-1/keypads"
    assert wire.verify(wire.encode(up, UNIT_KEY), topic=wire.routed("s1", up.topic), venue=VENUE,
                       unit_keys=KEYS).frames == frames
    down = wire.KeypadReplies(venue=VENUE, unit="door-1", boot="c", seq=1, frames=frames[:1])
    assert wire.verify(wire.encode(down, CTRL_KEY), topic=down.topic,
                       controller_key=CTRL_KEY.public_key()) == down
    assert reason(wire.encode(down, UNIT_KEY), topic=down.topic) == "unexpected_type"  # only the controller
    for bad in ((), (b"",), (b"x" * 1035,), (b"f",) * 201):
        msg = wire.KeypadFrames(venue=VENUE, unit="door-1", boot="g", seq=4, frames=bad)
        assert reason(wire.encode(msg, UNIT_KEY)) in ("malformed", "oversized"), bad[:1]
