"""The news spider: read each configured source, request the articles not yet stored.

One request per selected source starts its listing (listings.py: feeds, sitemaps,
robots.txt, section pages); the links found become article requests (articles.py);
problems and counters are recorded as they happen (reporting.py). This module holds the
spider's configuration, its per-crawl state, the start and the close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler

from monitor.config import SourceConfig
from monitor.crawl_settings import crawl_config, database_url_of
from monitor.http_cache import ConditionalGet
from monitor.spiders import source_kinds as kinds
from monitor.spiders.listings import ListingSpider
from storage.engine import open_database


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_since(value: str | None) -> datetime | None:
    """A backfill start: YYYY-MM-DD (midnight UTC) or an ISO date-time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class NewsSpider(ListingSpider):
    """Sources in, article responses out; everything after the fetch is in the pipelines."""

    name = "news"

    def __init__(
        self, *args: Any, sources: str | None = None, since: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.only_sources = [s for s in (sources or "").split(",") if s]
        self.since = parse_since(since)
        self.config = None
        self.engine = None
        self.max_page_bytes = 10_000_000
        self.max_feed_bytes = 30_000_000
        self.max_url_length = 2083
        self.now = _utcnow
        self.conditional = ConditionalGet(None, enabled=False)
        self.seen_listings = set()
        self.sitemaps_requested = Counter()
        self.section_pages = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.config = crawl_config(settings)
        db_url = database_url_of(settings)
        spider.engine = open_database(db_url)
        spider.max_page_bytes = settings.getint("NEWSMON_MAX_PAGE_BYTES", 10_000_000)
        spider.max_feed_bytes = spider.config.settings.crawl.max_feed_bytes
        spider.max_url_length = settings.getint("URL_MAX_LENGTH", 2083)
        spider.conditional = ConditionalGet(spider.engine, enabled=spider.since is None)
        return spider

    def selected_sources(self) -> list[SourceConfig]:
        assert self.config is not None
        chosen = [s for s in self.config.sources if s.enabled]
        if self.only_sources:
            chosen = [s for s in self.config.sources if s.name in self.only_sources]
        return chosen

    async def start(self) -> AsyncIterator[Any]:
        for source in self.selected_sources():
            yield self.start_request(source)

    def start_request(self, source: SourceConfig) -> Request:
        """The first request of a source (its feed, sitemap, robots.txt, page or query)."""
        kind = kinds.first_kind(source)
        extra: dict[str, Any] = {}
        if kind == "sitemap":
            self.seen_listings.add(source.url)
            extra = {"depth": 0}
        elif kind == "section":
            self.section_pages[source.name] += 1
            extra = {"depth": 0}
        return self.listing_request(source, kinds.first_url(source), kind, **extra)

    def closed(self, reason: str) -> None:
        if reason == "finished":
            saved = self.conditional.save(self.now)
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.set_value("newsmon/http_cache/saved", saved)
        if self.engine is not None:
            self.engine.dispose()
