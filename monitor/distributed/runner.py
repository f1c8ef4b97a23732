"""`newsmon run --distributed`: the scheduler enqueues due sources for the workers.

Everything else `newsmon run` does stays here, once per installation: the lock, the
digest, alert delivery, the heartbeat. A crawl job no longer starts a subprocess; it
pushes one start message per source of its group (monitor.distributed.enqueue) and
records a scheduled crawl with outcome ``ok`` (or ``failed`` when Redis did not answer),
so restarts keep each group's rhythm and `newsmon status` shows what was handed over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from monitor.distributed.enqueue import Enqueued, connect, enqueue_sources
from monitor.distributed.settings import Keys
from monitor.schedule_plan import CrawlJob
from monitor.scheduler import Runner
from monitor.scheduler_jobs import utcnow
from storage import scheduler_state as state

logger = logging.getLogger(__name__)


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


class DistributedRunner(Runner):
    def __init__(
        self,
        config: Any,
        database_url: str,
        redis: Any,
        *,
        keys: Keys,
        out: TextIO | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(config, database_url, out=out, clock=clock)
        self.redis = redis
        self.keys = keys

    def _finish_enqueue(self, crawl_id: int, outcome: str, detail: str) -> None:
        with self._db() as session, session.begin():
            state.finish_scheduled_crawl(
                session,
                crawl_id,
                outcome=outcome,
                finished=self.clock(),
                exit_code=None,
                detail=detail,
            )

    async def crawl_job(self, job: CrawlJob) -> None:
        self._track()
        if self.stop.is_set():
            return
        crawl_id, _ = await asyncio.to_thread(self._begin_crawl, job)
        try:
            done: Enqueued = await asyncio.to_thread(
                enqueue_sources, self.redis, job.sources, self.keys.start
            )
            outcome, detail = "ok", done.describe()
        except Exception as exc:  # Redis away: recorded, retried at the next time
            outcome, detail = "failed", f"could not enqueue: {type(exc).__name__}: {exc}"
        await asyncio.to_thread(self._finish_enqueue, crawl_id, outcome, detail)
        self.say(f"{job.id}: {detail}")


def run_distributed(
    config: Any, database_url: str, redis_url: str, out: TextIO | None = None
) -> int:
    """Entry point of `newsmon run --distributed`; returns the exit code."""
    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
    redis = connect(redis_url)
    try:
        redis.ping()
    except Exception as exc:
        print(
            f"newsmon run: cannot reach Redis at {redacted(redis_url)}: {exc}",
            file=out,
            flush=True,
        )
        return 1
    keys = Keys(config.settings.distributed.key_prefix)
    runner = DistributedRunner(config, database_url, redis, keys=keys, out=out)
    runner.say(f"distributed: sources are enqueued in {redacted(redis_url)} ({keys.start})")
    try:
        return asyncio.run(runner.main())
    finally:
        redis.close()
