"""candidate lists

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import controller.storage.database

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=True),
        sa.Column("biography", sa.String(length=2000), nullable=False),
        sa.Column("photo", sa.String(length=300), nullable=True),
        sa.Column("nominated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "nominated",
                "accepted",
                "declined",
                "withdrawn",
                name="candidatestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("at", controller.storage.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
    )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidates_list_name"), ["list_name"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidates_list_name"))

    op.drop_table("candidates")
