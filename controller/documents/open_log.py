"""Every copy sent is written down before its first byte leaves: a ``document_opens`` row and an
audit row, committed by one writer thread in groups.

2,000 tablets opening their documents at once would otherwise queue 2,000 separate durable commits
(each an fsync on SQLite); the writer (thread ``document-opens``) takes whatever has queued, writes it
in one transaction and wakes every request waiting on it, so a burst costs a few commits and each
request still knows its open is stored before it sends the document. Without the thread started
(tests, commands) :meth:`OpenLog.record` writes on the caller's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field

from controller import audit
from controller.documents.tables import DocumentOpen, OpenKind
from controller.storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class OpenEntry:
    version_id: int
    holder_id: str
    actor: str
    detail: dict
    kind: OpenKind = OpenKind.OPEN
    pages: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class OpenLog:
    """The group-committing writer of opens (``Services.documents.opens``)."""

    def __init__(self, db: Database, *, batch: int = 500) -> None:
        self.db = db
        self.batch = batch
        self._queue: queue.Queue[OpenEntry | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _write(self, entries: list[OpenEntry]) -> None:
        with self.db.session() as s:
            for e in entries:
                s.add(
                    DocumentOpen(version_id=e.version_id, holder_id=e.holder_id, kind=e.kind, pages=e.pages)
                )
                audit.record(s, e.actor, f"document.{e.kind.value}", e.detail)

    def record(self, entry: OpenEntry, timeout: float = 30.0) -> None:
        """Store ``entry``; returns once it is committed (raises if it could not be)."""
        if self._thread is None:
            self._write([entry])
            return
        self._queue.put(entry)
        if not entry.done.wait(timeout):
            raise TimeoutError("the document open could not be recorded in time")
        if entry.error is not None:
            raise entry.error

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            entries = [first]
            while len(entries) < self.batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                entries.append(nxt)
            try:
                self._write(entries)
            except Exception as exc:  # the waiting requests report it; the writer goes on
                log.exception("could not record %d document opens", len(entries))
                for e in entries:
                    e.error = exc
            for e in entries:
                e.done.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="document-opens", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None
