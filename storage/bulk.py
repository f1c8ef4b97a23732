"""Multi-row writes for one batch of articles: a handful of statements per batch.

The crawler stores a few hundred articles per transaction. Written through the ORM one
at a time, each article costs six to eight statements (article, URLs, matches, story,
signature, story update); here each table gets one ``executemany``. Rows reference
each other before any is written, so their primary keys are reserved first
(``reserve_ids``). Plain values in and out; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Article, ArticleUrl, Story, UTCDateTime


def _sqlite_sequence(session: Session, table: str) -> int:
    """The AUTOINCREMENT high-water mark of ``table`` (0 when it has none)."""
    has_sequences = session.scalar(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
    )
    if not has_sequences:
        return 0
    seq = session.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table})
    return int(seq or 0)


class IdReserver:
    """Hands out primary keys of one table for rows a batch will insert itself.

    PostgreSQL: values taken from the table's sequence; unused ones are gaps, as after a
    rollback (the store reserves for the items still to come, so a batch uses at most one
    id per item it holds). SQLite: the ids after the largest used (or the AUTOINCREMENT mark); valid
    because newsmon's SQLite transactions start with BEGIN IMMEDIATE, so no other writer
    can insert until this transaction ends. A collision all the same is a primary-key
    error, and the caller's batch falls back to its one-article-at-a-time path.
    """

    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self._next: int | None = None

    def take(self, n: int) -> list[int]:
        if n <= 0:
            return []
        name = self.table.name
        if self.postgres:
            rows = self.session.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": name, "n": n},
            )
            return sorted(int(v) for (v,) in rows)
        if self._next is None:
            largest = self.session.scalar(select(func.max(self.table.c.id))) or 0
            self._next = max(int(largest), _sqlite_sequence(self.session, name)) + 1
        start, self._next = self._next, self._next + n
        return list(range(start, start + n))


def article_reserver(session: Session) -> IdReserver:
    return IdReserver(session, Article.__table__)  # type: ignore[arg-type]


def story_reserver(session: Session) -> IdReserver:
    return IdReserver(session, Story.__table__)  # type: ignore[arg-type]


@dataclass(slots=True)
class StoryRow:
    """A story's aggregates, with the sort key of its first article (published, else
    first seen) so that a later, earlier-published copy can take its place."""

    id: int
    first_article_id: int | None
    first_key: datetime | None
    title: str
    first_seen: datetime
    first_published: datetime | None
    last_seen: datetime
    size: int


_FIRST = Article.__table__.alias("first")
_STORY_ROWS = (
    select(
        Story.id,
        Story.first_article_id,
        type_coerce(func.coalesce(_FIRST.c.published, _FIRST.c.first_seen), UTCDateTime()),
        Story.title,
        Story.first_seen,
        Story.first_published,
        Story.last_seen,
        Story.size,
    )
    .outerjoin(_FIRST, _FIRST.c.id == Story.first_article_id)
    .where(Story.id.in_(bindparam("story_ids", expanding=True)))
)
# Ids per IN list: far below SQLite's bound-parameter limit.
_IN_CHUNK = 500


def story_rows(session: Session, story_ids: Iterable[int]) -> dict[int, StoryRow]:
    """Stored stories with their first article's key, by id; a missing id is left out."""
    wanted = sorted(set(story_ids))
    out: dict[int, StoryRow] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        for sid, first_id, key, title, first_seen, published, last_seen, size in session.execute(
            _STORY_ROWS, {"story_ids": chunk}
        ):
            out[sid] = StoryRow(
                sid, first_id, key, title or "", first_seen, published, last_seen, size or 0
            )
    return out


def _story_values(row: StoryRow, first_article: bool = True) -> dict[str, Any]:
    return {
        "id": row.id,
        "first_article_id": row.first_article_id if first_article else None,
        "title": row.title,
        "first_seen": row.first_seen,
        "first_published": row.first_published,
        "last_seen": row.last_seen,
        "size": row.size,
    }


def insert_stories(session: Session, rows: Sequence[StoryRow]) -> None:
    """New stories, without their first article (it is inserted after them)."""
    if rows:
        session.execute(insert(Story), [_story_values(r, first_article=False) for r in rows])


def update_stories(session: Session, rows: Sequence[StoryRow]) -> None:
    """Write the aggregates (and first article) of stories the batch touched."""
    if rows:
        session.execute(update(Story), [_story_values(r) for r in rows])


def insert_rows(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany INSERT (articles, matches, signatures: complete rows with ids)."""
    if rows:
        session.execute(insert(model), list(rows))


def insert_url_aliases(session: Session, pairs: Iterable[tuple[str, int]]) -> None:
    """URL keys of stored articles; a key already known keeps its first article."""
    first: dict[str, int] = {}
    for url_hash, article_id in pairs:
        first.setdefault(url_hash, article_id)
    if not first:
        return
    rows = [{"url_hash": h, "article_id": a} for h, a in first.items()]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(ArticleUrl).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        session.execute(sqlite_insert(ArticleUrl).on_conflict_do_nothing(), rows)
    else:
        known = set(
            session.scalars(select(ArticleUrl.url_hash).where(ArticleUrl.url_hash.in_(first)))
        )
        fresh = [r for r in rows if r["url_hash"] not in known]
        if fresh:
            session.execute(insert(ArticleUrl), fresh)
