"""The news spider: read each configured source, request the articles not yet stored.

Source kinds (monitor/source_config.py): feeds and search feeds are one document;
sitemaps may be indexes (children followed to a depth limit, each sitemap URL once per
crawl, old children skipped by lastmod); robots finds the sitemaps of a site; sections
are HTML listing pages (allow/deny patterns, sub-sections, pagination). Feeds and leaf
sitemaps are fetched conditionally (monitor/http_cache.py): a 304 costs no parsing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from monitor import signals
from monitor.config import AppConfig, SourceConfig
from monitor.crawl_settings import crawl_config, database_url_of
from monitor.dedup import canonicalize_url, url_key
from monitor.discovery import (
    DiscoveredLink,
    ParseResult,
    extract_listing_links,
    find_next_page,
    sitemaps_from_robots,
)
from monitor.http_cache import ConditionalGet, is_transient
from monitor.items import PageItem
from monitor.spiders import source_kinds as kinds
from monitor.spiders.failures import classify_failure, looks_binary
from storage.articles import known_url_hashes
from storage.engine import open_database

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


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


def _requested(response: Response) -> str:
    """The URL as requested (before redirects): the key of its HTTP validators."""
    return response.request.url if response.request is not None else response.url


class NewsSpider(Spider):
    """Sources in, article responses out; everything after the fetch is in the pipelines."""

    name = "news"

    def __init__(
        self, *args: Any, sources: str | None = None, since: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.only_sources = [s for s in (sources or "").split(",") if s]
        self.since = parse_since(since)
        self.config: AppConfig | None = None
        self.engine: Engine | None = None
        self.max_page_bytes = 10_000_000
        self.max_feed_bytes = 30_000_000
        self.max_url_length = 2083
        self.now: Callable[[], datetime] = _utcnow
        self.conditional = ConditionalGet(None, enabled=False)
        self.seen_listings: set[str] = set()
        self.sitemaps_requested: Counter[str] = Counter()
        self.section_pages: Counter[str] = Counter()

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

    # -- requests --------------------------------------------------------------------------

    def _meta(self, source: SourceConfig, kind: str, max_bytes: int) -> dict[str, Any]:
        return {
            "newsmon_source": source.name,
            "newsmon_kind": kind,
            "newsmon_allow_private": source.allow_private,
            "newsmon_min_delay": source.delay,
            "download_maxsize": max_bytes,
        }

    def listing_request(
        self, source: SourceConfig, url: str, kind: str, **cb_kwargs: Any
    ) -> Request:
        """A request for a feed, sitemap, robots.txt or section page of ``source``."""
        max_bytes = self.max_page_bytes if kind == "section" else self.max_feed_bytes
        meta = self._meta(source, kind, max_bytes)
        headers: dict[str, str] = {}
        if kind in kinds.CONDITIONAL_KINDS and source.kind in kinds.CONDITIONAL_KINDS | {"robots"}:
            headers = self.conditional.request_headers(url)
            meta["handle_httpstatus_list"] = [304]
        if kind == "robots":
            meta["dont_obey_robotstxt"] = True  # robots.txt itself is always fetchable
        callbacks: dict[str, Callable[..., Any]] = {
            "feed": self.parse_listing,
            "sitemap": self.parse_sitemap,
            "robots": self.parse_robots,
            "section": self.parse_section,
        }
        callback = callbacks[kind]
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            priority=10,
            headers=headers or None,
            meta=meta,
            cb_kwargs={"source": source, **cb_kwargs},
        )

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

    # -- reporting -------------------------------------------------------------------------

    def report(self, source: str, url: str, reason: str, detail: str) -> None:
        assert self.crawler is not None
        self.crawler.stats.inc_value(f"newsmon/errors/{reason}")
        self.crawler.signals.send_catch_log(
            signals.page_error, source=source, url=url, reason=reason, detail=detail
        )

    def count(self, key: str, value: int = 1, source: str | None = None) -> None:
        assert self.crawler is not None
        if value:
            self.crawler.stats.inc_value(f"newsmon/{key}", value)
            if source is not None:
                self.crawler.stats.inc_value(f"newsmon/source/{source}/{key}", value)

    def discovered(self, source: SourceConfig, count: int) -> None:
        assert self.crawler is not None
        self.crawler.signals.send_catch_log(
            signals.links_discovered, source=source.name, count=count
        )

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = classify_failure(failure)
        kind = request.meta.get("newsmon_kind", "page")
        waited = request.meta.get("newsmon_retry_after")
        if waited is not None:
            detail += f"; the server asked to wait {waited:.0f} s: not retried in this run"
        listing = request.meta.get("newsmon_listing")
        if listing and is_transient(reason):
            self.conditional.taint(listing)
        self.report(
            request.meta.get("newsmon_source", "?"), request.url, reason, f"{kind}: {detail}"
        )

    def not_modified(self, response: Response, source: SourceConfig) -> bool:
        """A 304: the listing is unchanged since the last good fetch; nothing to parse."""
        if response.status != 304:
            return False
        self.count("listings/not_modified", source=source.name)
        self.discovered(source, 0)
        return True

    def check_result(self, source: SourceConfig, url: str, noun: str, result: ParseResult) -> bool:
        """Record a parse error (False: nothing usable) or warning (True: go on)."""
        self.count("listings/parsed", source=source.name)
        for note in result.notes:
            self.logger.info("%s: %s (%s)", source.name, note, url)
        if result.error and not (result.links or result.sitemaps):
            self.report(
                source.name, url, result.error_code or "bad-feed", f"{noun}: {result.error}"
            )
            return False
        if result.error:  # a warning: links were read all the same (e.g. a feed cut short)
            self.report(
                source.name, url, result.error_code or "bad-feed", f"{noun}: {result.error}"
            )
        return True

    # -- callbacks -------------------------------------------------------------------------

    def _items(self, source: SourceConfig) -> int:
        assert self.config is not None
        return kinds.max_items(source, self.config.settings.crawl.max_items_per_feed)

    def _charset(self, response: Response) -> str | None:
        return response.encoding if isinstance(response, TextResponse) else None

    def _parsed(self, response: Response, source: SourceConfig, what: str) -> ParseResult | None:
        """The listing's links, or None (not modified, or an error already reported)."""
        if self.not_modified(response, source):
            return None
        result = kinds.parse_listing(
            source,
            response.body,
            response.url,
            items=self._items(source),
            max_bytes=self.max_feed_bytes,
            charset=self._charset(response),
        )
        return result if self.check_result(source, response.url, what, result) else None

    def parse_listing(self, response: Response, source: SourceConfig) -> Iterator[Request]:
        """A feed, Google News search or GDELT artlist: one document lists the articles."""
        result = self._parsed(response, source, "feed")
        if result is None:
            return
        via = sum(1 for link in result.links if link.via)
        self.count("via_links", via, source.name)
        self.discovered(source, len(result.links))
        yield from self.article_requests(source, result.links, _requested(response))
        if source.kind in kinds.CONDITIONAL_KINDS:
            self.conditional.remember(_requested(response), response.headers)

    def parse_sitemap(
        self, response: Response, source: SourceConfig, depth: int
    ) -> Iterator[Request]:
        result = self._parsed(response, source, "sitemap")
        if result is None:
            return
        self.discovered(source, len(result.links))
        if result.sitemaps:
            yield from self.child_sitemaps(response.url, source, depth, result)
        if result.links:
            yield from self.article_requests(source, result.links, _requested(response))
        if not result.sitemaps:  # an index is re-read each run: its children may change
            self.conditional.remember(_requested(response), response.headers)

    def child_sitemaps(
        self, url: str, source: SourceConfig, depth: int, result: ParseResult
    ) -> Iterator[Request]:
        if depth >= source.depth_limit:
            self.report(
                source.name,
                url,
                "sitemap-too-deep",
                f"sitemap: an index {depth + 1} levels down; not followed "
                f"(max_depth = {source.depth_limit})",
            )
            return
        assert self.config is not None
        cut = kinds.cutoffs_for(source, self.config.settings.crawl.max_age_days, self.since)
        budget = source.max_sitemaps - self.sitemaps_requested[source.name]
        plan = kinds.plan_children(
            result, oldest=cut.oldest(self.now()), seen=self.seen_listings, budget=budget
        )
        self.count("sitemaps/too_old", plan.too_old, source.name)
        self.count("sitemaps/repeated", plan.seen, source.name)
        if plan.over_limit:
            self.report(
                source.name,
                url,
                "too-many-sitemaps",
                f"sitemap: {plan.over_limit} more child sitemaps than max_sitemaps = "
                f"{source.max_sitemaps} allows; the newest were read",
            )
        for child in plan.visit:
            self.seen_listings.add(child)
            self.sitemaps_requested[source.name] += 1
            yield self.listing_request(source, child, "sitemap", depth=depth + 1)

    def parse_robots(self, response: Response, source: SourceConfig) -> Iterator[Request]:
        found = sitemaps_from_robots(response.body, response.url)
        self.count("listings/parsed", source=source.name)
        if not found:
            self.report(
                source.name,
                response.url,
                "no-sitemaps",
                'robots: robots.txt names no sitemap (use kind = "sitemap" with its URL)',
            )
            return
        self.discovered(source, 0)
        fake = ParseResult(kind="sitemapindex", sitemaps=tuple(found))
        yield from self.child_sitemaps(response.url, source, -1, fake)

    def parse_section(
        self, response: Response, source: SourceConfig, depth: int
    ) -> Iterator[Request]:
        if not isinstance(response, HtmlResponse):
            ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            detail = f"section: expected an HTML listing page, got {ctype or 'no content type'}"
            self.report(source.name, response.url, "not-html", detail)
            return
        self.count("listings/parsed", source=source.name)
        links = extract_listing_links(response.body, response.url, source.allow, source.deny)
        sections: set[str] = set()
        if source.follow and depth < source.depth_limit:
            subs = extract_listing_links(response.body, response.url, source.follow, source.deny)
            sections = {link.url for link in subs}
            for link in subs:
                if self.section_pages[source.name] >= source.max_pages:
                    break
                if link.url not in self.seen_listings:
                    self.seen_listings.add(link.url)
                    self.section_pages[source.name] += 1
                    yield self.listing_request(source, link.url, "section", depth=depth + 1)
        articles = [link for link in links if link.url not in sections]
        if not articles and not sections:
            self.report(
                source.name,
                response.url,
                "no-links",
                "section: no article links matched the allow/deny patterns",
            )
        self.discovered(source, len(articles))
        yield from self.article_requests(source, articles, _requested(response))
        following = find_next_page(response.body, response.url)
        budget_left = self.section_pages[source.name] < source.max_pages
        if following and budget_left and following not in self.seen_listings:
            self.seen_listings.add(following)
            self.section_pages[source.name] += 1
            yield self.listing_request(source, following, "section", depth=depth)

    # -- articles --------------------------------------------------------------------------

    def fresh_links(
        self, source: SourceConfig, links: Iterable[DiscoveredLink]
    ) -> list[DiscoveredLink]:
        """Links worth fetching: recent enough, in a wanted language, not stored already."""
        assert self.config is not None and self.engine is not None
        cut = kinds.cutoffs_for(source, self.config.settings.crawl.max_age_days, self.since)
        plan = kinds.plan_links(tuple(links), cut, self.now())
        self.count("links/too_old", plan.too_old, source.name)
        self.count("links/other_language", plan.other_language, source.name)
        unique: dict[str, DiscoveredLink] = {}
        for link in plan.kept:
            unique.setdefault(url_key(link.url), link)
        with Session(self.engine) as session:
            known = known_url_hashes(session, unique)
        self.count("links/known", len(known), source.name)
        return [link for key, link in unique.items() if key not in known]

    def article_requests(
        self, source: SourceConfig, links: Iterable[DiscoveredLink], listing: str
    ) -> Iterator[Request]:
        for link in self.fresh_links(source, links):
            if len(link.url) > self.max_url_length:
                detail = f"article: the link is {len(link.url)} characters long; skipped"
                self.report(source.name, link.url[:300], "url-too-long", detail)
                continue
            meta = self._meta(source, "article", self.max_page_bytes)
            meta["newsmon_listing"] = listing
            yield Request(
                canonicalize_url(link.url),
                callback=self.parse_article,
                errback=self.on_error,
                meta=meta,
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
        if reason == "finished":
            saved = self.conditional.save(self.now)
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.set_value("newsmon/http_cache/saved", saved)
        if self.engine is not None:
            self.engine.dispose()
