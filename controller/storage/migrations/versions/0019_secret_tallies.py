"""secret ballots keep their running counters sealed while open (secret_tallies)

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_tallies",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballots.id"], name=op.f("fk_secret_tallies_ballot_id_ballots"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ballot_id", name=op.f("pk_secret_tallies")),
    )


def downgrade() -> None:
    op.drop_table("secret_tallies")
