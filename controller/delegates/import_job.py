"""Roster imports from the page: one CSV at a time, in thread ``roster-import``, progress on the live bus.

:class:`RosterImports` is built once by ``create_app`` (a typed field of
:class:`controller.app.Services`) with the app's database, live bus and enroller; the delegates page
calls :meth:`RosterImports.start` with a saved CSV and reads :attr:`RosterImports.current` for the
last job's state (``/api/delegates/import``). The job reports progress as ``enrollment`` events.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from controller.delegates import roster
from controller.delegates.enrollment import Enroller
from controller.live import EventKind, LiveBus
from controller.storage.database import Database

log = logging.getLogger(__name__)


class ImportJob(threading.Thread):
    """Thread ``roster-import``: one CSV import with progress published on the live bus."""

    def __init__(self, db: Database, bus: LiveBus, enroller: Enroller, path: Path, actor: str,
                 shown: str | None = None) -> None:
        super().__init__(name="roster-import", daemon=True)
        self.db, self.bus, self.enroller, self.path, self.actor = db, bus, enroller, path, actor
        self.shown = shown or path.name  # the person's own file name, for the page and the audit log
        #: ``report`` is the :class:`~controller.delegates.roster.ImportReport`; ``error`` a message
        #: (:class:`congress.i18n.Message` or text); :meth:`as_json` is the API's view of it.
        self.state: dict = {"running": True, "done": 0, "total": 0, "file": self.shown, "report": None,
                            "error": ""}

    def as_json(self) -> dict:
        report = self.state["report"]
        return {**self.state, "report": report.as_dict() if report is not None else None,
                "error": str(self.state["error"])}

    def _progress(self, done: int, total: int, delegate_id: str) -> None:
        self.state.update(done=done, total=total)
        self.bus.publish(EventKind.ENROLLMENT, {"done": done, "total": total, "delegate_id": delegate_id})

    def run(self) -> None:
        try:
            report = roster.import_roster(self.db, self.path, enroller=self.enroller, progress=self._progress,
                                          actor=self.actor, shown=self.shown, photo_root=self.path.parent)
            self.state["report"] = report
        except roster.RosterError as exc:
            self.state["error"] = exc.text
        except Exception as exc:  # shown on the page; the import's own audit row says what got in
            log.exception("roster import of %s failed", self.path)
            self.state["error"] = str(exc)
        finally:
            self.state["running"] = False
            self.bus.publish(EventKind.ENROLLMENT, {"finished": True, "file": self.shown})


class RosterImports:
    """The page's roster imports: at most one running; the last one's state stays readable."""

    def __init__(self, db: Database, bus: LiveBus, enroller: Enroller) -> None:
        self.db, self.bus, self.enroller = db, bus, enroller
        self.current: ImportJob | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.current is not None and self.current.is_alive()

    def start(self, path: Path, actor: str, shown: str | None = None) -> ImportJob | None:
        """Start importing ``path`` (``shown``: its name for people); ``None`` when one is still running."""
        with self._lock:
            if self.running:
                return None
            self.current = ImportJob(self.db, self.bus, self.enroller, path, actor, shown)
            self.current.start()
            return self.current
