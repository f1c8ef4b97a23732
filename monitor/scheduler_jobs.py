"""The pieces of `newsmon run` that need no running loop: which settings, which alert
hook, how jobs are added to an APScheduler scheduler, the crawl subprocess's command
line and how its outcome is told. Used by monitor.scheduler and tested on their own."""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.crawl_process import ProcessResult
from monitor.schedule_plan import (
    ALERTS_JOB,
    DIGEST_JOB,
    CrawlJob,
    Plan,
    crawl_trigger,
    digest_trigger,
)
from monitor.schedule_settings import DigestSettings, ScheduleSettings

logger = logging.getLogger(__name__)
ALERTS_HOOK = ("monitor.alerts", "deliver_pending")
JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
HEARTBEAT_JOB = "heartbeat"


def utcnow() -> datetime:
    return datetime.now(UTC)


def settings_of(config: Any) -> tuple[ScheduleSettings, DigestSettings]:
    """[schedule] and [digest] of the config (defaults when the config predates them)."""
    settings = getattr(config, "settings", None)
    schedule = getattr(settings, "schedule", None) or ScheduleSettings()
    digest = getattr(settings, "digest", None) or DigestSettings()
    return schedule, digest


def find_alerts_hook() -> Callable[..., Any] | None:
    """``monitor.alerts.deliver_pending`` if the alerts package provides it.

    The hook is called with the keyword arguments its signature names among
    ``engine``, ``sessions``, ``config``, ``database_url`` and ``now``; a coroutine
    function is awaited, a plain function runs in a worker thread.
    """
    module_name, attr = ALERTS_HOOK
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name in (module_name, "monitor"):
            return None
        logger.warning("alerts not scheduled: importing %s failed: %s", module_name, exc)
        return None
    except Exception as exc:  # a broken alerts module must not stop crawling
        logger.warning("alerts not scheduled: importing %s failed: %s", module_name, exc)
        return None
    hook = getattr(module, attr, None)
    return hook if callable(hook) else None


def hook_kwargs(fn: Callable[..., Any], available: Mapping[str, Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(available)
    return {name: value for name, value in available.items() if name in params}


def add_plan_jobs(
    scheduler: BaseScheduler,
    plan: Plan,
    *,
    now: datetime,
    last_started: Mapping[str, datetime | None],
    crawl: Callable[[CrawlJob], Awaitable[None]],
    digest: Callable[[], Awaitable[None]],
    alerts: Callable[[], Awaitable[None]] | None,
) -> None:
    """Add the plan's jobs with explicit first run times computed from ``now``."""
    for job in plan.crawls:
        trigger = crawl_trigger(job, plan, now=now, last_started=last_started.get(job.id))
        scheduler.add_job(
            crawl,
            trigger,
            args=[job],
            id=job.id,
            name=job.describe(),
            next_run_time=trigger.get_next_fire_time(None, now),
            **JOB_DEFAULTS,
        )
    if plan.digest is not None:
        trigger = digest_trigger(plan.digest)
        scheduler.add_job(
            digest,
            trigger,
            id=DIGEST_JOB,
            name=plan.digest.describe(),
            next_run_time=trigger.get_next_fire_time(None, now),
            **JOB_DEFAULTS,
        )
    if alerts is not None and plan.alerts_every is not None:
        every = plan.alerts_every
        scheduler.add_job(
            alerts,
            IntervalTrigger(seconds=every.total_seconds(), start_date=now),
            id=ALERTS_JOB,
            name=f"every {every.total_seconds() / 60:g} min (deliver pending alerts)",
            next_run_time=now + every,
            **JOB_DEFAULTS,
        )


def crawl_argv(python: str, config_dir: Path, job: CrawlJob) -> list[str]:
    """The crawl subprocess; the database URL goes in the environment (not in `ps`)."""
    argv = [python, "-m", "monitor", "--config", str(config_dir), "crawl", "--quiet", "--json"]
    for name in job.sources:
        argv += ["--source", name]
    return argv


def parse_summary(stdout: str) -> dict[str, Any] | None:
    try:
        found = json.loads(stdout)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def describe_crawl(job: CrawlJob, result: ProcessResult, summary: dict[str, Any] | None) -> str:
    text = f"{job.id}: {result.describe()}"
    if summary is not None:
        sources = summary.get("sources") or []
        new = sum(int(s.get("new", 0)) for s in sources)
        errors = sum(int(s.get("errors", 0)) for s in sources)
        text += f"; run {summary.get('run_id')}: {new} new, {errors} errors"
    elif result.outcome != "ok":
        tail = [ln for ln in result.stderr_tail.splitlines() if ln.strip()][-1:]
        text += f"; {tail[0][-300:]}" if tail else ""
    return text
