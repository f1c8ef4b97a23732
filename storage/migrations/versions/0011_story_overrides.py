"""story overrides: the user's corrections of the story grouping

`newsmon stories --split` and `--merge` record pairs of articles to keep apart or
together; `newsmon restory` and every crawler's story index respect them. AUTOINCREMENT
on SQLite so that ids only grow: the highest id tells a running crawler that a
correction was made since it built its index.

Revision ID: 0011_story_overrides
Revises: 0010_story_event_day
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_story_overrides"
down_revision: str | None = "0010_story_event_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "other_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_story_overrides_article_id", "story_overrides", ["article_id"])
    op.create_index("ix_story_overrides_other_id", "story_overrides", ["other_id"])
    op.create_index(
        "uq_story_overrides_pair", "story_overrides", ["article_id", "other_id"], unique=True
    )


def downgrade() -> None:
    op.drop_table("story_overrides")
