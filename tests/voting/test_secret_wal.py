"""Secret ballot against someone who reads the database's write history (issue 11, item 9).

The attacker replays the SQLite write-ahead log commit by commit (each commit is a state of the
database) and, between consecutive states, pairs the delegate who appeared in ``ballot_participation``
with the counters that changed. They do it on the files as the close leaves them while a 15 s reader
(a backup, a long ``audit verify``) spans the close, and on a copy of the files taken mid-ballot.
Either way they recover no delegate→choice pair, and no file holds the ballot's tally key afterwards.

On PostgreSQL the same attack reads the WAL through logical decoding (every row change of every
transaction, from a slot created before the ballot) and the dead tuples through ``pageinspect``, and
``pg_waldump`` shows from the records alone that no transaction wrote both a participation row and a
counter.
"""

from __future__ import annotations

import itertools
import re
import shutil
import sqlite3
import struct
import subprocess
import threading
from pathlib import Path

import psycopg
import pytest

from congress.keypads.keystore import KeyStore
from congress.keypads.protocol import VoteFrame
from congress.keypads.simulator import BaseStationSimulator
from controller import audit
from controller.checkins.attendance import QuorumPolicy
from controller.storage import migrate
from controller.storage.database import Database
from controller.voting.assignment import Assignments
from controller.voting.ballots import Ballots
from controller.voting.keypad_reader import KeypadReader
from controller.voting.secret_tally import BallotKeys
from controller.voting.tables import BallotKind

from .conftest import Roster, _support

N = 6
PLAN = {1: {1}, 2: {2}, 3: {3}, 4: {1}, 5: {2}, 6: {1}}  # keypad i is delegate d000i; 1 yes, 2 no, 3 abstain
TRUTH = {f"d{k:04d}": frozenset(c) for k, c in PLAN.items()}
HOLD_S = 15.0


# -- the attacker ------------------------------------------------------------------------------------
def wal_states(db_file: Path, wal: bytes, work: Path) -> list[tuple[set[str], dict[int, int]]]:
    """(participants, counters) of ballot 1 after every commit in ``wal`` (applied over ``db_file``)."""
    if len(wal) < 32:
        return []
    page = struct.unpack(">I", wal[8:12])[0]
    frame = 24 + page
    ends = [off + frame for off in range(32, len(wal) - frame + 1, frame)
            if struct.unpack(">I", wal[off + 4:off + 8])[0]]
    states = []
    for i, end in enumerate(ends):
        snap = work / f"snap{i}.db"
        shutil.copyfile(db_file, snap)
        (work / f"snap{i}.db-wal").write_bytes(wal[:end])
        states.append(read_state(snap))
    return states


def read_state(path: Path) -> tuple[set[str], dict[int, int]]:
    con = sqlite3.connect(path)
    try:
        people = {d for (d,) in con.execute("SELECT delegate_id FROM ballot_participation WHERE ballot_id=1")}
        counts = dict(con.execute('SELECT option, "count" FROM ballot_counts WHERE ballot_id=1'))
    except sqlite3.OperationalError:  # a state before the tables existed
        return set(), {}
    finally:
        con.close()
    return people, counts


def pairs_from_states(states) -> dict[str, frozenset[int]]:
    """Delegate -> options, wherever one commit added exactly one voter and changed the counters."""
    found = {}
    for (p0, c0), (p1, c1) in itertools.pairwise(states):
        new = p1 - p0
        delta = {o: c1.get(o, 0) - c0.get(o, 0) for o in c1}
        chosen = frozenset(o for o, n in delta.items() if n > 0 and o > 0)
        if len(new) == 1 and any(delta.values()):
            found[new.pop()] = chosen
    return found


def attack_sqlite(db_file: Path, work: Path) -> dict[str, frozenset[int]]:
    wal_file = Path(f"{db_file}-wal")
    wal = wal_file.read_bytes() if wal_file.exists() else b""
    work.mkdir()
    return pairs_from_states(wal_states(db_file, wal, work))


def hold_reader(db_file: Path, started: threading.Event, seconds: float) -> threading.Thread:
    """A read transaction held open for ``seconds`` (what a long backup does)."""

    def run():
        con = sqlite3.connect(db_file, isolation_level=None)
        con.execute("BEGIN")
        con.execute("SELECT count(*) FROM ballot_participation").fetchone()
        started.set()
        threading.Event().wait(seconds)
        con.execute("COMMIT")
        con.close()

    t = threading.Thread(target=run, name="long-reader", daemon=True)
    t.start()
    return t


# -- SQLite over the real serial line ----------------------------------------------------------------
def test_sqlite_wal_holds_no_pair_after_a_close_spanned_by_a_long_reader(tmp_path):
    db_file = tmp_path / "controller.db"
    db = Database(f"sqlite:///{db_file}", info={audit.INFO_KEY: b"k" * 32}, hide_parameters=True)
    migrate.upgrade(db)
    keys_dir = tmp_path / "ballot-keys"
    roster = Roster(db)
    roster.add(N)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, N + 1)}, actor="tech")
    roster.check_in([f"d{i:04d}" for i in range(1, N + 1)])
    pads = KeyStore.generate(range(1, N + 1))
    ballots = Ballots(db, QuorumPolicy.parse("majority"), keys=BallotKeys(keys_dir))
    with BaseStationSimulator(pads, link=tmp_path / "base.tty") as sim:
        reader = KeypadReader(sim.port, pads, db, ballots, retry_s=0.05)
        ballots.announce = reader.announce
        reader.start()
        try:
            assert reader.connected.wait(10)
            bid = ballots.create("Motion", BallotKind.MOTION, secret=True, actor="chair")
            assert bid == 1
            ballots.open(bid, actor="chair")
            for n, kid in enumerate(sorted(PLAN), start=1):
                sim.vote(kid, bid, PLAN[kid])  # one commit per vote: the attacker's best case
                assert sim.wait_acks(n)
            key = (keys_dir / "1.key").read_bytes()
            backup = tmp_path / "backup"
            backup.mkdir()
            shutil.copyfile(db_file, backup / "controller.db")  # a copy of the files mid-ballot
            shutil.copyfile(f"{db_file}-wal", backup / "controller.db-wal")
            started = threading.Event()
            long_reader = hold_reader(db_file, started, HOLD_S)
            assert started.wait(10)
            result = ballots.close(bid, actor="chair")
            long_reader.join()
        finally:
            reader.stop()
    assert result.counts == {"Yes": 3, "No": 2, "Abstain": 1}

    # The attack on the files as the close left them, and on the mid-ballot copy: nothing.
    assert attack_sqlite(db_file, tmp_path / "after") == {}
    assert attack_sqlite(backup / "controller.db", tmp_path / "mid") == {}
    wal = Path(f"{db_file}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the close waited for the reader, then truncated
    # The key that sealed the running tally is nowhere any more: not in a key file, not in the database.
    assert list(keys_dir.iterdir()) == []
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert key not in f.read_bytes(), f
    db.dispose()


def test_the_attack_finds_pairs_in_a_named_ballot(tmp_path):
    """The attacker is real: on a ballot that keeps counters in the clear (named) it pairs everyone."""
    db_file = tmp_path / "named.db"
    db = Database(f"sqlite:///{db_file}", info={audit.INFO_KEY: b"k" * 32})
    migrate.upgrade(db)
    roster = Roster(db)
    roster.add(N)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, N + 1)}, actor="tech")
    roster.check_in([f"d{i:04d}" for i in range(1, N + 1)])
    ballots = Ballots(db, QuorumPolicy.parse("majority"), keys=BallotKeys(tmp_path / "keys"))
    bid = ballots.create("Named", BallotKind.MOTION, secret=False, allow_change=False, actor="chair")
    ballots.open(bid, actor="chair")
    for kid, choice in PLAN.items():
        with db.session() as s:
            ballots.record_votes(s, [VoteFrame(kid, 1, bid, frozenset(choice))])
    shutil.copyfile(db_file, tmp_path / "copy.db")
    shutil.copyfile(f"{db_file}-wal", tmp_path / "copy.db-wal")
    found = attack_sqlite(tmp_path / "copy.db", tmp_path / "work")
    assert found == TRUTH
    db.dispose()


# -- PostgreSQL: its WAL (logical decoding) and its dead tuples ----------------------------------------
@pytest.fixture(scope="module")
def logical_pg(tmp_path_factory):
    """A private server of our own with wal_level=logical (never the machine's shared one)."""
    server = _support.PgServer(tmp_path_factory.mktemp("pg-wal"))
    server.start_private(extra="-c wal_level=logical -c max_replication_slots=4")
    server.create_database("walcheck")
    try:
        yield server
    finally:
        server.stop()


def _pg_tables(con) -> dict[str, int]:
    return dict(con.execute("SELECT relname, oid::int FROM pg_class WHERE relname IN "
                            "('ballot_participation', 'ballot_counts', 'secret_tallies')").fetchall())


def pg_pairs_from_wal(changes: list[str]) -> dict[str, frozenset[int]]:
    """test_decoding lines, grouped by transaction: a participation insert next to counter updates."""
    found, voter, bumped = {}, None, {}
    last: dict[int, int] = {}
    for line in changes:
        if line.startswith("BEGIN"):
            voter, bumped = None, {}
        elif line.startswith("table public.ballot_participation: INSERT"):
            voter = line.split("delegate_id[character varying]:'")[1].split("'")[0]
        elif line.startswith("table public.ballot_counts: "):
            fields = dict(f.split(":", 1) for f in line.split(": ", 2)[2].split(" "))
            opt, cnt = int(fields["option[integer]"]), int(fields["count[integer]"])
            if cnt != last.get(opt, 0):
                bumped[opt] = cnt - last.get(opt, 0)
            last[opt] = cnt
        elif line.startswith("COMMIT") and voter and bumped:
            found[voter] = frozenset(o for o, n in bumped.items() if n > 0 and o > 0)
    return found


def pg_pairs_from_dead_tuples(con) -> dict[str, frozenset[int]]:
    """Every tuple version still in the heap pages, grouped by the transaction that wrote it."""
    con.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    by_xid: dict[int, dict] = {}

    def versions(table):
        n_pages = con.execute(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
        for blk in range(n_pages.fetchone()[0]):
            yield from con.execute(
                f"SELECT t_xmin::text::bigint, t_data FROM heap_page_items(get_raw_page('{table}', {blk})) "
                "WHERE t_data IS NOT NULL").fetchall()

    for xmin, data in versions("ballot_participation"):
        by_xid.setdefault(xmin, {})["voter"] = bytes(data)
    for xmin, data in versions("ballot_counts"):
        _ballot, option, count = struct.unpack("<iii", bytes(data)[:12])
        by_xid.setdefault(xmin, {}).setdefault("counts", {})[option] = count
    found, last = {}, {}
    for xid in sorted(by_xid):
        row = by_xid[xid]
        counts = row.get("counts", {})
        bumped = {o: c - last.get(o, 0) for o, c in counts.items() if c != last.get(o, 0)}
        last.update(counts)
        if "voter" in row and bumped:
            voter = row["voter"][5:].decode(errors="replace")  # ballot id int4, then a short varchar
            found[voter] = frozenset(o for o, n in bumped.items() if n > 0 and o > 0)
    return found


def pg_waldump_linked_transactions(con, start_lsn: str) -> int:
    """Transactions that, in the WAL records ``pg_waldump`` lists since ``start_lsn``, changed both a
    ballot_participation block and a ballot_counts block (the record structure; values are not needed)."""
    tool = shutil.which("pg_waldump") or str(_support.PG_BIN / "pg_waldump")
    end_lsn = con.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
    wal_dir = Path(con.execute("SHOW data_directory").fetchone()[0]) / "pg_wal"
    nodes = dict(con.execute("SELECT relname, pg_relation_filenode(oid::regclass)::text FROM pg_class "
                             "WHERE relname IN ('ballot_participation', 'ballot_counts')").fetchall())
    out = subprocess.run([tool, "-p", str(wal_dir), "-s", start_lsn, "-e", end_lsn],
                         capture_output=True, text=True, check=True).stdout
    touched: dict[str, set[str]] = {}
    for line in out.splitlines():
        tx = re.search(r"tx:\s+(\d+)", line)
        for rel in re.findall(r"rel \d+/\d+/(\d+)", line):
            if tx and tx.group(1) != "0":
                touched.setdefault(tx.group(1), set()).add(rel)
    both = {nodes["ballot_participation"], nodes["ballot_counts"]}
    return sum(1 for rels in touched.values() if both <= rels)


@pytest.mark.parametrize("secret", [True, False], ids=["secret", "named"])
def test_postgresql_wal_and_dead_tuples_hold_no_pair(logical_pg, tmp_path, secret):
    url = logical_pg.url("walcheck")
    logical_pg.reset_schema(url)
    db = Database(url, info={audit.INFO_KEY: b"k" * 32})
    migrate.upgrade(db)
    roster = Roster(db)
    roster.add(N)
    Assignments(db).assign_by_seat({f"S{i:04d}": i for i in range(1, N + 1)}, actor="tech")
    roster.check_in([f"d{i:04d}" for i in range(1, N + 1)])
    keys_dir = tmp_path / "ballot-keys"
    ballots = Ballots(db, QuorumPolicy.parse("majority"), keys=BallotKeys(keys_dir))
    plain = url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as con:
        con.execute("SELECT pg_create_logical_replication_slot('attacker', 'test_decoding')")
        start_lsn = con.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        try:
            bid = ballots.create("Motion", BallotKind.MOTION, secret=secret, allow_change=False,
                                 actor="chair")
            ballots.open(bid, actor="chair")
            for kid, choice in PLAN.items():
                with db.session() as s:
                    ballots.record_votes(s, [VoteFrame(kid, 1, bid, frozenset(choice))])
            result = ballots.close(bid, actor="chair")
            changes = [r[0] for r in con.execute(
                "SELECT data FROM pg_logical_slot_get_changes('attacker', NULL, NULL)").fetchall()]
        finally:
            con.execute("SELECT pg_drop_replication_slot('attacker')")
        wal_pairs = pg_pairs_from_wal(changes)
        tuple_pairs = pg_pairs_from_dead_tuples(con)
        linked = pg_waldump_linked_transactions(con, start_lsn)
    db.dispose()
    assert result.counts == {"Yes": 3, "No": 2, "Abstain": 1}
    assert any("ballot_participation: INSERT" in c for c in changes)  # the decoder saw the ballot
    if secret:
        assert wal_pairs == {} and tuple_pairs == {}
        assert linked == 0  # pg_waldump: no transaction wrote a participation row and a counter
        assert list(keys_dir.iterdir()) == []
    else:  # the same attacks pair everyone when the counters are written in the clear
        assert wal_pairs == TRUTH and tuple_pairs == TRUTH
        assert linked == len(TRUTH)




# -- keys: crash between the close's commit and the shredding; a missing key -------------------------
def test_a_key_left_by_an_interrupted_close_is_shredded_at_start(sqlite_db, tmp_path):
    from controller.voting.tables import Ballot, BallotStatus

    keys = BallotKeys(tmp_path / "ballot-keys")
    ballots = Ballots(sqlite_db, QuorumPolicy.parse("majority"), keys=keys)
    bid = ballots.create("Motion", BallotKind.MOTION, secret=True, actor="chair")
    ballots.open(bid, actor="chair", allow_without_quorum=True)
    assert keys.on_disk() == [bid] and ballots.sweep_keys() == []  # open: kept
    with sqlite_db.session() as s:  # what a close that died after its commit leaves behind
        s.get(Ballot, bid).status = BallotStatus.CLOSED
    assert ballots.sweep_keys() == [bid] and keys.on_disk() == []


def test_votes_of_a_secret_ballot_whose_key_is_gone_are_refused_not_lost(sqlite_db, tmp_path):
    from controller.voting.secret_tally import BallotKeyError

    roster = Roster(sqlite_db)
    roster.add(2)
    Assignments(sqlite_db).assign_by_seat({"S0001": 1, "S0002": 2}, actor="tech")
    roster.check_in(["d0001", "d0002"])
    ballots = Ballots(sqlite_db, QuorumPolicy.parse("majority"), keys=BallotKeys(tmp_path / "k"))
    bid = ballots.create("Motion", BallotKind.MOTION, secret=True, actor="chair")
    ballots.open(bid, actor="chair")
    (tmp_path / "k" / f"{bid}.key").unlink()
    cold = Ballots(sqlite_db, QuorumPolicy.parse("majority"), keys=BallotKeys(tmp_path / "k"))
    with pytest.raises(BallotKeyError), sqlite_db.session() as s:
        cold.record_votes(s, [VoteFrame(1, 1, bid, frozenset({1}))])
    assert cold.progress(bid)["received"] == 0  # rolled back: the keypad gets no ack and resends
