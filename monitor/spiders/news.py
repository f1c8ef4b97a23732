"""The news spider: read each configured feed, request the articles not yet stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from monitor import signals
from monitor.config import AppConfig, SourceConfig, load_config
from monitor.dedup import canonicalize_url, url_key
from monitor.discovery import DiscoveredLink, parse_feed
from monitor.items import PageItem
from monitor.spiders.failures import classify_failure, looks_binary
from storage.articles import known_url_hashes
from storage.engine import open_database

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NewsSpider(Spider):
    """Sources in, article responses out; everything after the fetch is in the pipelines."""

    name = "news"

    def __init__(self, *args: Any, sources: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.only_sources = [s for s in (sources or "").split(",") if s]
        self.config: AppConfig | None = None
        self.engine: Engine | None = None
        self.max_page_bytes = 10_000_000
        self.max_url_length = 2083
        self.now: Callable[[], datetime] = _utcnow

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.config = load_config(Path(settings.get("NEWSMON_CONFIG_DIR", "config")))
        db_url = settings.get("NEWSMON_DATABASE_URL") or spider.config.settings.database.url
        spider.engine = open_database(db_url)
        spider.max_page_bytes = settings.getint("NEWSMON_MAX_PAGE_BYTES", 10_000_000)
        spider.max_url_length = settings.getint("URL_MAX_LENGTH", 2083)
        return spider

    def selected_sources(self) -> list[SourceConfig]:
        assert self.config is not None
        chosen = [s for s in self.config.sources if s.enabled]
        if self.only_sources:
            chosen = [s for s in self.config.sources if s.name in self.only_sources]
        return chosen

    async def start(self) -> AsyncIterator[Any]:
        for source in self.selected_sources():
            yield Request(
                source.url,
                callback=self.parse_feed,
                errback=self.on_error,
                dont_filter=True,
                priority=10,
                meta={
                    "newsmon_source": source.name,
                    "newsmon_kind": "feed",
                    "newsmon_allow_private": source.allow_private,
                },
                cb_kwargs={"source": source},
            )

    def report(self, source: str, url: str, reason: str, detail: str) -> None:
        assert self.crawler is not None
        self.crawler.stats.inc_value(f"newsmon/errors/{reason}")
        self.crawler.signals.send_catch_log(
            signals.page_error, source=source, url=url, reason=reason, detail=detail
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = classify_failure(failure)
        kind = request.meta.get("newsmon_kind", "page")
        self.report(
            request.meta.get("newsmon_source", "?"), request.url, reason, f"{kind}: {detail}"
        )

    def _max_age(self, source: SourceConfig) -> timedelta | None:
        assert self.config is not None
        days = source.max_age_days or self.config.settings.crawl.max_age_days
        return timedelta(days=days) if days else None

    def fresh_links(
        self, source: SourceConfig, links: tuple[DiscoveredLink, ...]
    ) -> list[DiscoveredLink]:
        """Links worth fetching: not too old by their feed date, not stored already."""
        max_age = self._max_age(source)
        if max_age is not None:
            cutoff = self.now() - max_age
            links = tuple(x for x in links if x.published is None or x.published >= cutoff)
        unique: dict[str, DiscoveredLink] = {}
        for link in links:
            unique.setdefault(url_key(link.url), link)
        assert self.engine is not None
        with Session(self.engine) as session:
            known = known_url_hashes(session, unique)
        return [link for key, link in unique.items() if key not in known]

    def parse_feed(self, response: Response, source: SourceConfig) -> Iterator[Request]:
        assert self.config is not None
        result = parse_feed(
            response.body, response.url, max_items=self.config.settings.crawl.max_items_per_feed
        )
        if result.error and not result.links:
            self.report(
                source.name, response.url, result.error_code or "bad-feed", f"feed: {result.error}"
            )
            return
        if result.error:  # a warning: links were read all the same (e.g. a feed cut short)
            code = result.error_code or "bad-feed"
            self.report(source.name, response.url, code, f"feed: {result.error}")
        assert self.crawler is not None
        self.crawler.signals.send_catch_log(
            signals.links_discovered, source=source.name, count=len(result.links)
        )
        for link in self.fresh_links(source, result.links):
            if len(link.url) > self.max_url_length:
                detail = f"article: the link is {len(link.url)} characters long; skipped"
                self.report(source.name, link.url[:300], "url-too-long", detail)
                continue
            yield Request(
                canonicalize_url(link.url),
                callback=self.parse_article,
                errback=self.on_error,
                meta={
                    "newsmon_source": source.name,
                    "newsmon_kind": "article",
                    "newsmon_allow_private": source.allow_private,
                    "download_maxsize": self.max_page_bytes,
                },
                cb_kwargs={"source": source, "link": link},
            )

    def parse_article(
        self, response: Response, source: SourceConfig, link: DiscoveredLink
    ) -> Iterator[PageItem]:
        assert self.crawler is not None
        self.crawler.stats.inc_value(f"newsmon/source/{source.name}/fetched")
        ctype = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
        is_html = isinstance(response, HtmlResponse) or (
            isinstance(response, XmlResponse | TextResponse) and ctype in _HTML_TYPES
        )
        if is_html and looks_binary(response.body):
            shown = ctype.decode("latin-1") or "no content type"
            detail = f"article: binary data served as {shown}"
            self.report(source.name, response.url, "not-html", detail)
            return
        if not is_html or not isinstance(response, TextResponse):
            shown = ctype.decode("latin-1") or "no content type"
            self.report(
                source.name,
                response.url,
                "not-html",
                f"article: expected an HTML page, got {shown}",
            )
            return
        yield PageItem(
            source=source.name,
            url=link.url,
            final_url=response.url,
            html=response.text,
            feed_title=link.title,
            feed_published=link.published,
            feed_language=link.language,
        )

    def closed(self, reason: str) -> None:
        if self.engine is not None:
            self.engine.dispose()
