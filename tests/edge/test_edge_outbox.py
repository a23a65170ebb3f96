"""Outbox: events keyed by (boot, seq), deleted only on ack, capacity refused, no seq reused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from congress.link.outbox import Outbox, OutboxFull


def build(boot, seq):
    return f"{boot}:{seq}".encode()


def test_add_ack_and_order(tmp_path):
    ob = Outbox(tmp_path / "o.db", 10, boot_id="b1")
    evs = [ob.add("checkin", build) for _ in range(3)]
    assert [e.seq for e in evs] == [1, 2, 3]
    assert [e.payload for e in ob.pending()] == [b"b1:1", b"b1:2", b"b1:3"]
    assert ob.ack("b1", 2) is True
    assert ob.ack("b1", 2) is False
    assert [e.seq for e in ob.pending()] == [1, 3]
    ob.close()
    assert oct(os.stat(tmp_path / "o.db").st_mode & 0o777) == "0o600"


def test_restart_same_boot_continues_new_boot_restarts(tmp_path):
    ob = Outbox(tmp_path / "o.db", 10, boot_id="b1")
    ob.add("checkin", build)
    ob.add("checkin", build)
    ob.ack("b1", 2)
    ob.close()
    ob = Outbox(tmp_path / "o.db", 10, boot_id="b1")
    assert ob.add("checkin", build).seq == 3  # the acked seq 2 is not reused
    ob.close()
    ob = Outbox(tmp_path / "o.db", 10, boot_id="b2")
    assert ob.add("checkin", build).seq == 1
    assert [(e.boot_id, e.seq) for e in ob.pending()] == [("b1", 1), ("b1", 3), ("b2", 1)]
    ob.close()


def test_full_refuses_and_keeps_everything(tmp_path):
    ob = Outbox(tmp_path / "o.db", 2, boot_id="b")
    ob.add("checkin", build)
    ob.add("checkin", build)
    with pytest.raises(OutboxFull, match="outbox full"):
        ob.add("checkin", build)
    assert ob.full and ob.depth() == 2
    ob.ack("b", 1)
    assert ob.add("checkin", build).seq == 3
    ob.close()


def test_failed_build_does_not_consume_a_seq(tmp_path):
    ob = Outbox(tmp_path / "o.db", 5, boot_id="b")

    def bad(boot, seq):
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        ob.add("checkin", bad)
    assert ob.add("checkin", build).seq == 1
    ob.close()


def test_kill_9_during_writes_loses_no_committed_event_and_reuses_no_seq(tmp_path):
    db = tmp_path / "o.db"
    code = textwrap.dedent(
        f"""
        import sys
        from congress.link.outbox import Outbox
        ob = Outbox({str(db)!r}, 1_000_000, boot_id="b")
        while True:
            e = ob.add("checkin", lambda b, s: str(s).encode())
            print(e.seq, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    for _ in range(200):
        line = proc.stdout.readline()
    last = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    ob = Outbox(db, 1_000_000, boot_id="b")
    seqs = [e.seq for e in ob.pending(limit=10_000_000)]
    assert seqs == list(range(1, len(seqs) + 1))  # gapless, no duplicates
    assert len(seqs) >= last  # every reported (committed) event is there
    assert ob.add("checkin", build).seq == len(seqs) + 1
    ob.close()
