"""The news spider's listing step: feeds, sitemaps, robots.txt and section pages.

Source kinds (monitor/source_config.py): feeds and search feeds are one document;
sitemaps may be indexes (children followed to a depth limit, each sitemap URL once per
crawl, old children skipped by lastmod); robots finds the sitemaps of a site; sections
are HTML listing pages (allow/deny patterns, sub-sections, pagination). Feeds and leaf
sitemaps are fetched conditionally (monitor/http_cache.py): a 304 costs no parsing.
The links a listing yields go to the article step (articles.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse

from monitor.config import SourceConfig
from monitor.discovery import (
    LongLinkTally,
    ParseResult,
    extract_listing_links,
    find_next_page,
    sitemaps_from_robots,
)
from monitor.spiders import source_kinds as kinds
from monitor.spiders.articles import ArticleSpider


def _requested(response: Response) -> str:
    """The URL as requested (before redirects): the key of its HTTP validators."""
    return response.request.url if response.request is not None else response.url


class ListingSpider(ArticleSpider):
    """The news spider's listing half; NewsSpider (news.py) sets the attributes below."""

    max_feed_bytes: int
    seen_listings: set[str]
    sitemaps_requested: Counter[str]
    section_pages: Counter[str]

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
        long_links = LongLinkTally()
        links = extract_listing_links(
            response.body, response.url, source.allow, source.deny, long_links=long_links
        )
        self.report_long_links(source, response.url, "section", long_links.result())
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
