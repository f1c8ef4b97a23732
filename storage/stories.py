"""Repository functions for story clustering: signatures, story rows, story listings.

Plain values in and out (no monitor imports): monitor.story_assign converts between
these rows and its pure signatures. Every function takes the caller's Session and never
commits.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import Session

from storage.models import Article, ArticleSignature, Match, Story, UTCDateTime


@dataclass(frozen=True, slots=True)
class SignatureRow:
    article_id: int
    story_id: int | None
    seen: datetime
    published: datetime | None
    version: int
    shingles: int
    minhash: bytes
    features: tuple[str, ...]
    title_words: tuple[str, ...]


def _split(value: str) -> tuple[str, ...]:
    """Features are few distinct strings shared by many rows: intern them (memory, speed)."""
    return tuple(map(sys.intern, value.split("\n"))) if value else ()


def save_signature(
    session: Session,
    *,
    article_id: int,
    seen: datetime,
    published: datetime | None,
    version: int,
    shingles: int,
    minhash: bytes,
    features: Sequence[str],
    title_words: Sequence[str],
) -> None:
    """Insert one signature (a Core insert: no ORM unit-of-work cost per article)."""
    session.execute(
        insert(ArticleSignature).values(
            article_id=article_id,
            seen=seen,
            published=published,
            version=version,
            shingles=shingles,
            minhash=minhash,
            features="\n".join(features),
            title_words="\n".join(title_words),
        )
    )


_LOAD_SQL = text(
    "SELECT s.article_id, a.story_id, s.seen, s.published, s.version, s.shingles,"
    " s.minhash, s.features, s.title_words"
    " FROM story_signatures s JOIN articles a ON a.id = s.article_id"
    " WHERE s.seen >= :since ORDER BY s.seen, s.article_id"
).bindparams(bindparam("since", type_=UTCDateTime()))


def _as_utc(value: datetime | str | None) -> datetime | None:
    """Raw driver value to aware UTC: SQLite hands back naive UTC text, PostgreSQL datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_signatures(
    session: Session, since: datetime, *, batch: int = 5000
) -> Iterator[SignatureRow]:
    """Signatures seen at or after ``since`` with their article's current story, in time order.

    Raw SQL without per-column type processing: rebuilding 100k rows is on the start-up
    path of every crawler process, and the ORM's row processing was half of it.
    """
    result = session.execute(_LOAD_SQL.execution_options(yield_per=batch), {"since": since})
    for row in result:
        seen = _as_utc(row[2])
        assert seen is not None
        yield SignatureRow(
            article_id=row[0],
            story_id=row[1],
            seen=seen,
            published=_as_utc(row[3]),
            version=row[4],
            shingles=row[5],
            minhash=bytes(row[6]),
            features=_split(row[7]),
            title_words=_split(row[8]),
        )


def delete_signatures(session: Session, since: datetime) -> int:
    result = session.execute(delete(ArticleSignature).where(ArticleSignature.seen >= since))
    return int(getattr(result, "rowcount", 0) or 0)


def create_story(session: Session, article: Article) -> Story:
    """A new story whose first (and only) article is ``article``; flushed to get its id."""
    story = Story(
        first_article_id=article.id,
        title=article.title or "",
        first_seen=article.first_seen,
        first_published=article.published,
        last_seen=article.first_seen,
        size=0,
    )
    session.add(story)
    session.flush()
    return story


def _key(published: datetime | None, seen: datetime) -> datetime:
    return published or seen


def add_to_story(session: Session, story: Story, article: Article) -> None:
    """Attach ``article`` and keep the story's first article/outlet/times and size right."""
    article.story_id = story.id
    story.size = (story.size or 0) + 1
    seen = article.first_seen
    if story.last_seen is None or seen > story.last_seen:
        story.last_seen = seen
    if story.first_seen is None or seen < story.first_seen:
        story.first_seen = seen
    if article.published is not None and (
        story.first_published is None or article.published < story.first_published
    ):
        story.first_published = article.published
    if story.first_article_id is None or story.first_article_id == article.id:
        story.first_article_id = article.id
        story.title = article.title or story.title
        return
    first = session.get(Article, story.first_article_id)
    if first is None or _key(article.published, seen) < _key(first.published, first.first_seen):
        story.first_article_id = article.id
        story.title = article.title or story.title


def recompute_story(session: Session, story_id: int) -> bool:
    """Recompute a story's aggregates from its articles; delete it when it has none."""
    story = session.get(Story, story_id)
    if story is None:
        return False
    members = list(
        session.scalars(
            select(Article)
            .where(Article.story_id == story_id)
            .order_by(func.coalesce(Article.published, Article.first_seen), Article.id)
        )
    )
    if not members:
        session.delete(story)
        return False
    first = members[0]
    story.first_article_id = first.id
    story.title = first.title or ""
    story.size = len(members)
    story.first_seen = min(a.first_seen for a in members)
    story.last_seen = max(a.first_seen for a in members)
    published = [a.published for a in members if a.published is not None]
    story.first_published = min(published) if published else None
    return True


def detach_articles(session: Session, since: datetime) -> list[int]:
    """Take articles first seen at or after ``since`` out of their stories (for restory).

    Returns the ids of the stories they were in, to be recomputed afterwards.
    """
    story_ids: list[int | None] = list(
        session.scalars(
            select(Article.story_id)
            .where(Article.first_seen >= since, Article.story_id.is_not(None))
            .distinct()
        )
    )
    session.execute(update(Article).where(Article.first_seen >= since).values(story_id=None))
    return sorted(s for s in story_ids if s is not None)


def article_ids_since(session: Session, since: datetime) -> list[int]:
    """Articles first seen at or after ``since``, in the order they were seen."""
    return list(
        session.scalars(
            select(Article.id)
            .where(Article.first_seen >= since)
            .order_by(Article.first_seen, Article.id)
        )
    )


@dataclass(frozen=True, slots=True)
class StoryArticleView:
    id: int
    url: str
    source: str
    title: str
    language: str | None
    published: datetime | None
    first_seen: datetime
    duplicate_of_id: int | None


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    title: str
    first_seen: datetime
    first_published: datetime | None
    last_seen: datetime
    size: int
    first_article_id: int | None
    articles: list[StoryArticleView] = field(default_factory=list)

    @property
    def first_source(self) -> str | None:
        for a in self.articles:
            if a.id == self.first_article_id:
                return a.source
        return self.articles[0].source if self.articles else None


def list_stories(
    session: Session,
    *,
    since: datetime | None = None,
    topic: str | None = None,
    limit: int | None = 50,
) -> list[StoryView]:
    """Stories with an article seen since ``since`` (and matching ``topic``), newest first."""
    stmt = select(Story)
    if since is not None:
        stmt = stmt.where(Story.last_seen >= since)
    if topic is not None:
        stmt = stmt.where(
            exists().where(
                Article.story_id == Story.id,
                Match.article_id == Article.id,
                Match.topic == topic,
                Match.matched.is_(True),
            )
        )
    stmt = stmt.order_by(Story.last_seen.desc(), Story.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    stories = list(session.scalars(stmt))
    if not stories:
        return []
    members: dict[int, list[StoryArticleView]] = {s.id: [] for s in stories}
    rows = session.execute(
        select(
            Article.id,
            Article.url,
            Article.source,
            Article.title,
            Article.language,
            Article.published,
            Article.first_seen,
            Article.duplicate_of_id,
            Article.story_id,
        )
        .where(Article.story_id.in_(list(members)))
        .order_by(func.coalesce(Article.published, Article.first_seen), Article.id)
    )
    for r in rows:
        if r[8] is not None:
            members[r[8]].append(StoryArticleView(*r[:8]))
    return [
        StoryView(
            id=s.id,
            title=s.title,
            first_seen=s.first_seen,
            first_published=s.first_published,
            last_seen=s.last_seen,
            size=s.size,
            first_article_id=s.first_article_id,
            articles=members[s.id],
        )
        for s in stories
    ]
