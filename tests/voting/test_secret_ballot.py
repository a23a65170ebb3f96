"""Secret ballot: after a secret election run over the real serial path (simulator -> pty -> reader),
the database dump (SQLite ``iterdump``, PostgreSQL ``pg_dump``), every log line (all loggers at DEBUG,
SQL statements included) and the serial trace are the same whichever way two delegates voted.

Run A and run B are identical except that delegates d0001 and d0002 exchange their choices. If
anything stored or logged linked a delegate (or keypad) to a choice, A and B would differ there.
Votes are sent one at a time (each acknowledged before the next) so both runs take the same path.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import subprocess

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from congress.keypads.keystore import KeyStore
from congress.keypads.simulator import BaseStationSimulator
from controller import audit
from controller.checkins.attendance import QuorumPolicy
from controller.storage import migrate
from controller.storage.database import Database
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader
from controller.voting.tables import BallotKind

from .conftest import Roster

N = 12
_CHOICES = {1: {1, 2}, 2: {3}, 3: {1}, 4: {2, 4}, 5: {1, 3}, 6: set(), 7: {4}, 8: {1, 2, 3, 4},
            9: {2}, 10: {1, 4}, 11: {3}, 12: {2}}
PLAN = {k: frozenset(c) for k, c in _CHOICES.items()}
SWAPPED = {**PLAN, 1: PLAN[2], 2: PLAN[1]}

NOISE = [
    # A sealed tally is random bytes (fresh nonce every write): equal in length, never in content.
    (re.compile(r"Binary\(b.*?\(\d+ byteschars\)\)"), "<sealed>"),
    (re.compile(r"""(?<=[ (\[,])b(["'])(?:\\.|(?!\1).)*\1"""), "<sealed>"),
    (re.compile(r"\\x[0-9a-f]{40,}"), "<sealed>"),
    (re.compile(r"datetime\.datetime\([^)]*\)"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z|\+00)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32,}\b"), "<hex>"),
    (re.compile(r"\b\d+:[0-9A-F]{4}(-[0-9A-F]{4}){3}\b"), "<audit fingerprint>"),  # of a keyed hash, as <hex>
    (re.compile(r"0x[0-9a-f]+"), "<addr>"),
    (re.compile(r"/dev/pts/\d+"), "<pty>"),
    (re.compile(r"\[[a-z ]*\d+(\.\d+)?(e-?\d+)?s( ago)?\]"), "[stmt]"),  # SQLAlchemy statement timing
    (re.compile(r"\\(un)?restrict \S+"), "<pg_dump restrict key>"),
    (re.compile(r"congress_voting_[0-9a-f]+|/tmp/\S+"), "<place>"),
]


def normalise(text: str) -> str:
    for rx, repl in NOISE:
        text = rx.sub(repl, text)
    return text


def dump(db: Database, pg_port: int | None) -> str:
    if db.backend == "sqlite":
        raw = db.engine.raw_connection()
        try:
            return "\n".join(raw.driver_connection.iterdump())
        finally:
            raw.close()
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    name = make_url(db.url).database
    out = subprocess.run([pg_dump, "-h", "127.0.0.1", "-p", str(pg_port), "-U", "postgres", name],
                         check=True, capture_output=True, text=True)
    return out.stdout


def run_election(db: Database, keys: KeyStore, plan, link, pg_port) -> tuple[str, list[int], dict]:
    """One secret election over the serial path; returns (dump, wire frame lengths, result)."""
    roster = Roster(db)
    roster.add(N)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, N + 1)}, actor="tech")
    roster.check_in([f"d{i:04d}" for i in range(1, N + 1)])
    ballots = Ballots(db, QuorumPolicy.parse("majority"))
    with BaseStationSimulator(keys, link=link) as sim:
        reader = KeypadReader(sim.port, keys, db, ballots, retry_s=0.05)
        ballots.announce = reader.announce
        reader.start()
        try:
            assert reader.connected.wait(10)
            bid = ballots.create("Board", BallotKind.ELECTION, options=["A", "B", "C", "D"], seats=3,
                                 secret=True, actor="chair")
            ballots.open(bid, actor="chair")
            assert sim.wait_host_frames(2)
            for n, kid in enumerate(sorted(plan), start=1):
                sim.vote(kid, bid, plan[kid])
                assert sim.wait_acks(n), f"no ack for keypad {kid}"
            result = ballots.close(bid, actor="chair").as_dict()
        finally:
            reader.stop()
        trace = [f.nbytes for f in sim.sent if f.kind == "vote"]
    return dump(db, pg_port), trace, result


@pytest.fixture
def fresh_db(request, tmp_path):
    made = []

    def make(kind: str, tag: str) -> tuple[Database, int | None]:
        if kind == "sqlite":
            url, port = f"sqlite:///{tmp_path}/{tag}.db", None
        else:
            server, url = request.getfixturevalue("voting_pg")
            server.reset_schema(url)
            port = server.port
        database = Database(url, info={audit.INFO_KEY: secrets.token_bytes(32)})
        migrate.upgrade(database)
        made.append(database)
        return database, port

    yield make
    for d in made:
        d.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_secret_election_cannot_be_linked(backend, fresh_db, tmp_path, caplog):
    keys = KeyStore.generate(range(1, N + 1))
    caplog.set_level(logging.DEBUG)  # everything, SQL statements and rows included
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    db_a, port = fresh_db(backend, "a")
    dump_a, trace_a, result_a = run_election(db_a, keys, PLAN, tmp_path / "a.tty", port)
    logs_a = [normalise(r.getMessage()) for r in caplog.records]
    caplog.clear()
    db_b, port = fresh_db(backend, "b")
    dump_b, trace_b, result_b = run_election(db_b, keys, SWAPPED, tmp_path / "b.tty", port)
    logs_b = [normalise(r.getMessage()) for r in caplog.records]

    # The election was real: 12 ballots, one blank, one over-voted (invalid), counts as planned.
    assert result_a == result_b
    assert (result_a["cast"], result_a["invalid"], result_a["blank"]) == (12, 1, 1)
    assert result_a["counts"] == {"A": 4, "B": 4, "C": 3, "D": 3}
    # Who voted is recorded, what they chose is only an aggregate per option.
    cols = {c["name"] for c in inspect(db_a.engine).get_columns("ballot_counts")}
    assert cols == {"ballot_id", "option", "count"}
    assert "d0001" in dump_a and "ballot_participation" in dump_a
    # Nothing tells run A from run B: not the dump, not a log line, not the serial trace.
    assert normalise(dump_a) == normalise(dump_b)
    assert len(logs_a) > 50 and sorted(logs_a) == sorted(logs_b)
    assert trace_a == trace_b and len(set(trace_a)) == 1
