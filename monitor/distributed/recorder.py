"""One run record per burst: a worker runs for days, its work comes in bursts.

RunRecorder opens its row when the spider opens and closes it when the spider closes;
a worker's spider does neither for days. BurstRecorder opens a row at the first sign
of work (a request sent, a response, an error, a stored article) and closes it when the worker goes
idle (``burst_finished``), so `newsmon status` and the per-source health checks see
each burst like a crawl. Each worker records its own share of a burst under its name
(``stats["worker"]``); a row a killed worker left open is closed as ``killed`` when a
worker of the same name starts again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.distributed.spider import burst_finished
from monitor.recorder import RunRecorder
from storage.engine import open_database
from storage.models import CrawlRun
from storage.runs import finish_run, start_run
from storage.scheduler_state import close_crawl_run

logger = logging.getLogger(__name__)
KEPT_STATS = (
    "downloader/request_count",
    "downloader/response_count",
    "item_scraped_count",
    "item_dropped_count",
)


class BurstRecorder(RunRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker = "worker"
        self.started: datetime | None = None
        self.baseline: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BurstRecorder:
        rec = super().from_crawler(crawler)
        assert isinstance(rec, BurstRecorder)
        rec.worker = crawler.settings.get("NEWSMON_WORKER_NAME") or "worker"
        crawler.signals.connect(rec.burst_finished, signal=burst_finished)
        crawler.signals.connect(
            rec.request_reached_downloader, signal=scrapy_signals.request_reached_downloader
        )
        return rec

    # -- the run row ----------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self.engine = open_database(self.database_url)
        with Session(self.engine) as session, session.begin():
            stale = [
                run.id
                for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running"))
                if (run.stats or {}).get("worker") == self.worker
            ]
            for run_id in stale:
                close_crawl_run(
                    session,
                    run_id,
                    status="killed",
                    reason=f"worker {self.worker} stopped without closing this run",
                    now=self.clock(),
                )
        if stale:
            logger.warning("closed %d run(s) left open by a previous %s", len(stale), self.worker)

    def _ensure_run(self) -> None:
        if self.run_id is not None or self.engine is None:
            return
        self.started = self.clock()
        self.baseline = dict(self.stats.get_stats())
        with Session(self.engine) as session, session.begin():
            run = start_run(session, "crawl", self.started)
            run.stats = {"worker": self.worker}
            self.run_id = run.id
        self.stats.set_value("newsmon/run_id", self.run_id)

    def _burst_stats(self) -> dict[str, Any]:
        now = self.stats.get_stats()
        kept: dict[str, Any] = {"worker": self.worker}
        for key in KEPT_STATS:
            kept[key] = int(now.get(key, 0) or 0) - int(self.baseline.get(key, 0) or 0)
        if self.started is not None:
            kept["elapsed_time_seconds"] = (self.clock() - self.started).total_seconds()
        if "memusage/max" in now:
            kept["memusage/max"] = now["memusage/max"]
        return kept

    def status(self) -> str:
        """Failed only when this worker read listings and none of them parsed: a worker
        that fetched only articles of another worker's feed did not fail."""
        if any(c.fetched for c in self.counts.values()) or self.parsed_sources:
            return "ok"
        return super().status()

    def _close_run(self, status: str, reason: str) -> None:
        if self.engine is None or self.run_id is None:
            return
        run_id, self.run_id = self.run_id, None
        counts = sorted(self.counts.values(), key=lambda c: c.source)
        errors, stats = self.errors, self._burst_stats()
        self.counts, self.errors, self.parsed_sources = {}, [], set()
        try:
            with Session(self.engine) as session, session.begin():
                finish_run(
                    session,
                    run_id,
                    status=status,
                    finish_reason=reason,
                    counts=counts,
                    errors=errors,
                    stats=stats,
                    finished=self.clock(),
                )
        except Exception:  # the database is away: the row stays open, the worker goes on
            logger.exception("could not close run %s", run_id)

    def burst_finished(self) -> None:
        self._close_run(self.status(), "idle")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        status = self.status() if reason == "finished" else "interrupted"
        self.stats.set_value("newsmon/status", status)
        self._close_run(status, reason)
        if self.engine is not None:
            self.engine.dispose()

    # -- events: each one opens the burst's row if none is open ---------------------

    def request_reached_downloader(self, request: Request, spider: Spider) -> None:
        """The first request on its way: a worker killed from here on leaves a row."""
        self._ensure_run()

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        self._ensure_run()
        super().response_received(response, request, spider)

    def page_error(self, source: str, url: str, reason: str, detail: str) -> None:
        self._ensure_run()
        super().page_error(source, url, reason, detail)

    def links_discovered(self, source: str, count: int) -> None:
        self._ensure_run()
        super().links_discovered(source, count)

    def article_stored(self, source: str, url: str, outcome: str, matched: bool) -> None:
        self._ensure_run()
        super().article_stored(source, url, outcome, matched)
