"""Alembic environment: runs on the connection :mod:`controller.storage.migrate` hands over.

There is no ``alembic.ini``; the connection comes in ``config.attributes["connection"]`` so that the
same code path serves ``congress controller migrate``, the tests and revision autogeneration.
"""

from __future__ import annotations

from alembic import context

from controller.storage.database import Base
from controller.storage.migrate import load_tables

load_tables()  # every area's tables on Base.metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
