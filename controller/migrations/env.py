"""Alembic environment: runs on the connection :mod:`controller.migrate` hands over.

There is no ``alembic.ini``; the connection comes in ``config.attributes["connection"]`` so that the
same code path serves ``congress controller migrate``, the tests and revision autogeneration.
"""

from __future__ import annotations

from alembic import context

import controller.models  # noqa: F401  (registers every table on Base.metadata)
from controller.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
