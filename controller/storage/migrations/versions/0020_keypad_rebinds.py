"""keypad bindings asked for during an open ballot wait for the chair (keypad_rebinds); keypad
changes during a ballot are listed with it (ballot_exceptions)

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_U32 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "keypad_rebinds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("keypad_id", _U32, nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.Enum("seat", "door", name="assignmode", native_enum=False, length=32),
                  nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Enum("pending", "confirmed", "rejected", name="rebindstatus", native_enum=False,
                                    length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballots.id"], name=op.f("fk_keypad_rebinds_ballot_id_ballots"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keypad_rebinds")),
    )
    op.create_table(
        "ballot_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.Enum("rebind_requested", "rebind_confirmed", "rebind_rejected", "lost", "found",
                                   "unbound", name="keypadevent", native_enum=False, length=32), nullable=False),
        sa.Column("keypad_id", _U32, nullable=False),
        sa.Column("delegate_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rebind_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballots.id"], name=op.f("fk_ballot_exceptions_ballot_id_ballots"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_exceptions")),
    )
    with op.batch_alter_table("ballot_exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_exceptions_ballot_id"), ["ballot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ballot_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_exceptions_ballot_id"))
    op.drop_table("ballot_exceptions")
    op.drop_table("keypad_rebinds")
