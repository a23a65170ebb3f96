"""paper ballots (issued, double-entered tallies), the counting committee and its confirmations

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import controller.storage.database

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ballot_confirmations",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("at", controller.storage.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("audit_head", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_ballot_confirmations_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ballot_id", name=op.f("pk_ballot_confirmations")),
    )
    op.create_table(
        "committee_members",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("head", sa.Boolean(), nullable=False),
        sa.Column("motion_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["motion_id"],
            ["ballots.id"],
            name=op.f("fk_committee_members_motion_id_ballots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_committee_members")),
    )
    op.create_table(
        "paper_issues",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_paper_issues_ballot_id_ballots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ballot_id", "delegate_id", name=op.f("pk_paper_issues")),
    )
    op.create_table(
        "paper_tallies",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("at", controller.storage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballots.id"], name=op.f("fk_paper_tallies_ballot_id_ballots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ballot_id", "counter", name=op.f("pk_paper_tallies")),
    )


def downgrade() -> None:
    op.drop_table("paper_tallies")
    op.drop_table("paper_issues")
    op.drop_table("committee_members")
    op.drop_table("ballot_confirmations")
