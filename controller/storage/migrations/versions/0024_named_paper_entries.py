"""paper ballots of named ballots read delegate by delegate (double entry), for their roll call

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_named_entries",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.String(length=64), nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("spoilt", sa.Boolean(), nullable=False),
        sa.Column("handed_in", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_paper_named_entries_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ballot_id", "counter", "delegate_id", name=op.f("pk_paper_named_entries")),
    )


def downgrade() -> None:
    op.drop_table("paper_named_entries")
