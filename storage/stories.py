"""Repository functions for story clustering: signatures, story rows, story listings.

Plain values in and out (no monitor imports): monitor.story_assign converts between
these rows and its pure signatures. Every function takes the caller's Session and never
commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import bindparam, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import Session

from storage.bulk import StoryRow
from storage.models import Article, ArticleSignature, Match, Story, UTCDateTime


@dataclass(slots=True)
class SignatureBatch:
    """Signatures as columns (one list per field): a rebuild makes no object per row.

    ``feature_hashes``/``title_hashes`` are packed little-endian uint64 (version 2 rows);
    version 1 rows have None there and newline-joined names in ``features``/``title_words``.
    """

    article_ids: list[int]
    story_ids: list[int | None]
    seen: list[datetime]
    published: list[datetime | None]
    versions: list[int]
    shingles: list[int]
    minhashes: list[bytes]
    feature_hashes: list[bytes | None]
    title_hashes: list[bytes | None]
    near_copy: list[bool | None]
    event_days: list[date | None]
    languages: list[str | None]
    features: list[str]
    title_words: list[str]

    def __len__(self) -> int:
        return len(self.article_ids)


def signature_row(
    *,
    article_id: int,
    seen: datetime,
    published: datetime | None,
    version: int,
    shingles: int,
    minhash: bytes,
    feature_hashes: bytes,
    title_hashes: bytes,
    near_copy: bool,
    event_day: date | None,
) -> dict[str, object]:
    """The story_signatures row of one article (version 2 and later: packed hashes)."""
    return {
        "article_id": article_id,
        "seen": seen,
        "published": published,
        "version": version,
        "shingles": shingles,
        "minhash": minhash,
        "features": "",
        "title_words": "",
        "feature_hashes": feature_hashes,
        "title_hashes": title_hashes,
        "near_copy": near_copy,
        "event_day": event_day,
    }


def save_signature(session: Session, row: dict[str, object]) -> None:
    """Insert one signature_row (a Core insert: no ORM unit-of-work cost per article)."""
    session.execute(insert(ArticleSignature).values(row))


_LOAD_SQL = (
    "SELECT s.article_id, a.story_id, s.seen, s.published, s.version, s.shingles,"
    " s.minhash, s.feature_hashes, s.title_hashes, s.near_copy, s.features, s.title_words,"
    " s.event_day, a.language"
    " FROM story_signatures s JOIN articles a ON a.id = s.article_id"
    " WHERE s.seen >= :since{until} ORDER BY s.seen, s.article_id"
)
_LOAD = text(_LOAD_SQL.format(until="")).bindparams(bindparam("since", type_=UTCDateTime()))
_LOAD_UNTIL = text(_LOAD_SQL.format(until=" AND s.seen < :until")).bindparams(
    bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
)


def _as_utc(value: datetime | str | None) -> datetime | None:
    """Raw driver value to aware UTC: SQLite hands back naive UTC text, PostgreSQL datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_date(value: date | str | None) -> date | None:
    """Raw driver value to a date: SQLite hands back ISO text, PostgreSQL dates."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _blob(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


def _flag(value: bool | int | None) -> bool | None:
    return None if value is None else bool(value)


def load_signatures(
    session: Session, since: datetime, until: datetime | None = None, *, batch: int = 5000
) -> Iterator[SignatureBatch]:
    """Signatures seen in [since, until) with their article's current story, in time order,
    ``batch`` rows at a time.

    Raw SQL without per-column type processing: rebuilding 100k rows is on the start-up
    path of every crawler process, and the ORM's row processing was half of it.
    """
    stmt, params = (
        (_LOAD, {"since": since})
        if until is None
        else (
            _LOAD_UNTIL,
            {"since": since, "until": until},
        )
    )
    result = session.execute(stmt.execution_options(yield_per=batch), params)
    for rows in result.partitions(batch):
        cols = list(zip(*rows, strict=True))
        seen = [_as_utc(v) for v in cols[2]]
        yield SignatureBatch(
            article_ids=list(cols[0]),
            story_ids=list(cols[1]),
            seen=[v for v in seen if v is not None],
            published=[_as_utc(v) for v in cols[3]],
            versions=list(cols[4]),
            shingles=list(cols[5]),
            minhashes=[bytes(v) for v in cols[6]],
            feature_hashes=[_blob(v) for v in cols[7]],
            title_hashes=[_blob(v) for v in cols[8]],
            near_copy=[_flag(v) for v in cols[9]],
            features=list(cols[10]),
            title_words=list(cols[11]),
            event_days=[_as_date(v) for v in cols[12]],
            languages=list(cols[13]),
        )


def signature_versions(session: Session, since: datetime) -> dict[int, int]:
    """How many signatures seen since ``since`` each signature version holds."""
    rows = session.execute(
        select(ArticleSignature.version, func.count())
        .where(ArticleSignature.seen >= since)
        .group_by(ArticleSignature.version)
    )
    return {int(version): int(n) for version, n in rows}


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


def add_member(
    story: Story | StoryRow,
    article_id: int,
    title: str | None,
    seen: datetime,
    published: datetime | None,
    first_key: Callable[[], datetime | None],
) -> bool:
    """Count one more article in ``story`` (an ORM row or a batch's StoryRow): size, times,
    and the first article (the earliest published, else first seen). ``first_key`` gives
    the current first article's key, None when it is gone; it is asked only when needed.
    True when the article becomes the story's first."""
    story.size = (story.size or 0) + 1
    if story.last_seen is None or seen > story.last_seen:
        story.last_seen = seen
    if story.first_seen is None or seen < story.first_seen:
        story.first_seen = seen
    if published is not None and (
        story.first_published is None or published < story.first_published
    ):
        story.first_published = published
    if story.first_article_id not in (None, article_id):
        current = first_key()
        if current is not None and _key(published, seen) >= current:
            return False
    story.first_article_id = article_id
    story.title = title or story.title
    return True


def add_to_story(session: Session, story: Story, article: Article) -> None:
    """Attach ``article`` and keep the story's first article/outlet/times and size right."""
    article.story_id = story.id

    def first_key() -> datetime | None:
        first = session.get(Article, story.first_article_id)
        return None if first is None else _key(first.published, first.first_seen)

    add_member(story, article.id, article.title, article.first_seen, article.published, first_key)


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
