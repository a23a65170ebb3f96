"""Storage: the SQLAlchemy ``Base``, the engine factory and session handling.

One :class:`Database` is constructed by ``create_app`` (or by a command handler) from the configured
URL and passed to whoever needs it; there is no module-level engine. SQLite is the embedded default:
every connection gets ``journal_mode=WAL``, ``foreign_keys=ON``, ``synchronous=FULL`` and a busy
timeout, so readers never block the writer and neither a crash (kill -9) nor a power cut loses a
committed row: check-ins and votes are acknowledged to their devices right after the commit. PostgreSQL is
chosen by URL (``postgresql://`` or ``postgresql+psycopg://``, driver psycopg 3).

Every table derives from :class:`Base`. Timestamps use :class:`UTCDateTime`, which stores UTC on both
backends and always hands back timezone-aware values. The sessionmaker's ``info`` carries the audit
key, so :func:`controller.audit.record` can be called with nothing but a session.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from congress.errors import ConfigError

log = logging.getLogger(__name__)

#: Constraint names are fixed so that migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every controller table (see :mod:`controller.storage.tables`)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (what every timestamp column stores)."""
    return dt.datetime.now(dt.UTC)


def enum_column(cls: type[enum.Enum]) -> Enum:
    """Store an enum by its value as a plain string column (portable, readable in SQL)."""
    return Enum(
        cls,
        native_enum=False,
        values_callable=lambda e: [m.value for m in e],
        length=32,
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use controller.storage.database.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and select the psycopg 3 driver for them."""
    try:
        u = make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError and ValueError alike here
        raise ConfigError(
            f"database.url {url!r} is not a database URL",
            hint="use sqlite:///path/to/congress.db or postgresql://user@host/dbname",
        ) from None
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database.url uses {u.get_backend_name()!r}; only SQLite and PostgreSQL are supported",
            hint="use sqlite:///path/to/congress.db or postgresql://user@host/dbname",
        )
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        # Deleted content is overwritten with zeros (in the pages written to the WAL and the file).
        cur.execute("PRAGMA secure_delete=ON")
    finally:
        cur.close()


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, hide_parameters: bool = False
) -> Engine:
    """Create an engine for ``url`` with the pragmas / pool settings this project relies on.

    ``hide_parameters`` keeps SQL parameters out of log lines and error messages (the keypad reader's
    transactions carry a secret choice and a delegate id together)."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        # Web threads, the ingest and the watchers share the pool; SQLite serialises writers itself.
        memory = make_url(url).database in (None, "", ":memory:")
        pool = {} if memory else {"pool_size": pool_size, "max_overflow": 2 * pool_size}
        engine = create_engine(
            url, echo=echo, hide_parameters=hide_parameters,
            connect_args={"check_same_thread": False, "timeout": 10}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(
            url, echo=echo, hide_parameters=hide_parameters, pool_pre_ping=True, pool_size=pool_size,
            max_overflow=pool_size,
        )
    return engine


class Database:
    """An engine plus a sessionmaker; construct once per process and pass it around.

    ``info`` is copied into every session's ``Session.info`` (the audit module reads its key there).
    """

    def __init__(self, url: str, *, echo: bool = False, info: dict | None = None,
                 hide_parameters: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo, hide_parameters=hide_parameters)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=dict(info or {}))

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back on an exception."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def truncate_wal(self, *, timeout_s: float = 300.0, pause_s: float = 0.2) -> bool:
        """SQLite: ``wal_checkpoint(TRUNCATE)`` until it succeeds, so every page image of the write-ahead
        log is in the database file and the log is empty; a reader that holds an old snapshot makes an
        attempt fail after the busy timeout, and it is retried until ``timeout_s``. False if it never
        succeeded; True at once on PostgreSQL (nothing to do)."""
        if self.backend != "sqlite":
            return True
        deadline = time.monotonic() + timeout_s
        while True:
            with self.engine.connect() as conn:
                busy, _frames, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            log.info("write-ahead log still held by a reader; checkpoint retried")
            time.sleep(pause_s)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"
