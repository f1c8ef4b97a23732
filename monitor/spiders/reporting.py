"""What the news spider records: counters, problems, discovered links, failed requests.

Counters go to ``crawler.stats`` under ``newsmon/...`` (overall and per source);
problems and link counts are signals (monitor/signals.py) that the run recorder turns
into the run's record. A failed request becomes a reason code and a sentence
(failures.py); a transient failure of an article taints its listing's validators, so
that the listing is read in full next time.
"""

from __future__ import annotations

from scrapy import Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from monitor import signals
from monitor.config import SourceConfig
from monitor.discovery import LongLinks, ParseResult
from monitor.http_cache import ConditionalGet, is_transient
from monitor.spiders.failures import classify_failure


class ReportingSpider(Spider):
    """The news spider's reporting half; NewsSpider (news.py) sets ``conditional``."""

    conditional: ConditionalGet

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

    def report_long_links(
        self, source: SourceConfig, url: str, noun: str, long_links: LongLinks | None
    ) -> None:
        """One row per listing, not per link (a hostile page may list 100,000): the
        links it named that were refused for their length, counted in the stats."""
        if long_links is None:
            return
        self.count("links/too_long", long_links.count, source.name)
        self.report(source.name, url, "link-too-long", f"{noun}: {long_links.message()}")

    def check_result(self, source: SourceConfig, url: str, noun: str, result: ParseResult) -> bool:
        """Record a parse error (False: nothing usable) or warning (True: go on)."""
        self.count("listings/parsed", source=source.name)
        self.report_long_links(source, url, noun, result.long_links)
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
