"""`[schedule]` and `[digest]` of newsmon.toml: what `newsmon run` does, and when.

Validated at config load (like every other table), so a bad cron expression or an
unknown time zone stops `newsmon run` before it takes the database lock.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
DEFAULT_DIGEST_FORMATS = ["html", "md", "json", "csv", "atom"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (an IANA name such as Europe/Berlin or UTC)"
        ) from None
    return value


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 or 7 = Sunday) as APScheduler weekday names.

    APScheduler 3 reads weekday numbers with 0 = Monday (its from_crontab keeps that
    mismatch); names mean the same in both, so numbers are translated to names.
    """
    if field == "*" or any(c.isalpha() for c in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        every = int(step) if step else 1
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = int(first), int(last)
        else:
            low = high = int(span)
        if not (0 <= low <= high <= 7) or every < 1:
            raise ValueError(f"bad weekday {part!r} (0-7, 0 and 7 are Sunday)")
        days.update(d % 7 for d in range(low, high + 1, every))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def cron_trigger(expr: str, tz: tzinfo | str, jitter: float = 0) -> CronTrigger:
    """A 5-field crontab line ('minute hour day month weekday') as a CronTrigger in ``tz``."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_weekdays(weekday),
        timezone=tz,
        jitter=int(jitter) or None,
    )


class GroupSchedule(_Strict):
    """`[schedule.groups.NAME]`: overrides for the sources whose `group` is NAME."""

    enabled: bool = Field(True, description="false: `newsmon run` never crawls this group.")
    interval_minutes: float | None = Field(
        None, gt=0, description="Crawl every N minutes (default: schedule.crawl_interval_minutes)."
    )
    cron: str | None = Field(
        None,
        description="Crawl at these times instead, as a 5-field crontab line "
        "('minute hour day month weekday', e.g. '15 6-22 * * *'), in schedule.timezone.",
    )
    timeout_minutes: float | None = Field(
        None, gt=0, description="Overrides schedule.crawl_timeout_minutes for this group."
    )

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                cron_trigger(value, "UTC")
            except ValueError as exc:
                raise ValueError(f"not a crontab expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> GroupSchedule:
        if self.cron is not None and self.interval_minutes is not None:
            raise ValueError("give either interval_minutes or cron, not both")
        return self


class ScheduleSettings(_Strict):
    """`[schedule]`: crawl jobs, their limits, and the single-instance lock."""

    timezone: str | None = Field(
        None, description="IANA time zone for cron groups (default: the machine's local zone)."
    )
    crawl_interval_minutes: float = Field(
        30.0,
        gt=0,
        description="Each source group is crawled this often (fractions allowed, for tests).",
    )
    jitter_seconds: float = Field(
        60.0, ge=0, description="Each crawl starts up to this many seconds late, at random."
    )
    crawl_timeout_minutes: float = Field(
        60.0, gt=0, description="A crawl still running after this is stopped (SIGTERM)."
    )
    stop_grace_seconds: float = Field(
        20.0,
        gt=0,
        le=25,
        description="Seconds a stopped crawl gets to finish cleanly before SIGKILL "
        "(at most 25, so `newsmon run` exits within 30 s of SIGTERM).",
    )
    max_concurrent_crawls: int = Field(
        1, ge=1, le=16, description="Crawl subprocesses running at the same time."
    )
    alerts_interval_minutes: float = Field(
        1.0, gt=0, description="How often pending alerts are delivered (when alerts exist)."
    )
    heartbeat_seconds: float = Field(
        15.0, gt=0, description="How often `newsmon run` renews its lock in the database."
    )
    stale_after_heartbeats: int = Field(
        4,
        ge=2,
        description="A lock whose heartbeat is this many periods old belongs to a dead "
        "process and may be taken over.",
    )
    groups: dict[str, GroupSchedule] = Field(
        default_factory=dict, description="Per-group overrides, by group name."
    )

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return check_zone(value)

    @property
    def stale_after_seconds(self) -> float:
        return self.heartbeat_seconds * self.stale_after_heartbeats


class DigestSettings(_Strict):
    """`[digest]`: the daily digest that `newsmon run` writes (and e-mails)."""

    enabled: bool = Field(True, description="false: `newsmon run` writes no digest.")
    time: str = Field(
        "07:00",
        description="Local time (HH:MM, in digest.timezone) at which yesterday's digest "
        "is written.",
    )
    timezone: str | None = Field(
        None, description="IANA time zone of the digest day (default: the machine's zone)."
    )
    formats: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DIGEST_FORMATS),
        description="Files written per day: html, md, txt, csv, json, atom.",
    )
    directory: str = Field(
        "digests",
        description="Where digests/YYYY-MM-DD.<ext> go (relative to the working directory).",
    )
    email: bool = Field(True, description="Also e-mail it when [smtp] is configured.")
    catch_up_days: int = Field(
        3,
        ge=0,
        le=60,
        description="At start, digests missed while newsmon was down are written, this "
        "many days back at most.",
    )

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return check_zone(value)

    @field_validator("time")
    @classmethod
    def _check_time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"not a time of day {value!r} (use HH:MM, e.g. 07:00)")
        return value

    @field_validator("formats")
    @classmethod
    def _check_formats(cls, value: list[str]) -> list[str]:
        from monitor.digest_render import FORMATS

        unknown = [f for f in value if f not in FORMATS]
        if unknown:
            raise ValueError(
                f"unknown digest format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
            )
        return list(dict.fromkeys(value))

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)
