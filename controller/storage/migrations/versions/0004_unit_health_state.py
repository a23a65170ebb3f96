"""unit health state

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("uptime_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rss_kb", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "last_seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=False,
                server_default="0",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("unit_health", schema=None) as batch_op:
        batch_op.drop_column("last_seq")
        batch_op.drop_column("rss_kb")
        batch_op.drop_column("uptime_s")
        batch_op.drop_column("state")
