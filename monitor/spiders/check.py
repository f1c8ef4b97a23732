"""One-shot spiders for `newsmon sources`: check each source once, probe a new site.

They run through the same downloader stack as a crawl (User-Agent, robots.txt, address
guard, size limits, retries), store nothing and record no run: results stay on the
spider for the command to print.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from monitor.discovery import (
    LongLinks,
    LongLinkTally,
    ParseResult,
    extract_listing_links,
    sitemaps_from_robots,
)
from monitor.source_config import SourceConfig
from monitor.spiders import source_kinds as kinds
from monitor.spiders.failures import classify_failure

_PLAIN_WORDS = {
    "robots": "blocked by robots.txt",
    "empty": "no items",
    "no-links": "no items",
    "not-a-feed": "not a feed",
    "not-a-sitemap": "not a sitemap",
}


@dataclass
class CheckResult:
    """What one fetch of a source showed."""

    source: str
    kind: str
    url: str
    ok: bool = False
    items: int = 0
    reason: str = ""
    detail: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.ok:
            return "OK"
        if self.reason.startswith("http-"):
            return f"HTTP error {self.reason.removeprefix('http-')}"
        return _PLAIN_WORDS.get(self.reason, self.reason or "no answer")


@dataclass
class Fetched:
    """A probed URL: the body when it answered 2xx, else the failure's reason."""

    url: str
    status: int = 0
    body: bytes = b""
    final_url: str = ""
    reason: str = ""
    detail: str = ""


class _OneShot(Spider):
    """No pipelines, no run record, the crawl's politeness middlewares."""

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        settings.set("ITEM_PIPELINES", {}, priority="spider")
        extensions = dict(settings.getdict("EXTENSIONS"))
        extensions["monitor.recorder.RunRecorder"] = None
        settings.set("EXTENSIONS", extensions, priority="spider")


class SourceCheckSpider(_OneShot):
    """Fetch each source's first document once (and one sitemap below an index or a
    robots.txt) and say whether it yields article links."""

    name = "sourcecheck"

    def __init__(
        self,
        *args: Any,
        sources: list[SourceConfig] | None = None,
        max_feed_bytes: int = 30_000_000,
        max_page_bytes: int = 10_000_000,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sources = list(sources or [])
        self.max_feed_bytes = max_feed_bytes
        self.max_page_bytes = max_page_bytes
        self.results: dict[str, CheckResult] = {
            s.name: CheckResult(s.name, s.kind, s.url) for s in self.sources
        }

    def _request(self, source: SourceConfig, url: str, kind: str, depth: int = 0) -> Request:
        callback = self.parse_section if kind == "section" else self.parse_document
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            meta={
                "newsmon_source": source.name,
                "newsmon_kind": kind,
                "newsmon_allow_private": source.allow_private,
                "newsmon_min_delay": source.delay,
                "download_maxsize": (
                    self.max_page_bytes if kind == "section" else self.max_feed_bytes
                ),
                "dont_obey_robotstxt": kind == "robots",
            },
            cb_kwargs={"source": source, "kind": kind, "depth": depth},
        )

    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources:
            yield self._request(source, kinds.first_url(source), kinds.first_kind(source))

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = classify_failure(failure)
        result = self.results[request.meta["newsmon_source"]]
        result.ok, result.reason, result.detail = False, reason, f"{request.url}: {detail}"

    def _fail(self, source: SourceConfig, reason: str, detail: str) -> None:
        result = self.results[source.name]
        result.ok, result.reason, result.detail = False, reason, detail

    def parse_document(
        self, response: Response, source: SourceConfig, kind: str, depth: int
    ) -> Iterator[Request]:
        result = self.results[source.name]
        if kind == "robots":
            found = sitemaps_from_robots(response.body, response.url)
            if not found:
                self._fail(source, "no-sitemaps", "robots.txt names no sitemap")
                return
            result.notes.append(f"robots.txt names {len(found)} sitemap(s)")
            yield self._request(source, found[0], "sitemap", depth + 1)
            return
        charset = response.encoding if isinstance(response, TextResponse) else None
        parsed = kinds.parse_listing(
            source,
            response.body,
            response.url,
            items=kinds.max_items(source, 500),
            max_bytes=self.max_feed_bytes,
            charset=charset,
        )
        result.notes.extend(parsed.notes)
        self._note_long_links(source, parsed.long_links)
        if parsed.sitemaps and depth < 2:
            result.notes.append(f"{response.url}: a sitemap index of {len(parsed.sitemaps)}")
            plan = kinds.plan_children(parsed, oldest=None, seen=(response.url,), budget=1)
            if plan.visit:
                yield self._request(source, plan.visit[0], "sitemap", depth + 1)
                return
        self._judge(source, parsed)

    def _judge(self, source: SourceConfig, parsed: ParseResult) -> None:
        result = self.results[source.name]
        result.items = len(parsed.links)
        if parsed.links:
            result.ok = True
            if parsed.error:
                result.notes.append(f"warning: {parsed.error}")
        elif parsed.error:
            self._fail(source, parsed.error_code or "bad-feed", parsed.error)
        else:
            self._fail(source, "empty", "no article links")

    def parse_section(
        self, response: Response, source: SourceConfig, kind: str, depth: int
    ) -> None:
        if not isinstance(response, HtmlResponse):
            self._fail(source, "not-html", "the listing page is not HTML")
            return
        long_links = LongLinkTally()
        links = extract_listing_links(
            response.body, response.url, source.allow, source.deny, long_links=long_links
        )
        self._note_long_links(source, long_links.result())
        self._judge(source, ParseResult(kind="section", links=tuple(links)))

    def _note_long_links(self, source: SourceConfig, long_links: LongLinks | None) -> None:
        if long_links is not None:
            self.results[source.name].notes.append(f"warning: {long_links.message()}")


class ProbeSpider(_OneShot):
    """Fetch a few URLs (a site's page and its robots.txt) for `newsmon sources add`."""

    name = "sourceprobe"

    def __init__(self, *args: Any, urls: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.urls = list(urls or [])
        self.fetched: dict[str, Fetched] = {url: Fetched(url) for url in self.urls}

    async def start(self) -> AsyncIterator[Any]:
        for url in self.urls:
            yield Request(
                url,
                callback=self.keep,
                errback=self.on_error,
                dont_filter=True,
                meta={
                    "download_maxsize": 10_000_000,
                    "dont_obey_robotstxt": url.endswith("/robots.txt"),
                },
                cb_kwargs={"asked": url},
            )

    def keep(self, response: Response, asked: str) -> None:
        self.fetched[asked] = Fetched(asked, response.status, response.body, response.url)

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = classify_failure(failure)
        asked = request.cb_kwargs.get("asked", request.url)
        self.fetched[asked] = Fetched(asked, reason=reason, detail=detail)
