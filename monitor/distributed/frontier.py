"""The scrapy-redis scheduler, told when a worker takes a request from the shared queue."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy_redis.scheduler import Scheduler as RedisScheduler  # type: ignore[import-untyped]

from monitor.distributed.dupefilter import ExpiringDupeFilter


class Scheduler(RedisScheduler):  # type: ignore[misc]
    """Pops from the shared queue and restarts the popped URL's claim at the short TTL,
    so a URL that waited long in the queue is still protected while it is fetched."""

    def next_request(self) -> Request | None:
        request: Request | None = super().next_request()
        if request is not None and isinstance(self.df, ExpiringDupeFilter):
            self.df.taken(request)
        return request

    def close(self, reason: str) -> Any:
        # SCHEDULER_PERSIST is forced on by the overlay; never flush the shared queue.
        return None
