"""The Scrapy settings a `newsmon worker` adds on top of a single-machine crawl's."""

from __future__ import annotations

from typing import Any

from monitor.distributed.settings import DistributedSettings, Keys

STORE_PIPELINE = "monitor.pipelines.StorePipeline"
RECORDER = "monitor.recorder.RunRecorder"


def worker_overrides(
    dist: DistributedSettings, redis_url: str, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Settings for a worker: the shared scheduler, the expiring dupefilter, the story
    lock around storing, and a run record per burst. ``base`` holds the project's
    ITEM_PIPELINES and EXTENSIONS, of which the two newsmon components are swapped."""
    keys = Keys(dist.key_prefix)
    pipelines = dict((base or {}).get("ITEM_PIPELINES", {}))
    order = pipelines.pop(STORE_PIPELINE, 300)
    pipelines["monitor.distributed.stories.DistributedStorePipeline"] = order
    extensions = dict((base or {}).get("EXTENSIONS", {}))
    rec_order = extensions.pop(RECORDER, 500)
    extensions[RECORDER] = None
    extensions["monitor.distributed.recorder.BurstRecorder"] = rec_order
    return {
        "SCHEDULER": "monitor.distributed.frontier.Scheduler",
        # False would make a stopping worker delete the shared queue and dupefilter.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.fingerprints,
        "DUPEFILTER_CLASS": "monitor.distributed.dupefilter.ExpiringDupeFilter",
        "REDIS_URL": redis_url,
        "REDIS_START_URLS_KEY": keys.start,
        "MAX_IDLE_TIME_BEFORE_CLOSE": 0,  # idle = wait for the next burst
        "NEWSMON_DUPEFILTER_TTL": dist.dupefilter_ttl_seconds,
        "NEWSMON_QUEUED_TTL": dist.queued_ttl_seconds,
        "ITEM_PIPELINES": pipelines,
        "EXTENSIONS": extensions,
    }
