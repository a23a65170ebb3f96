"""Append-only, hash-chained audit log of security-relevant actions.

Every row stores the previous row's hash and its own ``row_hash`` = HMAC-SHA256(key, canonical JSON of
``seq, at, actor, action, detail, prev_hash``). Changing, inserting or deleting any row breaks the
chain at that row, and without the key nobody can recompute it. The single ``audit_head`` row holds
the last sequence number and hash; appending updates it first, which takes the write lock on SQLite
and a row lock on PostgreSQL, so concurrent writers (web threads, ingest, other processes) form one
gapless chain. Deleting the newest rows is caught because the head no longer matches. On top of
that, database triggers (migration 0006) refuse UPDATE and DELETE on ``audit_log`` outright.

Anyone calls :func:`record` inside their own transaction (the row commits or rolls back with their
change). The key lives in the session's ``info`` (put there by
:class:`controller.storage.database.Database`, see
:func:`load_key`), so callers need nothing but a session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from congress.config import read_secret
from congress.errors import ConfigError
from controller.storage.database import utcnow
from controller.storage.tables import AuditEntry, AuditHead

#: Key of the audit HMAC key in ``Session.info`` / ``Database(info=...)``.
INFO_KEY = "audit_key"
GENESIS = "0" * 64
KEY_FILE = "audit.key"
#: Longest detail of one audit row (characters; a large election result fits): a row stays this small.
MAX_DETAIL_CHARS = 16_000


def load_key(data_dir: Path) -> bytes:
    """The audit HMAC key: secret ``audit-key`` (hex) if set, else ``data_dir/audit.key`` (created)."""
    secret = read_secret("audit-key", required=False)
    if secret:
        try:
            key = bytes.fromhex(secret.strip())
        except ValueError:
            raise ConfigError(
                "secret 'audit-key' is not hex", hint="generate one with: openssl rand -hex 32"
            ) from None
        if len(key) < 16:
            raise ConfigError("secret 'audit-key' is shorter than 16 bytes", hint="openssl rand -hex 32")
        return key
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


def _key(session: Session) -> bytes:
    key = session.info.get(INFO_KEY)
    if not key:
        raise ConfigError(
            "the database session carries no audit key",
            hint="construct Database(url, info={'audit_key': controller.audit.load_key(data_dir)})",
        )
    return key


def _canonical(seq: int, at: dt.datetime, actor: str, action: str, detail: str, prev: str) -> bytes:
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    row = {"seq": seq, "at": stamp, "actor": actor, "action": action, "detail": detail, "prev": prev}
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _hash(key: bytes, e: AuditEntry) -> str:
    msg = _canonical(e.seq, e.at, e.actor, e.action, e.detail, e.prev_hash)
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def drop_append_only_guard(conn) -> None:
    """Remove the database triggers that refuse UPDATE/DELETE on ``audit_log`` (tests of tampering
    use it to act as an attacker with full database rights; the chain must still catch them)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")


def bounded_detail(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` if it fits in ``limit`` characters, else a JSON object saying how long it was, with its
    beginning (still JSON, so readers of the detail keep working; at most ``limit`` characters)."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    while True:
        cut = json.dumps({"cut": True, "chars": len(text), "start": text[:keep] + "\u2026"},
                         ensure_ascii=False)
        if len(cut) <= limit:
            return cut
        keep //= 2


def record(session: Session, actor: str, action: str, detail: Any = None) -> AuditEntry:
    """Append one row (in the caller's transaction). ``detail`` is any JSON-serialisable value; over
    :data:`MAX_DETAIL_CHARS` characters it is cut (:func:`bounded_detail`)."""
    key = _key(session)
    text = bounded_detail(detail if isinstance(detail, str) else json.dumps(detail or {}, sort_keys=True,
                                                                         default=str))
    bumped = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if bumped.rowcount == 0:  # first row ever; two first writers must not both create the head
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        values = {"id": 1, "seq": 0, "last_hash": GENESIS}
        session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing())
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    session.refresh(head)
    # The timestamp is truncated to microseconds; both backends store exactly that.
    entry = AuditEntry(
        seq=head.seq,
        at=utcnow(),
        actor=actor[:128],
        action=action[:64],
        detail=text,
        prev_hash=head.last_hash,
    )
    entry.row_hash = _hash(key, entry)
    session.add(entry)
    head.last_hash = entry.row_hash
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad_seq`` is the first row that does not check out."""

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def verify(session: Session, *, batch: int = 1000) -> VerifyResult:
    """Walk the whole chain in order and report the first broken row (or a bad head)."""
    key = _key(session)
    prev, expected_seq, rows, last = GENESIS, 1, 0, 0
    while True:
        chunk = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not chunk:
            break
        for e in chunk:
            if e.seq != expected_seq:
                return VerifyResult(False, rows, expected_seq, f"row {expected_seq} is missing")
            if e.prev_hash != prev:
                return VerifyResult(False, rows, e.seq, "previous-hash link does not match the row before")
            if not hmac.compare_digest(_hash(key, e), e.row_hash):
                return VerifyResult(False, rows, e.seq, "row content does not match its hash (altered)")
            prev, expected_seq, rows, last = e.row_hash, e.seq + 1, rows + 1, e.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    if head_seq != rows or head_hash != prev:
        return VerifyResult(False, rows, rows + 1, f"chain ends at row {rows} but the head says {head_seq}")
    return VerifyResult(True, rows)


def recent(session: Session, *, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
    """The newest rows, newest first (for the audit page)."""
    q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEntry.seq < before)
    return list(session.scalars(q))
