"""merge the scheduler, alerts, search and story-signature branches

The four migrations were written side by side from 0002; this revision joins them so
that later migrations have one parent. It changes no table.

Revision ID: 0007_merge
Revises: 0003_scheduler, 0004_alerts, 0005_search, 0006_story_sig
Create Date: 2026-11-26
"""

from collections.abc import Sequence

revision: str = "0007_merge"
down_revision: str | Sequence[str] | None = (
    "0003_scheduler",
    "0004_alerts",
    "0005_search",
    "0006_story_sig",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
