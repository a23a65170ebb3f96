"""Append-only, hash-chained audit log of security-relevant actions.

Every row stores the previous row's hash and its own ``row_hash`` = HMAC-SHA256(key, canonical JSON of
``seq, at, actor, action, detail, prev_hash``). Changing, inserting or deleting any row breaks the
chain at that row, and without the key nobody can recompute it. The single ``audit_head`` row holds
the last sequence number and hash; appending updates it first, which takes the write lock on SQLite
and a row lock on PostgreSQL, so concurrent writers (web threads, ingest, other processes) form one
gapless chain. Deleting the newest rows is caught because the head no longer matches; rewinding the
head as well is caught because the head is sealed with the key (``head_mac``), and deleting everything
is caught by the anchor outside the database (:mod:`controller.audit.anchor`, ``data_dir/audit.anchor``,
written after every commit that appended rows). On top of that, database triggers (migration 0006)
refuse UPDATE and DELETE on ``audit_log`` outright.

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
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from congress.config import read_secret
from congress.errors import ConfigError
from controller.audit import anchor as anchors
from controller.storage.database import utcnow
from controller.storage.tables import AuditEntry, AuditHead

log = logging.getLogger(__name__)

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


def session_info(data_dir: Path) -> dict:
    """What a :class:`controller.storage.database.Database` of a configured controller carries in its
    sessions' ``info``: the audit key and the anchor file of ``data_dir``."""
    return {INFO_KEY: load_key(data_dir), anchors.ANCHOR_INFO: Path(data_dir) / anchors.ANCHOR_FILE}


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
    head.head_mac = anchors.seal(key, entry.seq, entry.row_hash)
    session.flush()
    if session.info.get(anchors.ANCHOR_INFO):
        _anchor_after_commit(session, entry.seq, entry.row_hash)
    return entry


def _anchor_after_commit(session: Session, seq: int, row_hash: str) -> None:
    """Remember the newest position; it goes to the anchor file once the transaction has committed."""
    session.info["audit_pending"] = (seq, row_hash)
    if session.info.get("audit_listening"):
        return
    session.info["audit_listening"] = True

    def committed(s: Session) -> None:
        pending = s.info.pop("audit_pending", None)
        if pending is not None:
            try:
                anchors.advance(s.info[anchors.ANCHOR_INFO], _key(s), *pending)
            except OSError:  # the rows are committed; verify will say the anchor is behind or missing
                log.exception("audit: could not write the anchor file")

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", lambda s: s.info.pop("audit_pending", None))


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_bad_seq`` is the first row that does not check out."""

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def verify(session: Session, *, batch: int = 1000, expect: str | None = None) -> VerifyResult:
    """Walk the whole chain in order and report the first broken row, a head that was rewound or not
    sealed, and a chain shorter than the anchor outside the database (or than ``expect``, a
    :func:`fingerprint` printed earlier, e.g. on the minutes)."""
    key = _key(session)
    hashes_at: dict[int, str] = {}
    wanted = set()
    try:
        anchor = _read_anchor(session)
    except anchors.AnchorError as exc:
        return VerifyResult(False, 0, None, str(exc))
    if anchor is not None:
        if not anchor.valid(key):
            return VerifyResult(False, 0, None, "the anchor file does not carry this key's seal (replaced?)")
        wanted.add(anchor.seq)
    expected = parse_fingerprint(expect) if expect else None
    if expected is not None:
        wanted.add(expected[0])
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
            if e.seq in wanted:
                hashes_at[e.seq] = e.row_hash
        session.expunge_all()
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    if head_seq != rows or head_hash != prev:
        return VerifyResult(False, rows, rows + 1, f"chain ends at row {rows} but the head says {head_seq}")
    if head is not None and rows and not (
        head.head_mac and hmac.compare_digest(head.head_mac, anchors.seal(key, head_seq, head_hash))
    ):
        return VerifyResult(False, rows, rows, "the head row's seal does not match (rewound or forged)")
    if anchor is not None and anchor.seq > 0:
        if anchor.seq > rows:
            what = "the chain is empty" if rows == 0 else f"the chain ends at row {rows}"
            return VerifyResult(False, rows, rows + 1,
                                f"{what} but the anchor outside the database names row {anchor.seq} "
                                "(rows were deleted; if this is a new database on purpose, move "
                                f"{anchors.ANCHOR_FILE} out of the data directory)")
        if hashes_at.get(anchor.seq) != anchor.row_hash:
            return VerifyResult(False, rows, anchor.seq,
                                f"row {anchor.seq} is not the row the anchor outside the database names "
                                "(the chain was replaced)")
    if expected is not None:
        seq, digits = expected
        if seq > rows or anchors.fingerprint(seq, hashes_at.get(seq, "")) != anchors.fingerprint(seq, digits):
            return VerifyResult(False, rows, min(seq, rows + 1),
                                f"the chain does not hold row {seq} with fingerprint {expect}")
    return VerifyResult(True, rows)


def _read_anchor(session: Session) -> anchors.Anchor | None:
    path = session.info.get(anchors.ANCHOR_INFO)
    return anchors.read(path) if path else None


def parse_fingerprint(text: str) -> tuple[int, str]:
    """``"SEQ:XXXX-XXXX-XXXX-XXXX"`` -> ``(seq, "xxxxxxxxxxxxxxxx")`` (ValueError when malformed)."""
    seq, _, digits = text.strip().partition(":")
    digits = digits.replace("-", "").replace(" ", "").lower()
    if not seq.isdigit() or len(digits) != 16 or any(c not in "0123456789abcdef" for c in digits):
        raise ValueError(f"{text!r} is not an audit fingerprint (SEQ:XXXX-XXXX-XXXX-XXXX)")
    return int(seq), digits


@dataclass(frozen=True)
class Head:
    """The chain's newest position: its row number, that row's hash and the printable fingerprint."""

    seq: int
    row_hash: str
    fingerprint: str


def head(session: Session) -> Head:
    """The newest position of the chain now (print :attr:`Head.fingerprint` on minutes at each close)."""
    row = session.get(AuditHead, 1)
    seq, last = (row.seq, row.last_hash) if row else (0, GENESIS)
    return Head(seq, last, anchors.fingerprint(seq, last))


def fingerprint(session: Session) -> str:
    """The printable fingerprint of the chain's head (``SEQ:XXXX-XXXX-XXXX-XXXX``)."""
    return head(session).fingerprint


def recent(session: Session, *, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
    """The newest rows, newest first (for the audit page)."""
    q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEntry.seq < before)
    return list(session.scalars(q))
