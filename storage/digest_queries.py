"""Read-only queries behind the daily digest: plain typed rows, no ORM objects.

Two queries per digest, whatever its size (no N+1): the matched articles first seen in
the window (driven by the ``articles.first_seen`` index, which also holds the copy and
story links: the window is read from it alone), then every copy of those
articles (same story, or an exact duplicate of one of them) known before the window's
end. Both are portable SQL (no dialect-specific functions), so SQLite and PostgreSQL
give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, select, union
from sqlalchemy.orm import Session

from storage.models import Article, Match, Story


@dataclass(frozen=True, slots=True)
class MatchedArticleRow:
    """One (article, topic) pair with ``matched`` true, and the story the article is in."""

    article_id: int
    topic: str
    score: float
    snippet: str
    keywords: list[Any]
    title: str
    url: str
    source: str
    site_name: str | None
    language: str | None
    published: datetime | None
    first_seen: datetime
    story_id: int | None
    story_title: str | None
    story_first_article_id: int | None
    story_first_seen: datetime | None
    story_size: int | None


@dataclass(frozen=True, slots=True)
class CopyRow:
    """An article of the same story as a digest article, or an exact copy of one."""

    article_id: int
    story_id: int | None
    duplicate_of_id: int | None
    title: str
    url: str
    source: str
    site_name: str | None
    language: str | None
    published: datetime | None
    first_seen: datetime


def _in_window(
    query: Select[Any], since: datetime, until: datetime, topic: str | None
) -> Select[Any]:
    """Restrict ``query`` (over articles) to primary matched articles first seen in the window.

    Every condition but the ``first_seen`` range is wrapped in coalesce() so that no index
    can serve it: without statistics SQLite prefers an equality on ``ix_matches_matched``
    (most of the archive) to the range (one day); ``ix_articles_duplicate_of_id`` held the
    NULLs too before migration 0012. Each article's matches are then reached through their
    primary key (article_id, topic).
    """
    query = query.join(Match, Match.article_id == Article.id).where(
        Article.first_seen >= since,
        Article.first_seen < until,
        func.coalesce(Article.duplicate_of_id, 0) == 0,
        func.coalesce(Match.matched, false()).is_(True),
    )
    if topic is not None:
        query = query.where(func.coalesce(Match.topic, "") == topic)
    return query


def _article_columns() -> tuple[Any, ...]:
    """Columns both queries read, labelled as the row dataclasses name them."""
    return (
        Article.id.label("article_id"),
        Article.title,
        Article.url,
        Article.source,
        Article.site_name,
        Article.language,
        Article.published,
        Article.first_seen,
        Article.story_id,
    )


def matched_articles(
    session: Session, since: datetime, until: datetime, topic: str | None = None
) -> list[MatchedArticleRow]:
    """Matched, non-duplicate articles first seen in [since, until), one row per topic hit.

    Ordered by topic, then score (highest first), first_seen and id, so that callers
    get a deterministic order on every backend.
    """
    query = (
        select(
            *_article_columns(),
            Match.topic,
            Match.score,
            Match.snippet,
            Match.keywords,
            Story.title.label("story_title"),
            Story.first_article_id.label("story_first_article_id"),
            Story.first_seen.label("story_first_seen"),
            Story.size.label("story_size"),
        )
        .outerjoin(Story, Story.id == Article.story_id)
        .order_by(Match.topic, Match.score.desc(), Article.first_seen, Article.id)
    )
    query = _in_window(query, since, until, topic)
    rows = []
    for r in session.execute(query):
        values = r._asdict()
        values["keywords"] = list(values["keywords"] or [])
        values["score"] = float(values["score"] or 0.0)
        rows.append(MatchedArticleRow(**values))
    return rows


def story_copies(
    session: Session, since: datetime, until: datetime, topic: str | None = None
) -> list[CopyRow]:
    """Every article first seen before ``until`` that shares a story with a digest article,
    or is an exact duplicate of one.

    The digest articles are selected again as a subquery rather than passed as a list of
    ids, so the query has a fixed number of parameters however large the day is. The
    result includes the digest articles themselves; the caller drops them.
    """
    window = _in_window(select(Article.id), since, until, topic)
    window_stories = (
        _in_window(select(Article.story_id), since, until, topic)
        .where(Article.story_id.is_not(None))
        .distinct()
    )
    columns = (*_article_columns(), Article.duplicate_of_id)
    # A UNION of two indexed lookups, not one OR: PostgreSQL cannot use either index
    # for "story_id IN (...) OR duplicate_of_id IN (...)" and scans the whole table.
    copies = union(
        select(*columns).where(
            Article.first_seen < until, Article.story_id.in_(window_stories.scalar_subquery())
        ),
        select(*columns).where(
            Article.first_seen < until, Article.duplicate_of_id.in_(window.scalar_subquery())
        ),
    ).subquery()
    query = select(copies).order_by(copies.c.first_seen, copies.c.article_id)
    return [CopyRow(**r._asdict()) for r in session.execute(query)]
