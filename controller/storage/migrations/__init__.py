"""Alembic migration scripts of the controller schema (driven by :mod:`controller.storage.migrate`)."""
