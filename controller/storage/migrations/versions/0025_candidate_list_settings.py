"""candidate list settings: numbering, nominations open, the approval motion and the election

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import controller.storage.database

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "numbering",
            sa.Enum("vietnamese", "nomination", name="listorder", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("nominations_open", sa.Boolean(), nullable=False),
        sa.Column("motion_id", sa.Integer(), nullable=True),
        sa.Column("election_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("at", controller.storage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["ballots.id"], name=op.f("fk_candidate_lists_election_id_ballots")
        ),
        sa.ForeignKeyConstraint(
            ["motion_id"], ["ballots.id"], name=op.f("fk_candidate_lists_motion_id_ballots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_candidate_lists_name")),
    )


def downgrade() -> None:
    op.drop_table("candidate_lists")
