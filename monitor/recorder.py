"""RunRecorder: counts per source and every error, written to the database as a run record.

The run row is created when the spider opens (so a crash leaves a visible "running"
row) and completed when it closes. The CLI prints its summary from that record.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.statscollectors import StatsCollector
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from twisted.internet import task

from monitor import signals
from monitor.crawl_settings import database_url_of
from storage.engine import open_database
from storage.runs import ErrorRecord, SourceCounts, finish_run, start_run

logger = logging.getLogger(__name__)
MAX_ERRORS_PER_SOURCE = 500


class RunRecorder:
    def __init__(
        self,
        stats: StatsCollector,
        database_url: str,
        progress_every: float = 0.0,
        progress_out: TextIO | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.stats = stats
        self.database_url = database_url
        self.clock = clock
        self.counts: dict[str, SourceCounts] = {}
        self.errors: list[ErrorRecord] = []
        self.parsed_sources: set[str] = set()
        self.run_id: int | None = None
        self.engine: Engine | None = None
        self.progress_every = progress_every
        self.progress_out = progress_out or sys.stderr
        self._progress: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        if not crawler.settings.getbool("NEWSMON_RECORD_RUNS", True):
            raise NotConfigured("NEWSMON_RECORD_RUNS is off")
        url = database_url_of(crawler.settings)
        assert crawler.stats is not None
        rec = cls(crawler.stats, url, crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL", 0.0))
        crawler.signals.connect(rec.spider_opened, signal=scrapy_signals.spider_opened)
        crawler.signals.connect(rec.spider_closed, signal=scrapy_signals.spider_closed)
        crawler.signals.connect(rec.response_received, signal=scrapy_signals.response_received)
        crawler.signals.connect(rec.page_error, signal=signals.page_error)
        crawler.signals.connect(rec.links_discovered, signal=signals.links_discovered)
        crawler.signals.connect(rec.article_stored, signal=signals.article_stored)
        return rec

    def _counts(self, source: str) -> SourceCounts:
        if source not in self.counts:
            self.counts[source] = SourceCounts(source=source)
        return self.counts[source]

    def spider_opened(self, spider: Spider) -> None:
        selected = getattr(spider, "selected_sources", None)
        if callable(selected):
            for src in selected():
                self._counts(src.name)
        self.engine = open_database(self.database_url)
        with Session(self.engine) as session, session.begin():
            self.run_id = start_run(session, "crawl", self.clock()).id
        self.stats.set_value("newsmon/run_id", self.run_id)
        if self.progress_every > 0:
            self._progress = task.LoopingCall(self.print_progress)
            self._progress.start(self.progress_every, now=False)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if request.meta.get("newsmon_kind") == "article" and response.status < 300:
            self._counts(request.meta.get("newsmon_source", "?")).fetched += 1

    def page_error(self, source: str, url: str, reason: str, detail: str) -> None:
        counts = self._counts(source)
        counts.errors += 1
        counts.errors_by_reason[reason] = counts.errors_by_reason.get(reason, 0) + 1
        self.stats.inc_value(f"newsmon/source/{source}/errors")
        if counts.errors <= MAX_ERRORS_PER_SOURCE:
            self.errors.append(ErrorRecord(source, url, reason, detail, self.clock()))
        logger.warning("%s: %s: %s (%s)", source, reason, detail, url)

    def links_discovered(self, source: str, count: int) -> None:
        self.parsed_sources.add(source)
        self._counts(source).links_seen += count

    def article_stored(self, source: str, url: str, outcome: str, matched: bool) -> None:
        counts = self._counts(source)
        if outcome == "new":
            counts.new += 1
            if matched:
                counts.matched += 1
        else:
            counts.duplicates += 1
        self.stats.inc_value(f"newsmon/stored/{outcome}")

    def print_progress(self) -> None:
        total = SourceCounts(source="all")
        for c in self.counts.values():
            total.links_seen += c.links_seen
            total.fetched += c.fetched
            total.new += c.new
            total.errors += c.errors
        print(
            f"crawl: {total.links_seen} links, {total.fetched} fetched, {total.new} new, "
            f"{total.errors} errors",
            file=self.progress_out,
            flush=True,
        )

    def status(self) -> str:
        if self.counts and not (set(self.counts) & self.parsed_sources):
            return "failed"
        return "ok"

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._progress is not None and self._progress.running:
            self._progress.stop()
        if self.engine is None or self.run_id is None:
            return
        status = self.status() if reason == "finished" else "interrupted"
        self.stats.set_value("newsmon/status", status)
        keep = (
            "downloader/request_count",
            "downloader/response_count",
            "item_scraped_count",
            "item_dropped_count",
            "elapsed_time_seconds",
            "memusage/max",
        )
        stats: dict[str, Any] = {
            k: v
            for k, v in self.stats.get_stats().items()
            if (k in keep or k.startswith("newsmon/")) and isinstance(v, int | float | str)
        }
        with Session(self.engine) as session, session.begin():
            finish_run(
                session,
                self.run_id,
                status=status,
                finish_reason=reason,
                counts=sorted(self.counts.values(), key=lambda c: c.source),
                errors=self.errors,
                stats=stats,
                finished=self.clock(),
            )
        self.engine.dispose()
