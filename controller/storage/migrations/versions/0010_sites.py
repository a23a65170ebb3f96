"""satellite sites: the site each delegate attends, each site's link state, sites in roll calls

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from controller.storage.database import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("link_up", sa.Boolean(), nullable=True),
        sa.Column("link_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("heard_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delegates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_delegates_site"), ["site"], unique=False)
    with op.batch_alter_table("session_rollcall_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_rollcall_entries", schema=None) as batch_op:
        batch_op.drop_column("site")
    with op.batch_alter_table("delegates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegates_site"))
        batch_op.drop_column("site")
    op.drop_table("sites")
