"""story signatures: the day the article's opening names (event_day)

Follow-ups share every name with the event they follow but name another day; the
clustering keeps such rewrites apart (monitor.story_dates). Rows written before this
revision have no day: the rule does not apply to them until `newsmon restory`
recomputes their signatures.

Revision ID: 0010_story_event_day
Revises: 0009_story_autoinc
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_story_event_day"
down_revision: str | None = "0009_story_autoinc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story_signatures", schema=None) as batch_op:
        batch_op.drop_column("event_day")
