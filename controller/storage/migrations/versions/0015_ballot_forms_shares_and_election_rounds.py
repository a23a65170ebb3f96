"""ballot forms (choose up to N, strike out), configurable shares, election rounds

Revision ID: 0015
Revises: 0014

Plain ``ADD COLUMN`` on both databases, never SQLite's batch copy: copying ``ballots`` would drop the
old table, and with foreign keys on that deletes every row that refers to it (counts, participation,
named votes, agenda links) through their ``ON DELETE CASCADE``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ballots", sa.Column("share_num", sa.Integer(), nullable=True))
    op.add_column("ballots", sa.Column("share_den", sa.Integer(), nullable=True))
    op.add_column("ballots", sa.Column(
        "form", sa.Enum("choose", "strike", name="ballotform", native_enum=False, length=32),
        server_default="choose", nullable=False))
    op.add_column("ballots", sa.Column("empty_invalid", sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with a reference, not a constraint
        op.execute("ALTER TABLE ballots ADD COLUMN election_id INTEGER "
                   "CONSTRAINT fk_ballots_election_id_ballots REFERENCES ballots (id)")
    else:
        op.add_column("ballots", sa.Column(
            "election_id", sa.Integer(), sa.ForeignKey("ballots.id", name="fk_ballots_election_id_ballots"),
            nullable=True))
    op.add_column("ballots", sa.Column("round_no", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_column("round_no")
        batch_op.drop_column("election_id")
        batch_op.drop_column("empty_invalid")
        batch_op.drop_column("form")
        batch_op.drop_column("share_den")
        batch_op.drop_column("share_num")
