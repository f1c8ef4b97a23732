"""Typed SQLAlchemy models: the schema that Alembic migrations create."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend.

    SQLite has no timezone type; we store naive UTC and hand back aware UTC so that
    comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Story(Base):
    """A group of articles that tell the same story (copies, syndications, rewrites)."""

    __tablename__ = "stories"
    # SQLite must never hand a deleted story's id to a new one (migration 0009).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", use_alter=True, name="fk_story_first_article"), nullable=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    first_published: Mapped[datetime | None] = mapped_column(nullable=True)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=1)


class Article(Base):
    """One fetched and extracted document.

    Exact copies (same normalised text under another canonical URL) are rows too, so that
    their URL and outlet are kept, with ``duplicate_of_id`` pointing at the first copy.
    Listings show only rows where ``duplicate_of_id`` is NULL.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(40), unique=True)
    canonical_url: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    site_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    published: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(40), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), nullable=True
    )
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True
    )

    matches: Mapped[list[Match]] = relationship(
        back_populates="article", cascade="all, delete-orphan", lazy="selectin"
    )

    # Partial (migration 0012): most articles are no copy, and an index holding their
    # NULLs made SQLite's statistics price a lookup by duplicate_of_id at the whole
    # archive, so the digest's copies query walked first_seen instead (1 s at 1M).
    # A day's articles by first_seen, with the two links the digest filters and groups on
    # (migration 0013): its window is read from the index alone. On SQLite both columns
    # sit behind the text's overflow pages in the table.
    __table_args__ = (
        Index("ix_articles_first_seen", "first_seen", "duplicate_of_id", "story_id"),
        Index(
            "ix_articles_duplicate_of_id",
            "duplicate_of_id",
            sqlite_where=sql_text("duplicate_of_id IS NOT NULL"),
            postgresql_where=sql_text("duplicate_of_id IS NOT NULL"),
        ),
        Index(
            "ix_articles_story_id",
            "story_id",
            sqlite_where=sql_text("story_id IS NOT NULL"),
            postgresql_where=sql_text("story_id IS NOT NULL"),
        ),
    )


class ArticleUrl(Base):
    """Every URL (as requested, as fetched, canonical) known to lead to a stored article.

    The crawler looks URLs up here before requesting them, so a page already stored is
    never fetched again whatever tracking parameters the feed decorates it with.
    """

    __tablename__ = "article_urls"

    url_hash: Mapped[str] = mapped_column(String(40), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )


class Match(Base):
    """What one article hit for one topic: relevance, score, keyword tags."""

    __tablename__ = "matches"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    matched: Mapped[bool] = mapped_column(Boolean, index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    snippet: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="matches")

    __table_args__ = (Index("ix_matches_topic_matched", "topic", "matched"),)


class CrawlRun(Base):
    """One crawl (or ingest) run, with its per-source counters in ``RunSource``."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="crawl")
    started: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    finish_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)

    sources: Mapped[list[RunSource]] = relationship(
        back_populates="run", cascade="all, delete-orphan", lazy="selectin"
    )


class RunSource(Base):
    """Counters for one source within one run."""

    __tablename__ = "run_sources"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    links_seen: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    errors_by_reason: Mapped[dict[str, Any]] = mapped_column(default=dict)

    run: Mapped[CrawlRun] = relationship(back_populates="sources")


class RunError(Base):
    """One problem met during a run: which source, which URL, what reason, in words."""

    __tablename__ = "run_errors"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class HttpCacheEntry(Base):
    """Validators for conditional GET of feeds and sitemaps."""

    __tablename__ = "http_cache"

    url_hash: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleSignature(Base):
    """What story clustering keeps of an article (monitor.story_features): the source of
    truth from which every process rebuilds its in-memory index for the window."""

    __tablename__ = "story_signatures"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    seen: Mapped[datetime] = mapped_column(index=True)
    published: Mapped[datetime | None] = mapped_column(nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    shingles: Mapped[int] = mapped_column(Integer, default=0)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    # Version 1 rows: newline-joined names. Version 2 rows leave them empty and keep
    # packed little-endian uint64 hashes instead (8 bytes a feature, decoded in one
    # numpy call when the index is rebuilt).
    features: Mapped[str] = mapped_column(Text, default="")
    title_words: Mapped[str] = mapped_column(Text, default="")
    feature_hashes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    title_hashes: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    near_copy: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    """A near-copy of an article indexed before it (adds nothing to feature rarity);
    None when unknown (version 1 rows): the rebuild then checks."""
    event_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    """The first day the article's opening names (monitor.story_dates); None when it
    names none, or for rows written before it was kept."""


class StoryOverride(Base):
    """A user's correction of the grouping (`newsmon stories --split/--merge`): two
    articles kept apart, or together, whatever the figures say.

    Stories are re-made by `newsmon restory`, so a correction names articles, not story
    ids. The pair is stored once, ``article_id < other_id``; the latest command about a
    pair replaces the earlier one. Ids only grow (AUTOINCREMENT on SQLite): the highest
    is the generation a running crawler compares to know its index is out of date.
    """

    __tablename__ = "story_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    """"apart" or "together"."""
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    other_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("uq_story_overrides_pair", "article_id", "other_id", unique=True),
        {"sqlite_autoincrement": True},
    )


class AlertEvent(Base):
    """Something one watcher must be told about: a story (once) or a source-health change.

    Written in the same transaction as the article that caused it (the outbox); the unique
    (watcher, key) index is what makes a story alert a watcher once, whatever the number
    of copies and of crawler processes. ``message_id`` is set when a delivery pass puts
    the event into a message.
    """

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watcher: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True, index=True
    )
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), nullable=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    due: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="SET NULL"), nullable=True, index=True
    )

    __table_args__ = (
        Index("uq_alert_events_watcher_key", "watcher", "key", unique=True),
        Index("ix_alert_events_watcher_due", "watcher", "due"),
    )


class AlertMessage(Base):
    """One message to a watcher: one or more events, sent once per channel."""

    __tablename__ = "alert_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watcher: Mapped[str] = mapped_column(String(200), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    events: Mapped[int] = mapped_column(Integer, default=0)


class AlertDelivery(Base):
    """Sending one message through one channel: attempts, backoff, outcome.

    ``channel`` is a hash of the channel URL (no secret in the database); ``label`` is
    the masked URL shown to users.
    """

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("alert_messages.id", ondelete="CASCADE"), index=True
    )
    watcher: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        Index("uq_alert_deliveries_message_channel", "message_id", "channel", unique=True),
        Index("ix_alert_deliveries_status_next", "status", "next_attempt"),
    )


class SourceHealth(Base):
    """The last known health state of a source, so that only changes raise events."""

    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    last_success: Mapped[datetime | None] = mapped_column(nullable=True)
    last_new: Mapped[datetime | None] = mapped_column(nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    checked: Mapped[datetime] = mapped_column(default=utcnow)


class SchedulerLock(Base):
    """The single-instance lock of `newsmon run`: a row with a heartbeat, not an OS lock,
    so it holds across hosts on PostgreSQL; a holder whose heartbeat is older than
    ``stale_after`` seconds is taken to be dead. ``jobs`` is the holder's schedule
    (job id, rule, next run) for `newsmon status`."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(300), nullable=True)
    acquired: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(nullable=True)
    stale_after: Mapped[float] = mapped_column(Float, default=60.0)
    first_started: Mapped[datetime] = mapped_column(default=utcnow)
    jobs: Mapped[list[Any]] = mapped_column(default=list)


class DigestRun(Base):
    """A scheduled digest written for one day (YYYY-MM-DD in the digest zone) and topic;
    the unique (day, topic) index is what makes catch-up write each digest once."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)
    files: Mapped[list[Any]] = mapped_column(default=list)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("uq_digest_runs_day_topic", "day", "topic", unique=True),)


class ScheduledCrawl(Base):
    """One crawl subprocess started by `newsmon run`: its exit status and outcome
    (ok, failed, timeout, crashed, stopped), and the crawl_runs row it wrote, if any."""

    __tablename__ = "scheduled_crawls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(220), index=True)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    started: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished: Mapped[datetime | None] = mapped_column(nullable=True)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), nullable=True
    )
    detail: Mapped[str] = mapped_column(Text, default="")
