"""The worker spider: NewsSpider whose sources arrive as messages in Redis.

A message {"source": NAME} becomes that source's first request (its feed, sitemap,
robots.txt or section page); every request then goes through the shared queue, so the
articles of one feed are fetched by whichever workers are free. A worker with nothing
to do is idle, not finished: it waits for the next message (the end of a burst).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy import signals as scrapy_signals
from scrapy.crawler import Crawler
from scrapy_redis.spiders import RedisMixin  # type: ignore[import-untyped]

from monitor.http_cache import ConditionalGet
from monitor.spiders.news import NewsSpider

burst_finished = object()
"""Sent when a worker that did something goes idle (no arguments)."""


class WorkerSpider(RedisMixin, NewsSpider):  # type: ignore[misc]
    name = "news-worker"
    redis_batch_size = 4  # sources taken per idle check; their requests are shared anyway

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.busy = False
        self.bad_messages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WorkerSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, WorkerSpider)
        # Validators saved by this worker could hide articles another worker took and
        # lost (a 304 next time): in a cluster every listing is read in full.
        spider.conditional = ConditionalGet(spider.engine, enabled=False)
        spider.setup_redis(crawler)
        crawler.signals.connect(spider._active, signal=scrapy_signals.response_received)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for request in self.next_requests():
            yield request

    def _active(self) -> None:
        self.busy = True

    def make_request_from_data(self, data: bytes) -> Request | None:
        """A start message -> the source's first request; a bad one is logged and dropped."""
        assert self.config is not None
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        try:
            message = json.loads(text)
            name = message["source"]
            source = self.config.source(name)
        except (ValueError, TypeError, KeyError):
            self.bad_messages += 1
            if self.crawler is not None:
                self.crawler.stats.inc_value("newsmon/distributed/bad_messages")
            self.logger.warning(
                'ignored start message %r: expected {"source": NAME} naming a source of '
                "sources.toml (restart workers after editing it)",
                text[:200],
            )
            return None
        self.busy = True
        self.count("distributed/start_messages", source=source.name)
        self.sitemaps_requested.pop(source.name, None)
        self.section_pages.pop(source.name, None)
        return self.start_request(source)

    def spider_idle(self) -> None:
        """End the burst (if there was one), then look for messages; never close."""
        if self.busy:
            self.busy = False
            self.seen_listings.clear()
            assert self.crawler is not None
            self.crawler.signals.send_catch_log(burst_finished)
        super().spider_idle()
