"""``congress bench keypads``: N keypads vote through a real pty into the ballot store.

Set-up (not timed): a scratch SQLite controller database with N checked-in delegates, keypad i bound
to delegate i, N pairing keys, the base-station simulator (``congress keypads simulate``, its own
process like the real hardware) on a pty whose line is set to ``baud``, and the controller's
:class:`KeypadReader` on the slave side. A motion (or a secret election with ``--secret``) is opened
and every keypad votes once. A pty moves bytes as fast as the kernel copies them, so the simulator
paces its writes to the wire rate (10 bits per byte at ``baud``): the measured time is what a real
base station at that speed would take, plus the controller's delay.

Reported: ``votes`` sent, ``counted`` (participation rows after the run), ``lost`` (= votes - counted),
``acked``, ``seconds`` (first vote byte written -> last vote acknowledged, i.e. stored, since the ack
follows the commit), ``wire_seconds`` (vote bytes x 10 / baud) and ``ratio``, and ``tally_ms``
(counting the closed ballot of N votes).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from sqlalchemy import func, select

from congress.errors import ConfigError, DeviceError
from congress.keypads.keystore import KeyStore
from controller import audit
from controller.checkins.attendance import Passing, QuorumPolicy, apply_checkins
from controller.storage import migrate
from controller.storage.database import Database, utcnow
from controller.storage.tables import Delegate, Passage
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import AssignMode, BallotKind, BallotParticipation, KeypadAssignment


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
    if not hasattr(termios, f"B{baud}"):
        raise ConfigError(f"--baud {baud} is not a standard serial rate",
                          hint="e.g. 9600, 57600, 115200, 230400")
    if not 1 <= keypads <= 100_000:
        raise ConfigError(f"--keypads {keypads}: give between 1 and 100000 keypads")
    with tempfile.TemporaryDirectory(prefix="congress-kbench-", dir=workdir) as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db", info={audit.INFO_KEY: secrets.token_bytes(32)})
        try:
            migrate.upgrade(db)
            _venue(db, keypads)
            keys = KeyStore.generate(range(1, keypads + 1))
            keys_path = keys.save(Path(tmp) / "keypads.json")
            ballots = Ballots(db, QuorumPolicy.parse("majority"))
            if secret:
                bid = ballots.create("Bench election", BallotKind.ELECTION, secret=True, seats=3,
                                     options=[f"Candidate {c}" for c in "ABCDEFGH"], actor="bench")
                plan_args = ["--options", "8", "--max-choices", "3", "--overvote-rate", "0.01"]
            else:
                bid = ballots.create("Bench motion", BallotKind.MOTION, actor="bench")
                plan_args = ["--options", "3", "--max-choices", "1"]
            ballots.open(bid, actor="bench")
            report, stats = _run(tmp, keys, keys_path, db, ballots, bid, baud, pace, plan_args, keypads)
            with db.session() as s:
                counted = s.scalar(select(func.count()).select_from(BallotParticipation)
                                   .where(BallotParticipation.ballot_id == bid))
            ballots.close(bid, actor="bench")
            t = time.perf_counter()
            result = ballots.result(bid)
            tally_ms = (time.perf_counter() - t) * 1000
        finally:
            db.dispose()
    wire_s = report["wire_bytes"] * 10 / baud
    return {
        "keypads": keypads, "baud": baud, "secret": secret, "paced": pace,
        "votes": report["sent"], "counted": counted, "lost": report["sent"] - counted,
        "acked": report["acked"], "statuses": report["statuses"], "seconds": report["seconds"],
        "send_seconds": report["send_seconds"], "wire_seconds": round(wire_s, 3),
        "wire_bytes": report["wire_bytes"], "ratio": round(report["seconds"] / wire_s, 3),
        "tally_ms": round(tally_ms, 2), "cast": result.cast,
        "rejected": {k: v for k, v in stats.items() if k.startswith("rejected.")},
    }


def _run(tmp, keys, keys_path, db, ballots, bid, baud, pace, plan_args, keypads) -> tuple[dict, dict]:
    """The base station is its own process (as real hardware would be): ``congress keypads simulate``."""
    link = Path(tmp) / "base.tty"
    cmd = [sys.executable, "-m", "congress", "keypads", "simulate", "--keys", str(keys_path), "--pty",
           "--link", str(link), "--baud", str(baud), "--vote", str(bid), "--seed", "7", "--json",
           "--ack-timeout", str(keypads * 60 * 10 / baud + 60), *plan_args, *([] if pace else ["--no-pace"])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = None
    try:
        json.loads(proc.stdout.readline())  # the pty is up, the link is in place
        reader = KeypadReader(str(link), keys, db, ballots, baud=baud, retry_s=0.05).start()
        out, err = proc.communicate(timeout=keypads * 60 * 10 / baud + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if reader is not None:
            reader.stop()
    if proc.returncode not in (0, 1):
        raise DeviceError(f"the base-station simulator failed: {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), dict(reader.stats)
