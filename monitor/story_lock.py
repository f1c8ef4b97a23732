"""One writer at a time assigns stories: the store lock shared by every storing process.

Each process (worker, ingest, restory) keeps its own in-memory story index
(monitor.story_assign); the signatures in the database are the truth. Without
coordination two processes storing copies of one text at the same moment would each
miss the other's uncommitted article and each start a story. So every store
transaction is serialised with every other one:

- PostgreSQL: the transaction begins with ``pg_advisory_xact_lock`` (one lock per
  database, released at commit or rollback), taken before any row is written, so store
  transactions of different processes cannot deadlock on each other's rows either;
- SQLite: every transaction already begins with BEGIN IMMEDIATE (storage.engine).

Holding the lock, a LockedStoryAssigner first reads the signatures others committed
since it last looked (exactly those with a higher article id: ids are allocated under
the lock, so in commit order), then assigns. Story assignment across processes is
thereby the same as in one process storing the articles in the order the lock was
granted. `newsmon restory` holds the same lock for its whole run (``held``), so that no
article is stored into the stories it is taking apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from monitor.story_assign import Clock, StoryAssigner
from monitor.story_features import StorySignature
from monitor.story_settings import StoriesSettings
from storage.models import ArticleSignature, utcnow

STORY_LOCK = 0x6E6577736D6F6E  # "newsmon": one advisory lock per database


def take_lock(conn: Connection) -> None:
    """Wait for the store lock until the end of ``conn``'s transaction (PostgreSQL)."""
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")


def serialise_transactions(engine: Engine) -> None:
    """Make every transaction on ``engine`` take the store lock first (PostgreSQL)."""
    if engine.dialect.name == "postgresql" and not event.contains(engine, "begin", take_lock):
        event.listen(engine, "begin", take_lock)


@contextmanager
def held(conn: Connection) -> Iterator[None]:
    """Hold the store lock on ``conn`` across its transactions (PostgreSQL; session level).

    ``conn`` is left outside a transaction, ready for a Session bound to it to begin and
    commit its own. Closing the connection (or the process dying) releases the lock too.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql(f"SELECT pg_advisory_lock({STORY_LOCK})")
    conn.commit()
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({STORY_LOCK})")
        conn.commit()


def _max_signature_id(session: Session) -> int:
    return int(session.scalar(select(func.max(ArticleSignature.article_id))) or 0)


class LockedStoryAssigner(StoryAssigner):
    """A StoryAssigner that catches up exactly once per (serialised) transaction."""

    def __init__(
        self, session: Session, settings: StoriesSettings | None = None, clock: Clock = utcnow
    ) -> None:
        # Read before the index is loaded: a signature committed in between is loaded
        # twice at worst (and skipped the second time), never missed.
        known = _max_signature_id(session)
        super().__init__(session, settings, clock, catch_up_seconds=None)
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
        if self.corrected(session):
            self._rebuild(session)
        elif top > self.known_max:
            since: datetime | None = session.scalar(
                select(func.min(ArticleSignature.seen)).where(
                    ArticleSignature.article_id > self.known_max
                )
            )
            if since is not None:
                self.caught_up += self._load(session, since)
        self.known_max = max(self.known_max, top)

    def prepare(self, session: Session, seen: datetime) -> None:
        self.catch_up_locked(session)
        super().prepare(session, seen)

    def index_article(
        self, article_id: int, story_id: int, sig: StorySignature, seen: datetime
    ) -> bool:
        self.known_max = max(self.known_max, article_id)
        return super().index_article(article_id, story_id, sig, seen)
