"""A shared duplicate filter that cannot lose URLs: every claim expires.

scrapy-redis's RFPDupeFilter keeps fingerprints in one set for ever (with
SCHEDULER_PERSIST on, which shared queues need), so a URL popped by a worker that then
dies would never be fetched again. Here each fingerprint is its own key, claimed with
``SET NX EX``: for ``queued_ttl`` while the request waits in the shared queue, and for
``ttl`` from the moment a worker takes it (see frontier.Scheduler.next_request). Two
live workers never fetch one URL within the TTL; a dead worker's URLs become fetchable
again once it runs out, and the next crawl of their source finds them again (stored
articles are skipped before they are requested, so only the lost ones are).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.settings import BaseSettings
from scrapy_redis.connection import get_redis_from_settings  # type: ignore[import-untyped]
from scrapy_redis.dupefilter import RFPDupeFilter  # type: ignore[import-untyped]

QUEUED = b"q"
TAKEN = b"t"


class ExpiringDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """One Redis key per request fingerprint, each with its own expiry."""

    def __init__(
        self, server: Any, key: str, debug: bool = False, *, ttl: float, queued_ttl: float
    ) -> None:
        super().__init__(server, key, debug)
        self.ttl = max(1, round(ttl))
        self.queued_ttl = max(self.ttl, round(queued_ttl))

    @classmethod
    def from_newsmon_settings(cls, settings: BaseSettings) -> ExpiringDupeFilter:
        return cls(
            get_redis_from_settings(settings),
            settings.get("SCHEDULER_DUPEFILTER_KEY"),
            settings.getbool("DUPEFILTER_DEBUG"),
            ttl=settings.getfloat("NEWSMON_DUPEFILTER_TTL", 900),
            queued_ttl=settings.getfloat("NEWSMON_QUEUED_TTL", 86400),
        )

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExpiringDupeFilter:
        return cls.from_newsmon_settings(settings)

    @classmethod
    def from_spider(cls, spider: Any) -> ExpiringDupeFilter:
        return cls.from_newsmon_settings(spider.settings)

    def fingerprint_key(self, request: Request) -> str:
        return f"{self.key}{self.request_fingerprint(request)}"

    def request_seen(self, request: Request) -> bool:
        """Claim the URL for the queue; False (go ahead) only for the first claimant."""
        added = self.server.set(self.fingerprint_key(request), QUEUED, nx=True, ex=self.queued_ttl)
        return not added

    def taken(self, request: Request) -> None:
        """A worker popped ``request``: from now on the claim lasts ``ttl``."""
        if not request.dont_filter:
            self.server.set(self.fingerprint_key(request), TAKEN, ex=self.ttl)

    def claimed(self) -> int:
        """How many URLs are claimed now (queued or taken)."""
        return sum(1 for _ in self.server.scan_iter(match=f"{self.key}*", count=1000))

    def clear(self) -> None:
        """Drop every claim of this installation (only on request: see close)."""
        batch: list[Any] = []
        for name in self.server.scan_iter(match=f"{self.key}*", count=1000):
            batch.append(name)
            if len(batch) >= 1000:
                self.server.delete(*batch)
                batch.clear()
        if batch:
            self.server.delete(*batch)

    def close(self, reason: str = "") -> None:
        """A worker that stops keeps every claim: the frontier is shared."""
