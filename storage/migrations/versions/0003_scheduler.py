"""scheduler: single-instance lock, digest runs, scheduled crawls

Revision ID: 0003_scheduler
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_scheduler"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_lock",
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("holder", sa.String(300), nullable=True),
        sa.Column("acquired", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale_after", sa.Float(), nullable=False),
        sa.Column("first_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("jobs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_digest_runs_day_topic", "digest_runs", ["day", "topic"], unique=True)
    op.create_table(
        "scheduled_crawls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(220), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawl_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scheduled_crawls_job", "scheduled_crawls", ["job"])
    op.create_index("ix_scheduled_crawls_started", "scheduled_crawls", ["started"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_crawls_started", table_name="scheduled_crawls")
    op.drop_index("ix_scheduled_crawls_job", table_name="scheduled_crawls")
    op.drop_table("scheduled_crawls")
    op.drop_index("uq_digest_runs_day_topic", table_name="digest_runs")
    op.drop_table("digest_runs")
    op.drop_table("scheduler_lock")
