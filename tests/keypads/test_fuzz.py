"""Bad input into the reader: random bytes, every single-bit flip, truncated and merged frames,
replays. Nothing may crash, nothing may be counted, and each rejection is logged with its reason."""

from __future__ import annotations

import logging
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from congress.keypads import protocol as p
from congress.keypads.framing import RejectReason
from congress.keypads.protocol import AckStatus
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import BallotKind, BallotParticipation, KeypadState

from .conftest import wait_for

REASONS = {r.value for r in RejectReason}
LINE = re.compile(r"keypad frame rejected \((\w+)\): ")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def reasons(self) -> list[str]:
        out = []
        for line in self.lines:
            m = LINE.match(line)
            if m:
                out.append(m.group(1))
        return out


@pytest.fixture
def rig(kdb, keys, ballots):
    bid = ballots.create("Fuzz", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    reader = KeypadReader("/dev/null", keys, kdb, ballots)
    cap = Capture()
    logger = logging.getLogger("controller.voting.keypad_reader")
    logger.addHandler(cap)
    yield reader, bid, cap
    logger.removeHandler(cap)


def counted(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(BallotParticipation))


def max_counter(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.coalesce(func.max(KeypadState.last_counter), 0)))


def rejected_total(reader) -> int:
    return sum(v for k, v in reader.stats.items() if k.startswith("rejected."))


def check_logged(reader, cap, before: int) -> None:
    reasons = cap.reasons()
    assert len(reasons) == rejected_total(reader) - before
    assert set(reasons) <= REASONS


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(rig, kdb, data):
    reader, _, cap = rig
    cap.lines.clear()
    before = rejected_total(reader)
    reader.ingest(data)
    assert counted(kdb) == 0 and max_counter(kdb) == 0
    check_logged(reader, cap, before)
    if data:
        assert rejected_total(reader) > before


def test_every_single_bit_flip_of_a_vote_is_rejected(rig, kdb, keys):
    reader, bid, cap = rig
    frame = p.encode_vote(keys.sealer(1), 1, 1, bid, {1})
    for bit in range(len(frame) * 8):
        bad = bytearray(frame)
        bad[bit // 8] ^= 1 << (bit % 8)
        cap.lines.clear()
        before = rejected_total(reader)
        reader.ingest(bytes(bad))
        assert rejected_total(reader) > before, f"flip of bit {bit} was not rejected"
        check_logged(reader, cap, before)
    assert counted(kdb) == 0 and max_counter(kdb) == 0


@FUZZ
@given(cut=st.integers(min_value=1, max_value=44), kid=st.integers(1, 18),
       mode=st.sampled_from(["cut", "merge"]))
def test_truncated_and_merged_frames(rig, kdb, keys, cut, kid, mode):
    reader, bid, cap = rig
    frame = p.encode_vote(keys.sealer(kid), kid, 10**6, bid, {2})
    other = p.encode_status(keys.sealer(kid), kid, 10**6 + 1, 50, -50)
    # A vote cut short, alone or with a whole status frame glued right behind it.
    data = frame[:cut] if mode == "cut" else frame[:cut] + other
    cap.lines.clear()
    before = rejected_total(reader)
    reader.ingest(data)
    assert counted(kdb) == 0
    assert rejected_total(reader) > before
    check_logged(reader, cap, before)


def test_replays_and_forgeries_with_valid_crc(rig, kdb, keys):
    reader, bid, cap = rig
    good = p.encode_vote(keys.sealer(2), 2, 5, bid, {1})
    reader.ingest(good)
    assert counted(kdb) == 1
    for attack in (
        good,  # replay
        p.encode_vote(keys.sealer(2), 2, 4, bid, {2}),  # older counter
        p.encode_vote(keys.sealer(3), 2, 9, bid, {2}),  # wrong key: bad tag
        p.encode_vote(keys.sealer(3), 99, 9, bid, {2}),  # keypad never paired
    ):
        cap.lines.clear()
        before = rejected_total(reader)
        reader.ingest(attack)
        check_logged(reader, cap, before)
        assert rejected_total(reader) == before + 1
    assert reader.stats["rejected.replay"] == 2 and reader.stats["rejected.bad_tag"] == 1
    assert reader.stats["rejected.unknown_keypad"] == 1
    assert counted(kdb) == 1


def test_bad_input_over_the_pty(sim, reader, ballots, kdb, keys, caplog):
    bid = ballots.create("Fuzz pty", BallotKind.MOTION, actor="chair")
    ballots.open(bid, actor="chair")
    frame = p.encode_vote(keys.sealer(6), 6, 50, bid, {1})
    flipped = bytearray(frame)
    flipped[20] ^= 0x10
    sim.write(b"\x00\xff" * 30 + bytes(flipped) + frame[:17] + b"\xa5" + b"junk")
    sim.write(frame)
    sim.write(frame)  # replay of an accepted frame
    assert sim.wait_acks(1)
    wait_for(lambda: reader.stats["rejected.replay"] == 1, what="replay rejection")
    assert counted(kdb) == 1 and len(sim.acks) == 1
    assert reader.stats["rejected.garbage"] >= 1
    assert reader.stats["rejected.bad_crc"] + reader.stats["rejected.truncated"] >= 2
    logged = set(re.findall(r"keypad frame rejected \((\w+)\)", caplog.text))
    assert {"garbage", "replay"} <= logged and logged <= REASONS


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=4))
def test_random_bytes_over_the_pty_then_a_good_vote(sim, reader, ballots, kdb, keys, noise):
    """Whatever comes down the line, the reader stays up and the next genuine vote is answered."""
    if ballots.current() is None:
        ballots.open(ballots.create("Pty fuzz", BallotKind.MOTION, actor="chair"), actor="chair")
    bid = ballots.current().id
    before = counted(kdb)
    for chunk in noise:
        sim.write(chunk)
    acks = len(sim.acks)
    kid = 1 + before % 18  # a keypad that has not voted yet (until all 18 have)
    ctr = sim.vote(kid, bid, {1})
    # Noise ending in a start marker and a long length holds the vote back until the line goes
    # idle; then the parser resynchronises and finds it.
    assert sim.wait_acks(acks + 1, timeout=15), "the reader stopped answering after random input"
    assert sim.acks[(kid, ctr)].status == AckStatus.ACCEPTED
    assert counted(kdb) == min(before + 1, 18)  # the genuine vote, and nothing from the noise
