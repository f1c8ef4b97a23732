"""story signatures

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story_signatures",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shingles", sa.Integer(), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("title_words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_signatures_seen"), ["seen"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_signatures_seen"))
    op.drop_table("story_signatures")
