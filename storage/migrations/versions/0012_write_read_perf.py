"""partial indexes on articles' copy and story links; SQLite: a larger FTS5 term buffer

duplicate_of_id is NULL for most articles (and story_id for articles stored without
stories). Indexed with their NULLs, SQLite's statistics (after ANALYZE) priced a lookup
by either column at the whole archive, so the digest's copies query walked the
first_seen index over every article before the window's end instead: 0.4-1.0 s at 1M
articles. Indexes of the non-NULL values only serve the same lookups (a condition on the
column implies it is not NULL) and cost nothing for articles that are no copy.

SQLite: FTS5 buffers the terms of a statement's rows in memory up to 'hashsize' bytes
(1 MiB by default) before writing a segment; 16 MiB holds a 1,000-row insert, so a batch
writes one segment per statement instead of several to merge later. The setting is
stored in the index and bounds only the writer's memory.

Revision ID: 0012_write_read_perf
Revises: 0011_story_overrides
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_write_read_perf"
down_revision: str | Sequence[str] | None = "0011_story_overrides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = ("duplicate_of_id", "story_id")
FTS_HASHSIZE = 16 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = 1024 * 1024


def _index_articles(column: str, partial: bool) -> None:
    name = f"ix_articles_{column}"
    op.drop_index(name, table_name="articles")
    where = f" WHERE {column} IS NOT NULL" if partial else ""
    op.execute(f"CREATE INDEX {name} ON articles ({column}){where}")


def _fts_hashsize(size: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', {size})")


def upgrade() -> None:
    for column in PARTIAL:
        _index_articles(column, partial=True)
    _fts_hashsize(FTS_HASHSIZE)


def downgrade() -> None:
    _fts_hashsize(FTS_DEFAULT_HASHSIZE)
    for column in PARTIAL:
        _index_articles(column, partial=False)
