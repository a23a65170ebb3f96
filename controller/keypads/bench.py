"""``congress bench keypads``: N keypads vote through a real pty into the ballot store.

Set-up (not timed): a scratch SQLite controller database with N checked-in delegates, keypad i bound
to delegate i, N pairing keys, the base-station simulator on a pty whose line is set to ``baud``, and
the controller's :class:`KeypadReader` on the slave side. A motion (or a secret election with
``--secret``) is opened and every keypad votes once. A pty moves bytes as fast as the kernel copies
them, so the simulator paces its writes to the wire rate (10 bits per byte at ``baud``): the
measured time is what a real base station at that speed would take, plus the controller's delay.

Reported: ``votes`` sent, ``counted`` (participation rows after the run), ``lost`` (= votes - counted),
``acked``, ``seconds`` (first vote byte written -> last vote acknowledged, i.e. stored, since the ack
follows the commit), ``wire_seconds`` (vote bytes x 10 / baud) and ``ratio``, and ``tally_ms``
(counting the closed ballot of N votes).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator, seeded_plan
from controller import audit, migrate
from controller.attendance import Passing, QuorumPolicy, apply_checkins
from controller.ballots import Ballots
from controller.db import Database, utcnow
from controller.keypads.reader import KeypadReader
from controller.models import Delegate, Passage
from controller.voting_tables import AssignMode, BallotKind, BallotParticipation, KeypadAssignment


def _venue(db: Database, n: int) -> None:
    now = utcnow()
    with db.session() as s:
        s.add_all([Delegate(id=f"d{i:05d}", name=f"Delegate {i}", seat=f"S{i:05d}") for i in range(1, n + 1)])
        s.flush()
        s.add_all([KeypadAssignment(keypad_id=i, delegate_id=f"d{i:05d}", mode=AssignMode.SEAT)
                   for i in range(1, n + 1)])
        apply_checkins(s, [Passing(i, f"d{i:05d}", Passage.IN, now, "bench") for i in range(1, n + 1)])


def run_bench(keypads: int, baud: int, *, secret: bool = False, pace: bool = True,
              workdir: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="congress-kbench-", dir=workdir) as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db", info={audit.INFO_KEY: secrets.token_bytes(32)})
        try:
            migrate.upgrade(db)
            _venue(db, keypads)
            keys = KeyStore.generate(range(1, keypads + 1))
            ballots = Ballots(db, QuorumPolicy.parse("majority"))
            if secret:
                bid = ballots.create("Bench election", BallotKind.ELECTION, secret=True, seats=3,
                                     options=[f"Candidate {c}" for c in "ABCDEFGH"], actor="bench")
                plan = seeded_plan(7, keys.ids(), n_options=8, max_choices=3, overvote_rate=0.01)
            else:
                bid = ballots.create("Bench motion", BallotKind.MOTION, actor="bench")
                plan = seeded_plan(7, keys.ids(), n_options=3)
            with BaseStationSimulator(keys, baud=baud, pace=pace, link=Path(tmp) / "base.tty") as sim:
                reader = KeypadReader(sim.port, keys, db, ballots, baud=baud, retry_s=0.05)
                ballots.announce = reader.announce
                reader.start()
                try:
                    if not reader.connected.wait(10) or not sim.wait_host_frames(1, 10):
                        raise RuntimeError("the reader did not open the pty")
                    ballots.open(bid, actor="bench")
                    t0 = time.monotonic()
                    wire_bytes = sim.run_plan(bid, plan)
                    sent_done = time.monotonic()
                    wire_s = wire_bytes * 10 / baud
                    sim.wait_acks(len(plan), timeout=wire_s * 2 + 30)
                    seconds = time.monotonic() - t0
                finally:
                    reader.stop()
                acked = len(sim.acks)
                statuses: dict[str, int] = {}
                for a in sim.acks.values():
                    statuses[a.status.name.lower()] = statuses.get(a.status.name.lower(), 0) + 1
            with db.session() as s:
                counted = s.scalar(select(func.count()).select_from(BallotParticipation)
                                   .where(BallotParticipation.ballot_id == bid))
            ballots.close(bid, actor="bench")
            t = time.perf_counter()
            result = ballots.result(bid)
            tally_ms = (time.perf_counter() - t) * 1000
        finally:
            db.dispose()
    return {
        "keypads": keypads, "baud": baud, "secret": secret, "paced": pace,
        "votes": len(plan), "counted": counted, "lost": len(plan) - counted, "acked": acked,
        "statuses": statuses, "seconds": round(seconds, 3), "send_seconds": round(sent_done - t0, 3),
        "wire_seconds": round(wire_s, 3), "wire_bytes": wire_bytes,
        "ratio": round(seconds / wire_s, 3) if wire_s else None,
        "tally_ms": round(tally_ms, 2), "cast": result.cast,
        "rejected": {k: v for k, v in reader.stats.items() if k.startswith("rejected.")},
    }
