"""The news spider's article step: discovered links in, article pages out as PageItems.

A link is requested when it is recent enough, in a wanted language and not stored yet
(one IN query on the URL keys); the answer must be an HTML page. Everything after the
fetch (extraction, matching, storage) is in the pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from monitor.config import AppConfig, SourceConfig
from monitor.dedup import canonicalize_url, url_key
from monitor.discovery import DiscoveredLink
from monitor.items import PageItem
from monitor.spiders import source_kinds as kinds
from monitor.spiders.failures import looks_binary
from monitor.spiders.reporting import ReportingSpider
from storage.articles import known_url_hashes

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class ArticleSpider(ReportingSpider):
    """The news spider's article half; NewsSpider (news.py) sets the attributes below."""

    config: AppConfig | None
    engine: Engine | None
    since: datetime | None
    now: Callable[[], datetime]
    max_page_bytes: int
    max_url_length: int

    def _meta(self, source: SourceConfig, kind: str, max_bytes: int) -> dict[str, Any]:
        return {
            "newsmon_source": source.name,
            "newsmon_kind": kind,
            "newsmon_allow_private": source.allow_private,
            "newsmon_min_delay": source.delay,
            "download_maxsize": max_bytes,
        }

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
