"""Scrapy pipelines: extract -> match -> store (dedup and stories happen inside store).

Each pipeline is thin glue around a pure core (extract, matching) or the storage
repository; they read settings in from_crawler and take plain values in __init__.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.signalmanager import SignalManager
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor import signals
from monitor.config import load_config
from monitor.extract import ExtractedArticle, extract_article
from monitor.items import PageItem
from monitor.matching import Matcher
from monitor.store import StoreResult, store_article
from monitor.story_assign import StoryAssigner
from storage.engine import open_database

logger = logging.getLogger(__name__)


def _report(sigs: SignalManager, item: PageItem, reason: str, detail: str) -> None:
    sigs.send_catch_log(
        signals.page_error, source=item.source, url=item.final_url, reason=reason, detail=detail
    )


class ExtractPipeline:
    """HTML -> ExtractedArticle, in a process pool so extraction uses every core.

    A semaphore bounds the pages waiting for a worker: when extraction is slower than
    fetching, the scraper's queue fills and Scrapy stops downloading (backpressure).
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

    async def _extract(self, html: str, url: str) -> ExtractedArticle | None:
        if self.workers <= 1:
            return extract_article(html, url)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers * 4)
        async with self._slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool(), extract_article, html, url)

    async def process_item(self, item: PageItem) -> PageItem:
        try:
            article = await self._extract(item.html, item.final_url)
        except Exception as exc:  # a worker crash or a parser bug must not stop the crawl
            _report(self.sigs, item, "extract-failed", f"article: extraction failed: {exc!r}")
            raise DropItem(f"extraction failed: {item.final_url}") from exc
        if article is None:
            _report(
                self.sigs,
                item,
                "empty-extraction",
                "article: the page has no extractable article text",
            )
            raise DropItem(f"no article text: {item.final_url}")
        if not article.title and item.feed_title:
            article = ExtractedArticle(**{**article.__dict__, "title": item.feed_title})
        item.article = article
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
        config = load_config(Path(crawler.settings.get("NEWSMON_CONFIG_DIR", "config")))
        return cls(Matcher.compile(config.topics))

    def process_item(self, item: PageItem) -> PageItem:
        assert item.article is not None
        item.matches = self.matcher.match(item.article.title, item.article.text)
        return item


class StorePipeline:
    """Write the article, its matches and its story in one transaction."""

    def __init__(
        self,
        sigs: SignalManager,
        database_url: str,
        stories_factory: Callable[[Session], StoryAssigner] | None = None,
    ) -> None:
        self.sigs = sigs
        self.database_url = database_url
        self.engine: Engine | None = None
        self.stories_factory = stories_factory
        self.stories: StoryAssigner | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        config = load_config(Path(settings.get("NEWSMON_CONFIG_DIR", "config")))
        url = settings.get("NEWSMON_DATABASE_URL") or config.settings.database.url
        stories = config.settings.stories

        def stories_factory(session: Session) -> StoryAssigner:
            return StoryAssigner(session, stories)

        pipe = cls(crawler.signals, url, stories_factory)
        crawler.signals.connect(pipe.open, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(pipe.close, signal=scrapy_signals.spider_closed)
        return pipe

    def open(self) -> None:
        self.engine = open_database(self.database_url)
        if self.stories_factory is not None:
            with Session(self.engine) as session:
                self.stories = self.stories_factory(session)

    def _store(self, item: PageItem) -> StoreResult:
        assert self.engine is not None and item.article is not None
        with Session(self.engine) as session, session.begin():
            return store_article(
                session,
                source=item.source,
                url=item.url,
                final_url=item.final_url,
                article=item.article,
                matches=item.matches,
                stories=self.stories,
                feed_published=item.feed_published,
            )

    def process_item(self, item: PageItem) -> PageItem:
        try:
            result = self._store(item)
        except IntegrityError:
            # Another writer stored the same canonical URL meanwhile: now it is known.
            result = self._store(item)
        self.sigs.send_catch_log(
            signals.article_stored,
            source=item.source,
            url=item.final_url,
            outcome=result.outcome,
            matched=result.matched,
        )
        return item

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
