"""Two workers never create two stories for the same copy.

Each worker keeps its own in-memory story index (monitor.story_assign); the signatures
in the database are the truth. Without coordination two workers storing copies of one
text at the same moment would each miss the other's uncommitted article and each start
a story. Here every store transaction of a worker is serialised with every other one:

- PostgreSQL: the transaction begins with ``pg_advisory_xact_lock`` (one lock per
  database, released at commit or rollback), taken before any row is written, so store
  transactions of different workers cannot deadlock on each other's rows either;
- SQLite: every transaction already begins with BEGIN IMMEDIATE (storage.engine).

Holding the lock, the assigner first reads the signatures other workers committed since
it last looked (exactly those with a higher article id: ids are allocated under the
lock, so in commit order), then assigns. Story assignment across workers is thereby the
same as in one process storing the articles in the order the lock was granted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from monitor.crawl_settings import crawl_config
from monitor.pipelines import StorePipeline
from monitor.story_assign import StoryAssigner
from monitor.story_features import StorySignature
from monitor.story_settings import StoriesSettings
from storage.engine import open_database
from storage.models import Article, ArticleSignature

STORY_LOCK = 0x6E6577736D6F6E  # "newsmon": one advisory lock per database


def _lock(conn: Connection) -> None:
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")


def serialise_transactions(engine: Engine) -> None:
    """Make every transaction on ``engine`` take the store lock first (PostgreSQL)."""
    if engine.dialect.name == "postgresql" and not event.contains(engine, "begin", _lock):
        event.listen(engine, "begin", _lock)


def _max_signature_id(session: Session) -> int:
    return int(session.scalar(select(func.max(ArticleSignature.article_id))) or 0)


class LockedStoryAssigner(StoryAssigner):
    """A StoryAssigner that catches up exactly once per (serialised) transaction."""

    def __init__(self, session: Session, settings: StoriesSettings | None = None) -> None:
        # Read before the index is loaded: a signature committed in between is loaded
        # twice at worst (and skipped the second time), never missed.
        known = _max_signature_id(session)
        super().__init__(session, settings, catch_up_seconds=None)
        self.known_max = known
        self._caught_up_in: SessionTransaction | None = None
        self.caught_up = 0

    def catch_up_locked(self, session: Session) -> None:
        """Load every signature committed by others since the last look (under the lock)."""
        transaction = session.get_transaction()
        if transaction is None or transaction is self._caught_up_in:
            return
        self._caught_up_in = transaction
        top = _max_signature_id(session)
        if top > self.known_max:
            since: datetime | None = session.scalar(
                select(func.min(ArticleSignature.seen)).where(
                    ArticleSignature.article_id > self.known_max
                )
            )
            if since is not None:
                self.caught_up += self._load(session, since)
        self.known_max = max(self.known_max, top)

    def assign(
        self,
        session: Session,
        article: Article,
        duplicate_of: Article | None = None,
        signature: StorySignature | None = None,
    ) -> int:
        self.catch_up_locked(session)
        story_id = super().assign(session, article, duplicate_of, signature)
        if article.id is not None:
            self.known_max = max(self.known_max, article.id)
        return story_id


class DistributedStorePipeline(StorePipeline):
    """StorePipeline whose transactions are serialised and whose assigner catches up."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedStorePipeline:
        pipe = super().from_crawler(crawler)
        assert isinstance(pipe, DistributedStorePipeline)
        config = crawl_config(crawler.settings)
        stories = config.settings.stories

        def stories_factory(session: Session) -> StoryAssigner:
            return LockedStoryAssigner(session, stories)

        pipe.stories_factory = stories_factory
        return pipe

    def open(self, *args: Any) -> None:
        self.engine = open_database(self.database_url)
        serialise_transactions(self.engine)
        if self.stories_factory is not None:
            with Session(self.engine) as session:
                self.stories = self.stories_factory(session)
