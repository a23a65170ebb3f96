"""each enrolled embedding remembers the face embedder that made it

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every embedding stored before this revision was made by dlib's ResNet.
    with op.batch_alter_table("face_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("embedder", sa.String(length=32), nullable=False,
                                      server_default="dlib-resnet"))


def downgrade() -> None:
    with op.batch_alter_table("face_photos", schema=None) as batch_op:
        batch_op.drop_column("embedder")
