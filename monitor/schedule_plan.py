"""What `newsmon run` schedules, and when: pure decisions with the clock passed in.

No I/O here: the scheduler glue (monitor.scheduler) and `newsmon status` both ask this
module which jobs exist, when each fires next, and which digests were missed, so the
status shown without a running scheduler is the one a scheduler would follow.

Crawl intervals are laid on a fixed grid in absolute time (``anchor + k * interval``)
with jitter added per run and not carried into the next one, so jitter never makes a
group drift, and an interval is the same number of seconds across a DST change. Cron
groups and the digest follow wall-clock time in their zone (07:00 stays 07:00).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from monitor.schedule_settings import DigestSettings, ScheduleSettings, cron_trigger

CRAWL_PREFIX = "crawl:"
DIGEST_JOB = "digest"
ALERTS_JOB = "alerts"


class SourceLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def enabled(self) -> bool: ...


def zone(name: str | None) -> tzinfo:
    """The named IANA zone, or the machine's local zone (with its DST rules)."""
    if name:
        return ZoneInfo(name)
    import tzlocal

    return tzlocal.get_localzone()


@dataclass(frozen=True)
class CrawlJob:
    """One source group, crawled by one subprocess at a time."""

    group: str
    sources: tuple[str, ...]
    interval: timedelta | None
    cron: str | None
    timeout: timedelta

    @property
    def id(self) -> str:
        return CRAWL_PREFIX + self.group

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron '{self.cron}'"
        assert self.interval is not None
        return f"every {_duration(self.interval)}"


@dataclass(frozen=True)
class DigestJob:
    hour: int
    minute: int
    tz: tzinfo

    def describe(self) -> str:
        return f"daily at {self.hour:02d}:{self.minute:02d} {self.tz}"


@dataclass(frozen=True)
class Plan:
    crawls: tuple[CrawlJob, ...]
    digest: DigestJob | None
    alerts_every: timedelta | None
    crawl_tz: tzinfo
    jitter: timedelta
    warnings: tuple[str, ...] = ()


def _duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def plan_jobs(
    sources: Iterable[SourceLike],
    schedule: ScheduleSettings,
    digest: DigestSettings,
    *,
    alerts_available: bool,
) -> Plan:
    """The jobs for this configuration: one crawl job per group of enabled sources."""
    by_group: dict[str, list[str]] = {}
    for src in sources:
        if src.enabled:
            by_group.setdefault(src.group, []).append(src.name)
    warnings = [
        f"[schedule.groups.{name}] names no group of enabled sources"
        for name in sorted(set(schedule.groups) - set(by_group))
    ]
    crawls = []
    for group in sorted(by_group):
        rule = schedule.groups.get(group)
        if rule is not None and not rule.enabled:
            continue
        cron = rule.cron if rule else None
        minutes = (rule.interval_minutes if rule else None) or schedule.crawl_interval_minutes
        timeout = (rule.timeout_minutes if rule else None) or schedule.crawl_timeout_minutes
        crawls.append(
            CrawlJob(
                group=group,
                sources=tuple(sorted(by_group[group])),
                interval=None if cron else timedelta(minutes=minutes),
                cron=cron,
                timeout=timedelta(minutes=timeout),
            )
        )
    digest_job = None
    if digest.enabled:
        hour, minute = digest.hour_minute
        digest_job = DigestJob(hour, minute, zone(digest.timezone))
    return Plan(
        crawls=tuple(crawls),
        digest=digest_job,
        alerts_every=timedelta(minutes=schedule.alerts_interval_minutes)
        if alerts_available
        else None,
        crawl_tz=zone(schedule.timezone),
        jitter=timedelta(seconds=schedule.jitter_seconds),
        warnings=tuple(warnings),
    )


class GridIntervalTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at ``anchor + k * interval`` plus a fresh random jitter each time.

    The next fire time is computed from the grid point of the previous one, so jitter
    does not accumulate (APScheduler's IntervalTrigger adds it to the next interval).
    Jitter is capped at half the interval so that runs never swap order.
    """

    def __init__(
        self,
        anchor: datetime,
        interval: timedelta,
        jitter: timedelta = timedelta(0),
        rng: Callable[[], float] = random.random,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        self.anchor = anchor.astimezone(UTC)
        self.interval = interval
        self.jitter = min(jitter, interval / 2)
        self.rng = rng

    def _grid_index(self, moment: datetime) -> float:
        return (moment.astimezone(UTC) - self.anchor) / self.interval

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            k = max(0, math.ceil(self._grid_index(now)))
        else:
            k = max(0, math.floor(self._grid_index(previous_fire_time)) + 1)
        return self.anchor + k * self.interval + self.rng() * self.jitter

    def __str__(self) -> str:
        return f"grid[{self.anchor.isoformat()} + k * {self.interval}, jitter {self.jitter}]"


def first_crawl_time(last_started: datetime | None, interval: timedelta, now: datetime) -> datetime:
    """When an interval group first runs after start: now if its last crawl is older
    than the interval (or there is none), else one interval after that crawl (so a
    restart does not re-crawl everything at once)."""
    if last_started is None:
        return now
    return max(now, last_started + interval)


def crawl_trigger(
    job: CrawlJob,
    plan: Plan,
    *,
    now: datetime,
    last_started: datetime | None = None,
    rng: Callable[[], float] = random.random,
) -> BaseTrigger:
    if job.cron is not None:
        return cron_trigger(job.cron, plan.crawl_tz, plan.jitter.total_seconds())
    assert job.interval is not None
    anchor = first_crawl_time(last_started, job.interval, now)
    return GridIntervalTrigger(anchor, job.interval, plan.jitter, rng)


def digest_trigger(job: DigestJob) -> CronTrigger:
    return CronTrigger(hour=job.hour, minute=job.minute, timezone=job.tz)


def digest_day(fire_time: datetime, tz: tzinfo) -> date:
    """The day a digest fired at ``fire_time`` covers: the day before, in ``tz``."""
    return fire_time.astimezone(tz).date() - timedelta(days=1)


def digest_moment(day: date, job: DigestJob) -> datetime:
    """When the digest of ``day`` is due: the next day at the digest time, in UTC.

    A digest time that does not exist that night (the spring-forward gap) is read with
    the offset before the change, i.e. one hour later on the wall clock.
    """
    local = datetime.combine(day + timedelta(days=1), time(job.hour, job.minute), tzinfo=job.tz)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class CatchUp:
    """Digests to write at start, oldest first."""

    days: tuple[date, ...] = ()
    skipped: tuple[date, ...] = field(default=())


def missed_digests(
    job: DigestJob,
    now: datetime,
    *,
    done: Collection[date],
    first_started: datetime | None,
    catch_up_days: int,
) -> CatchUp:
    """Which digests are due and not written yet.

    The latest due digest is always written if missing (a first start at 09:00 writes
    yesterday's). Older ones are written if they fell due while this database already
    had a scheduler (``first_started``) and within ``catch_up_days``; older misses are
    reported as skipped.
    """
    today = now.astimezone(job.tz).date()
    candidates = [
        today - timedelta(days=back) for back in range(catch_up_days + 2, -1, -1)
    ]  # days whose digest may be due by now, oldest first
    due = [d for d in candidates if digest_moment(d, job) <= now]
    if not due:
        return CatchUp()
    latest = due[-1]
    horizon = now - timedelta(days=catch_up_days)
    days: list[date] = []
    skipped: list[date] = []
    for d in due:
        if d in done:
            continue
        moment = digest_moment(d, job)
        recent = moment > horizon and (first_started is None or moment >= first_started)
        if d == latest or recent:
            days.append(d)
        elif first_started is not None and moment >= first_started:
            skipped.append(d)
    return CatchUp(tuple(days), tuple(skipped))


@dataclass(frozen=True)
class JobPreview:
    """One line of `newsmon status`: a job, its rule, and when it runs next."""

    id: str
    rule: str
    next_run: datetime | None
    detail: str = ""


def preview(
    plan: Plan,
    now: datetime,
    last_started: Callable[[CrawlJob], datetime | None],
) -> list[JobPreview]:
    """Next run times without jitter, as a scheduler started ``now`` would follow."""
    rows = []
    for job in plan.crawls:
        if job.cron is not None:
            trigger: BaseTrigger = cron_trigger(job.cron, plan.crawl_tz)
            nxt = trigger.get_next_fire_time(None, now)
        else:
            assert job.interval is not None
            nxt = first_crawl_time(last_started(job), job.interval, now)
        rows.append(JobPreview(job.id, job.describe(), nxt, ", ".join(job.sources)))
    if plan.digest is not None:
        nxt = digest_trigger(plan.digest).get_next_fire_time(None, now)
        rows.append(JobPreview(DIGEST_JOB, plan.digest.describe(), nxt))
    if plan.alerts_every is not None:
        rows.append(
            JobPreview(ALERTS_JOB, f"every {_duration(plan.alerts_every)}", now + plan.alerts_every)
        )
    return rows


def sources_of(jobs: Sequence[CrawlJob]) -> dict[str, str]:
    """source name -> job id, for the sources some job crawls."""
    return {name: job.id for job in jobs for name in job.sources}
