"""Scrapy pipelines: extract -> match -> store (dedup and stories happen inside store).

Each pipeline is thin glue around a pure core (extract, matching) or the storage
repository; they read settings in from_crawler and take plain values in __init__.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.signalmanager import SignalManager
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from monitor import signals
from monitor.alerts.watchers import Watcher
from monitor.analysis import AnalysedPage, analyse_page
from monitor.crawl_settings import crawl_config, database_url_of
from monitor.dedup import url_key
from monitor.items import PageItem
from monitor.matching import Matcher
from monitor.store import StoreResult, canonical_key, store_article
from monitor.store_bulk import SlowPathNeeded, ToStore, store_batch
from monitor.story_assign import StoryAssigner
from storage.engine import open_database

logger = logging.getLogger(__name__)
_NEVER = datetime.max.replace(tzinfo=UTC)


def _report(sigs: SignalManager, item: PageItem, reason: str, detail: str) -> None:
    sigs.send_catch_log(
        signals.page_error, source=item.source, url=item.final_url, reason=reason, detail=detail
    )


class ExtractPipeline:
    """HTML -> article, fingerprint and story signature, in a process pool (every core).

    A semaphore bounds the pages waiting for a worker: when extraction is slower than
    fetching, the scraper's queue fills and Scrapy stops downloading (backpressure).
    A worker that dies (a crash in a parser's C code) costs its page, not the crawl:
    the pool is replaced.
    """

    def __init__(self, sigs: SignalManager, workers: int) -> None:
        self.sigs = sigs
        self.workers = workers
        self.executor: Executor | None = None
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        workers = crawler.settings.getint("NEWSMON_EXTRACT_WORKERS", 0) or (os.cpu_count() or 1)
        pipe = cls(crawler.signals, workers)
        crawler.signals.connect(pipe.close, signal=scrapy_signals.engine_stopped)
        return pipe

    def _pool(self) -> Executor:
        if self.executor is None:
            ctx = multiprocessing.get_context("forkserver")
            self.executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self.executor

    async def _analyse(self, item: PageItem) -> AnalysedPage | None:
        args = (item.html, item.final_url, item.feed_title, item.feed_published)
        if self.workers <= 1:
            return analyse_page(*args)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers * 4)
        async with self._slots:
            loop = asyncio.get_running_loop()
            pool = self._pool()
            try:
                return await loop.run_in_executor(pool, analyse_page, *args)
            except BrokenProcessPool:
                if self.executor is pool:
                    self.executor = None
                    pool.shutdown(wait=False, cancel_futures=True)
                raise

    async def process_item(self, item: PageItem) -> PageItem:
        try:
            analysed = await self._analyse(item)
        except Exception as exc:  # a worker crash or a parser bug must not stop the crawl
            _report(self.sigs, item, "extract-failed", f"article: extraction failed: {exc!r}")
            raise DropItem(f"extraction failed: {item.final_url}") from exc
        if analysed is None:
            _report(
                self.sigs,
                item,
                "empty-extraction",
                "article: the page has no extractable article text",
            )
            raise DropItem(f"no article text: {item.final_url}")
        item.article = analysed.article
        item.fingerprint = analysed.fingerprint
        item.signature = analysed.signature
        item.html = ""
        return item

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class MatchPipeline:
    """Record which topics and keyword tags the article hits (all topics in one pass)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MatchPipeline:
        return cls(Matcher.compile(crawl_config(crawler.settings).topics))

    def process_item(self, item: PageItem) -> PageItem:
        assert item.article is not None
        item.matches = self.matcher.match(item.article.title, item.article.text)
        return item


def _store_key(item: PageItem) -> tuple[datetime, str]:
    """Earliest published first (it becomes the original of its copies), then URL key."""
    article = item.article
    published = (article.published if article else None) or item.feed_published
    key = canonical_key(item.final_url, article) if article else url_key(item.final_url)
    return (published or _NEVER, key)


class StorePipeline:
    """Write articles in batched transactions: the batch decided in memory and written
    with one statement per table (monitor.store_bulk); when that fails, redone with a
    savepoint per article, so one bad article never takes its neighbours down.

    A batch is written when ``batch_size`` items wait or ``batch_seconds`` after the first
    one arrived, whichever comes first: a few hundred rows per commit at full speed, and
    no item waits long when the crawl is slow.
    """

    def __init__(
        self,
        sigs: SignalManager,
        database_url: str,
        stories_factory: Callable[[Session], StoryAssigner] | None = None,
        batch_size: int = 200,
        batch_seconds: float = 0.25,
        alerts: Sequence[Watcher] = (),
    ) -> None:
        self.alerts = alerts
        self.sigs = sigs
        self.database_url = database_url
        self.engine: Engine | None = None
        self.stories_factory = stories_factory
        self.stories: StoryAssigner | None = None
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self._pending: list[tuple[PageItem, asyncio.Future[StoreResult]]] = []
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        config = crawl_config(settings)
        url = database_url_of(settings)
        stories = config.settings.stories

        def stories_factory(session: Session) -> StoryAssigner:
            return StoryAssigner(session, stories)

        pipe = cls(
            crawler.signals,
            url,
            stories_factory,
            batch_size=settings.getint("NEWSMON_STORE_BATCH_SIZE", 200),
            batch_seconds=settings.getfloat("NEWSMON_STORE_BATCH_SECONDS", 0.25),
            alerts=config.alerts.enabled,
        )
        crawler.signals.connect(pipe.open, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(pipe.close, signal=scrapy_signals.spider_closed)
        return pipe

    def open(self) -> None:
        self.engine = open_database(self.database_url)
        if self.stories_factory is not None:
            with Session(self.engine) as session:
                self.stories = self.stories_factory(session)
            self.stories.freeze()

    def _store_one(self, session: Session, item: PageItem) -> StoreResult:
        assert item.article is not None
        return store_article(
            session,
            source=item.source,
            url=item.url,
            final_url=item.final_url,
            article=item.article,
            matches=item.matches,
            stories=self.stories,
            feed_published=item.feed_published,
            alerts=self.alerts,
            fingerprint=item.fingerprint,
            signature=item.signature,
        )

    def _store_batch(self, items: list[PageItem]) -> list[StoreResult | BaseException]:
        # One order for every writer makes deadlocks between two crawls storing the same
        # articles unlikely (flush() still recovers from one), and within a batch the
        # earliest published copy of a text is stored first and becomes the original.
        order = sorted(range(len(items)), key=lambda i: _store_key(items[i]))
        try:
            return self._store_together(items, order)
        except Exception:  # which article failed is found item by item below
            pass
        return self._store_apart(items, order)

    def _store_together(
        self, items: list[PageItem], order: list[int]
    ) -> list[StoreResult | BaseException]:
        """The fast path: the whole batch decided in memory and written with a few
        multi-row statements (monitor.store_bulk).

        Any failure rolls the whole batch back (and its articles out of the story index).
        """
        assert self.engine is not None
        batch = [
            ToStore(
                source=item.source,
                url=item.url,
                final_url=item.final_url,
                article=item.article,
                matches=item.matches,
                feed_published=item.feed_published,
                fingerprint=item.fingerprint,
                signature=item.signature,
            )
            for i in order
            if (item := items[i]).article is not None
        ]
        if len(batch) != len(items):
            raise SlowPathNeeded("an item without an article")
        tentative: AbstractContextManager[None] = (
            self.stories.tentative() if self.stories is not None else nullcontext()
        )
        with tentative, Session(self.engine) as session, session.begin():
            stored = store_batch(session, batch, stories=self.stories, alerts=self.alerts)
        results: list[StoreResult | BaseException | None] = [None] * len(items)
        for i, result in zip(order, stored, strict=True):
            results[i] = result
        return [r for r in results if r is not None]

    def _store_apart(
        self, items: list[PageItem], order: list[int]
    ) -> list[StoreResult | BaseException]:
        """Each article in its own savepoint, so one bad article never takes its neighbours
        down; an OperationalError (the transaction is lost) propagates to flush()."""
        assert self.engine is not None
        results: list[StoreResult | BaseException | None] = [None] * len(items)

        def one(session: Session, item: PageItem) -> StoreResult:
            with session.begin_nested():
                return self._store_one(session, item)

        with Session(self.engine) as session, session.begin():
            for i in order:
                item = items[i]
                try:
                    try:
                        results[i] = one(session, item)
                    except IntegrityError:
                        # Another writer stored the same canonical URL meanwhile.
                        results[i] = one(session, item)
                except OperationalError:
                    raise  # the transaction is lost (e.g. a deadlock): see flush()
                except Exception as exc:  # recorded per item; the batch goes on
                    results[i] = exc
        return [r for r in results if r is not None]

    def _store_alone(self, item: PageItem) -> StoreResult | BaseException:
        """One article in its own transaction, retried when it deadlocks again."""
        error: BaseException | None = None
        for _attempt in range(3):
            try:
                return self._store_batch([item])[0]
            except OperationalError as exc:
                error = exc
        assert error is not None
        return error

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            results = self._store_batch([item for item, _ in batch])
        except OperationalError:
            # On PostgreSQL two crawls storing the same articles in different orders can
            # deadlock; the database aborts one batch. Its articles are stored one by one.
            results = [self._store_alone(item) for item, _ in batch]
        except Exception as exc:  # the commit itself failed: every item of the batch
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def process_item(self, item: PageItem) -> PageItem:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoreResult] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.batch_seconds, self.flush)
        try:
            result = await future
        except Exception as exc:
            _report(self.sigs, item, "store-failed", f"article: could not be stored: {exc!r}")
            raise DropItem(f"store failed: {item.final_url}") from exc
        self.sigs.send_catch_log(
            signals.article_stored,
            source=item.source,
            url=item.final_url,
            outcome=result.outcome,
            matched=result.matched,
        )
        return item

    def close(self) -> None:
        self.flush()
        if self.engine is not None:
            self.engine.dispose()
