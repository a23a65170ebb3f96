"""Storage: the database (engine, sessions, ``Base``), the shared tables, Alembic migrations."""
