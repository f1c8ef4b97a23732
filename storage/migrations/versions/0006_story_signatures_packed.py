"""story signatures: packed feature hashes and the near-copy flag

Version 1 rows keep their newline-joined names and stay readable (the loader converts
them); rows written from now on hold packed little-endian uint64 hashes instead.

Revision ID: 0006_story_sig
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_story_sig"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feature_hashes", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("title_hashes", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("near_copy", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # Version 2 rows have no names to fall back on: drop them (`newsmon restory` rebuilds).
    op.execute("DELETE FROM story_signatures WHERE feature_hashes IS NOT NULL")
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.drop_column("near_copy")
        batch_op.drop_column("title_hashes")
        batch_op.drop_column("feature_hashes")
