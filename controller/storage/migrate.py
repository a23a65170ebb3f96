"""Schema migrations with Alembic, driven from code (no ``alembic.ini``).

``congress controller migrate --config FILE`` calls :func:`upgrade`, which brings an empty or older
database to the newest revision in ``controller/storage/migrations/versions`` (on PostgreSQL inside one
transaction, so a failed upgrade leaves the old schema intact). :func:`pending_changes` compares
the migrated schema with :mod:`controller.storage.tables`; the test suite uses it so that a table added to
the models without a migration is caught. Developers add a revision with
``python -m controller.storage.migrate "what changed"``, which autogenerates it against a scratch SQLite
database brought to the current head.
"""

from __future__ import annotations

import importlib
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from controller.storage.database import Base, Database

#: Every module that declares tables on :class:`Base`, one per area; a new area appends its own
#: ``<area>/tables.py`` here (migrations and :func:`pending_changes` see exactly these tables).
TABLE_MODULES: tuple[str, ...] = (
    "controller.storage.tables",
    "controller.voting.tables",
    "controller.programme.tables",
    "controller.documents.tables",
    "controller.sites.tables",
    "controller.portal.tables",
    "controller.discussion.tables",
)

# Alembic announces every autogenerate plugin at INFO; that is noise in the controller's log.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
SCRIPTS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(SCRIPTS / "versions"))
    cfg.attributes["connection"] = connection
    return cfg


def load_tables() -> None:
    """Import every table module of :data:`TABLE_MODULES`, so ``Base.metadata`` holds every table."""
    for name in TABLE_MODULES:
        importlib.import_module(name)


def head() -> str | None:
    """The newest revision shipped with this version of the controller."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(db: Database) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> dict:
    """Upgrade ``db`` to ``revision``; return ``{"from": old, "to": new}``."""
    before = current(db)
    with db.engine.begin() as conn:
        command.upgrade(_config(conn), revision)
    return {"from": before, "to": current(db)}


def pending_changes(db: Database) -> list:
    """Differences between the database schema and the models (empty when they agree)."""
    load_tables()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return [d for d in compare_metadata(ctx, Base.metadata) if not _ignorable(d)]


def _ignorable(diff: tuple | list) -> bool:
    # Alembic's own bookkeeping table is not part of the models.
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"


def new_revision(message: str) -> str:
    """Autogenerate the next revision file from the models; return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/scratch.db")
        try:
            upgrade(db)
            number = len(list((SCRIPTS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
            slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
            with db.engine.begin() as conn:
                script = command.revision(
                    _config(conn),
                    message=message,
                    autogenerate=True,
                    rev_id=f"{number:04d}",
                )
            path = Path(script.path)
            target = path.with_name(f"{number:04d}_{slug}.py")
            path.rename(target)
            ruff = Path(sys.executable).with_name("ruff")
            if ruff.exists():
                subprocess.run([str(ruff), "format", "-q", str(target)], check=False)
            return str(target)
        finally:
            db.dispose()


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) != 2:
        sys.exit('usage: python -m controller.storage.migrate "what changed"')
    print(new_revision(sys.argv[1]))
