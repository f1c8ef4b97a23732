"""Downloader middlewares for politeness: a per-source minimum delay, and retries on 429
and 503 that wait as long as the server asks (Retry-After) or back off exponentially.

monitor/settings.py registers them; requests without a source (robots.txt, a spider of
another project) pass through unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

BACKOFF_CODES = frozenset({429, 503})


def retry_after_seconds(value: bytes | str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP date; None when
    absent or unreadable; never negative."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _slot_key(crawler: Crawler, request: Request) -> str:
    engine = crawler.engine
    if engine is not None:
        return str(engine.downloader.get_slot_key(request))
    return str(request.meta.get("download_slot") or urlparse_cached(request).hostname or "")


class SourceDelayMiddleware:
    """A source's ``min_delay`` is a floor under its host's download-slot delay.

    AutoThrottle lowers slot delays after fast responses; the floor is put back after
    every downloaded response and before every request, and jitter is switched off for
    a floored slot so that the minimum is a minimum.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.floors: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceDelayMiddleware:
        mw = cls(crawler)
        crawler.signals.connect(mw.response_downloaded, signal=signals.response_downloaded)
        return mw

    def _apply(self, request: Request) -> None:
        engine = self.crawler.engine
        if engine is None:
            return
        key = _slot_key(self.crawler, request)
        floor = self.floors.get(key)
        if floor is None:
            return
        slot = engine.downloader.slots.get(key)
        if slot is None:
            _, slot = engine.downloader._get_slot(request)
        if slot.delay < floor:
            slot.delay = floor
        slot.jitter = 0.0

    def process_request(self, request: Request) -> None:
        wanted = float(request.meta.get("newsmon_min_delay") or 0.0)
        if wanted > 0:
            key = _slot_key(self.crawler, request)
            self.floors[key] = max(self.floors.get(key, 0.0), wanted)
        self._apply(request)

    def response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        self._apply(request)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy 2.19's RobotsTxtMiddleware with every waiter getting the parser.

    While robots.txt of a host downloads, later requests to that host await the same
    Deferred through ``asFuture``, which consumes its result: the second and later
    waiters got None, i.e. "no robots.txt, everything allowed". Each waiter here gets
    its own Deferred, relayed from the shared one without consuming it.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(parser, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(result: RobotParser | None) -> RobotParser | None:
            waiter.callback(result)
            return result

        parser.addCallback(relay)
        return await maybe_deferred_to_future(waiter)


Sleep = Callable[[float], Awaitable[None]]


class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, plus: on 429/503 the whole host pauses for Retry-After
    seconds (or backoff_base * 2**attempt when the server names none) before the retry.
    A server asking for more than NEWSMON_RETRY_MAX_WAIT seconds is not retried in this
    run: the response goes through as an HTTP error, recorded with its reason."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSMON_RETRY_MAX_WAIT", 120.0)
        self.backoff_base = settings.getfloat("NEWSMON_RETRY_BACKOFF", 1.0)
        self.paused_until: dict[str, float] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.sleep: Sleep = asyncio.sleep

    async def process_request(self, request: Request) -> None:
        key = _slot_key(self.crawler, request)
        until = self.paused_until.get(key)
        if until is None:
            return
        remaining = until - self.clock()
        if remaining > 0:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsmon/retry/paused_requests")
            await self.sleep(remaining)
        elif self.paused_until.get(key) == until:
            del self.paused_until[key]

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if response.status not in BACKOFF_CODES or request.meta.get("dont_retry", False):
            return super().process_response(request, response)
        if response.status not in self.retry_http_codes:
            return response
        attempt = int(request.meta.get("retry_times", 0))
        asked = retry_after_seconds(response.headers.get(b"Retry-After"), self.wall_clock())
        wait = asked if asked is not None else self.backoff_base * (2**attempt)
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        if wait > self.max_wait:
            request.meta["newsmon_retry_after"] = wait
            stats.inc_value("newsmon/retry/wait_too_long")
            logger.warning(
                "%s asks to wait %.0f s (more than %.0f s): not retried in this run",
                request.url,
                wait,
                self.max_wait,
            )
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        key = _slot_key(self.crawler, request)
        until = self.clock() + wait
        self.paused_until[key] = max(self.paused_until.get(key, 0.0), until)
        stats.inc_value("newsmon/retry/backoff_count")
        stats.inc_value("newsmon/retry/backoff_ms", round(wait * 1000))
        return retry
