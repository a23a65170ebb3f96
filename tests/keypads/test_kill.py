"""kill -9 of the controller's reader: every acknowledged vote is stored, nothing is counted twice,
and recorded frames are still rejected as replays by the restarted reader. A secret ballot's sealed
tally survives too: its key is on disk (beside the database here) until the close, which another
process with a cold key cache performs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from congress.keypads import protocol as p
from controller.checkins.attendance import QuorumPolicy
from controller.voting.ballots import Ballots
from controller.voting.tables import BallotKind, BallotParticipation

from .conftest import wait_for

READER = textwrap.dedent("""
    import sys, threading
    from congress.keypads.keystore import KeyStore
    from controller.checkins.attendance import QuorumPolicy
    from controller.voting.ballots import Ballots
    from controller.storage.database import Database
    from controller.voting.keypad_reader import KeypadReader
    url, keys, port = sys.argv[1:4]
    db = Database(url)
    reader = KeypadReader(port, KeyStore.load(keys), db, Ballots(db, QuorumPolicy()), retry_s=0.05).start()
    reader.connected.wait(10)
    print("ready", flush=True)
    threading.Event().wait()
""")


def start_reader(kdb, keys_path, port):
    proc = subprocess.Popen([sys.executable, "-c", READER, kdb.url, str(keys_path), port],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert proc.stdout.readline().strip() == "ready"
    return proc


def counted(db, bid):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(BallotParticipation)
                        .where(BallotParticipation.ballot_id == bid))


@pytest.mark.parametrize("secret", [False, True], ids=["named", "secret"])
def test_acknowledged_votes_survive_kill_9(sim, keys, kdb, ballots, tmp_path, secret):
    keys_path = keys.save(tmp_path / "keys.json")
    bid = ballots.create("Kill", BallotKind.MOTION, allow_change=False, secret=secret, actor="chair")
    ballots.open(bid, actor="chair")
    proc = start_reader(kdb, keys_path, sim.port)
    try:
        ctr = sim.next_counter(1)
        recorded = p.encode_vote(keys.sealer(1), 1, ctr, bid, {1})
        sim.write(recorded)
        for kid in range(2, 11):
            sim.vote(kid, bid, {2})
        assert sim.wait_acks(10)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        assert counted(kdb, bid) == 10  # every acknowledged vote was on disk
        proc = start_reader(kdb, keys_path, sim.port)
        sim.write(recorded)  # replay after the crash: rejected, no ack
        sim.vote(1, bid, {2})  # keypad 1 again with a fresh counter: already voted
        sim.vote(11, bid, {1})
        wait_for(lambda: len(sim.acks) == 12, what="acks after restart")
        assert sim.acks[(1, ctr + 1)].status == p.AckStatus.ALREADY_VOTED
        assert (1, ctr) in sim.acks and len([k for k in sim.acks if k[0] == 1]) == 2
        assert counted(kdb, bid) == 11
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    closer = Ballots(kdb, QuorumPolicy()) if secret else ballots  # another process: keys from disk only
    r = closer.close(bid, actor="chair")
    assert r.counts["Yes"] == 2 and r.counts["No"] == 9
    assert closer.tallies.keys.on_disk() == []
