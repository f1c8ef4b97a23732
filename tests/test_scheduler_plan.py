"""The schedule plan with an injected clock: groups, intervals, cron and DST, catch-up."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import ConfigError, load_config
from monitor.schedule_plan import (
    CrawlJob,
    DigestJob,
    GridIntervalTrigger,
    crawl_trigger,
    digest_day,
    digest_moment,
    digest_trigger,
    first_crawl_time,
    missed_digests,
    plan_jobs,
    preview,
)
from monitor.schedule_settings import (
    DigestSettings,
    GroupSchedule,
    ScheduleSettings,
    cron_trigger,
)
from tests.conftest import FIXTURES, write_config

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Src:
    name: str
    group: str = "default"
    enabled: bool = True


def _fires(trigger: object, now: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    prev = None
    for _ in range(count):
        nxt = trigger.get_next_fire_time(prev, now)  # type: ignore[attr-defined]
        assert nxt is not None
        out.append(nxt)
        prev, now = nxt, nxt
    return out


def test_plan_groups_enabled_sources_and_applies_overrides() -> None:
    schedule = ScheduleSettings(
        crawl_interval_minutes=30,
        groups={
            "wires": GroupSchedule(interval_minutes=10, timeout_minutes=5),
            "weekly": GroupSchedule(cron="0 6 * * 1"),
            "off": GroupSchedule(enabled=False),
            "ghost": GroupSchedule(interval_minutes=1),
        },
    )
    sources = [
        Src("b"),
        Src("a"),
        Src("disabled", enabled=False),
        Src("ap", "wires"),
        Src("mag", "weekly"),
        Src("x", "off"),
    ]
    plan = plan_jobs(sources, schedule, DigestSettings(), alerts_available=False)
    jobs = {j.group: j for j in plan.crawls}
    assert set(jobs) == {"default", "wires", "weekly"}
    assert jobs["default"].sources == ("a", "b")
    assert jobs["default"].interval == timedelta(minutes=30)
    assert jobs["default"].timeout == timedelta(minutes=60)
    assert jobs["wires"].interval == timedelta(minutes=10)
    assert jobs["wires"].timeout == timedelta(minutes=5)
    assert jobs["weekly"].cron == "0 6 * * 1" and jobs["weekly"].interval is None
    assert plan.alerts_every is None
    assert plan.warnings == ("[schedule.groups.ghost] names no group of enabled sources",)


def test_grid_interval_fires_on_the_grid_and_jitter_does_not_drift() -> None:
    draws = iter([0.9, 0.1, 0.5, 0.99, 0.0])
    trigger = GridIntervalTrigger(
        T0, timedelta(minutes=30), timedelta(seconds=60), rng=lambda: next(draws)
    )
    fires = _fires(trigger, T0, 5)
    offsets = [54, 6, 30, 59.4, 0]
    for k, (fire, off) in enumerate(zip(fires, offsets, strict=True)):
        assert fire == T0 + k * timedelta(minutes=30) + timedelta(seconds=off)


@given(
    st.floats(min_value=1, max_value=86400),
    st.floats(min_value=0, max_value=3600),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=10**7),
)
def test_grid_interval_next_fire_is_after_now_within_one_interval_plus_jitter(
    interval_s: float, jitter_s: float, draw: float, elapsed_s: int
) -> None:
    interval, jitter = timedelta(seconds=interval_s), timedelta(seconds=jitter_s)
    trigger = GridIntervalTrigger(T0, interval, jitter, rng=lambda: draw)
    now = T0 + timedelta(seconds=elapsed_s)
    nxt = trigger.get_next_fire_time(None, now)
    assert nxt is not None
    assert now <= nxt <= now + interval + min(jitter, interval / 2) + timedelta(microseconds=2)


def test_interval_is_absolute_time_across_dst() -> None:
    # Europe/Berlin falls back on 2026-10-25 03:00 CEST -> 02:00 CET.
    anchor = datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)
    trigger = GridIntervalTrigger(anchor, timedelta(hours=1))
    fires = _fires(trigger, anchor, 5)
    gaps = {b - a for a, b in itertools.pairwise(fires)}
    assert gaps == {timedelta(hours=1)}
    local = [f.astimezone(BERLIN).strftime("%H:%M%z") for f in fires]
    assert local == ["00:30+0200", "01:30+0200", "02:30+0200", "02:30+0100", "03:30+0100"]


def test_first_crawl_waits_for_the_interval_after_the_last_one() -> None:
    every = timedelta(minutes=30)
    assert first_crawl_time(None, every, T0) == T0
    assert first_crawl_time(T0 - timedelta(hours=2), every, T0) == T0
    assert first_crawl_time(T0 - timedelta(minutes=10), every, T0) == T0 + timedelta(minutes=20)


def test_cron_group_follows_wall_clock_in_its_zone_across_dst() -> None:
    schedule = ScheduleSettings(
        timezone="Europe/Berlin",
        jitter_seconds=0,
        groups={"morning": GroupSchedule(cron="30 6 * * *")},
    )
    plan = plan_jobs([Src("s", "morning")], schedule, DigestSettings(), alerts_available=False)
    (job,) = plan.crawls
    # Spring forward on 2026-03-29: 06:30 CET is 05:30 UTC, 06:30 CEST is 04:30 UTC.
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    fires = _fires(crawl_trigger(job, plan, now=now), now, 3)
    assert [f.astimezone(UTC).strftime("%m-%d %H:%M") for f in fires] == [
        "03-28 05:30",
        "03-29 04:30",
        "03-30 04:30",
    ]
    assert {f.astimezone(BERLIN).strftime("%H:%M") for f in fires} == {"06:30"}


def test_digest_trigger_and_day_across_dst() -> None:
    job = DigestJob(7, 0, BERLIN)
    now = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)
    fires = _fires(digest_trigger(job), now, 3)
    assert [f.astimezone(UTC).strftime("%m-%d %H:%M") for f in fires] == [
        "10-24 05:00",
        "10-25 06:00",  # after falling back, 07:00 CET is 06:00 UTC
        "10-26 06:00",
    ]
    assert [digest_day(f, BERLIN) for f in fires] == [
        date(2026, 10, 23),
        date(2026, 10, 24),
        date(2026, 10, 25),
    ]
    assert digest_moment(date(2026, 10, 24), job) == fires[1]


def test_digest_time_in_the_spring_gap_is_an_hour_later() -> None:
    job = DigestJob(2, 30, BERLIN)  # 02:30 does not exist on 2026-03-29
    assert digest_moment(date(2026, 3, 28), job).astimezone(BERLIN).strftime("%H:%M") == "03:30"


def _job() -> DigestJob:
    return DigestJob(7, 0, BERLIN)


def test_catch_up_writes_digests_missed_while_down() -> None:
    first = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Berlin: today's 07:00 is past
    done = {date(2026, 11, 23)}
    plan = missed_digests(_job(), now, done=done, first_started=first, catch_up_days=3)
    assert plan.days == (date(2026, 11, 24), date(2026, 11, 25))
    assert plan.skipped == (date(2026, 11, 21), date(2026, 11, 22))


def test_catch_up_before_the_digest_time_waits_for_the_job() -> None:
    first = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    now = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    done = {date(2026, 11, d) for d in (21, 22, 23)}
    plan = missed_digests(_job(), now, done=done, first_started=first, catch_up_days=3)
    assert plan.days == (date(2026, 11, 24),)  # the 25th is due at 07:00, by the job


def test_catch_up_on_a_first_start_writes_only_the_latest() -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    plan = missed_digests(_job(), now, done=set(), first_started=now, catch_up_days=3)
    assert plan.days == (date(2026, 11, 25),)
    assert plan.skipped == ()


def test_catch_up_is_idempotent_once_recorded() -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    first = now - timedelta(days=10)
    plan = missed_digests(_job(), now, done=set(), first_started=first, catch_up_days=2)
    again = missed_digests(_job(), now, done=set(plan.days), first_started=first, catch_up_days=2)
    assert plan.days and again.days == ()


def test_preview_shows_next_runs_without_a_scheduler() -> None:
    schedule = ScheduleSettings(
        timezone="Europe/Berlin", groups={"m": GroupSchedule(cron="0 6 * * *")}
    )
    digest = DigestSettings(time="07:15", timezone="Europe/Berlin")
    plan = plan_jobs([Src("a"), Src("b", "m")], schedule, digest, alerts_available=True)
    last = {"crawl:default": T0 - timedelta(minutes=10)}

    def last_started(job: CrawlJob) -> datetime | None:
        return last.get(job.id)

    rows = {r.id: r for r in preview(plan, T0, last_started)}
    assert rows["crawl:default"].next_run == T0 + timedelta(minutes=20)
    assert rows["crawl:default"].detail == "a"
    assert rows["crawl:m"].next_run == datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    assert rows["digest"].next_run == datetime(2026, 11, 27, 6, 15, tzinfo=UTC)
    assert rows["alerts"].rule == "every 1 min"


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ('[schedule.groups.x]\ncron = "61 * * * *"', "schedule.groups.x.cron", "crontab"),
        (
            '[schedule.groups.x]\ncron = "0 6 * * *"\ninterval_minutes = 5',
            "schedule.groups.x",
            "not both",
        ),
        ('[schedule]\ntimezone = "Mars/Olympus"', "schedule.timezone", "unknown time zone"),
        ('[digest]\ntime = "7am"', "digest.time", "HH:MM"),
        ('[digest]\nformats = ["pdf"]', "digest.formats", "unknown digest format"),
        ("[schedule]\nstop_grace_seconds = 40", "schedule.stop_grace_seconds", "25"),
    ],
)
def test_bad_schedule_settings_are_config_errors(
    tmp_path: Path, toml: str, key: str, words: str
) -> None:
    directory = write_config(tmp_path / "c", "", toml, topics=FIXTURES / "topics_small.toml")
    with pytest.raises(ConfigError) as err:
        load_config(directory, env={})
    assert err.value.key == key
    assert words in err.value.problem


def test_schedule_settings_load_from_newsmon_toml(tmp_path: Path) -> None:
    toml = """
[schedule]
crawl_interval_minutes = 0.05
jitter_seconds = 0
[schedule.groups.wires]
interval_minutes = 10
[digest]
time = "06:45"
timezone = "Europe/Berlin"
formats = ["html", "md", "html"]
"""
    directory = write_config(tmp_path / "c", "", toml, topics=FIXTURES / "topics_small.toml")
    settings = load_config(directory, env={}).settings
    assert settings.schedule.crawl_interval_minutes == 0.05
    assert settings.schedule.groups["wires"].interval_minutes == 10
    assert settings.digest.hour_minute == (6, 45)
    assert settings.digest.formats == ["html", "md"]


@pytest.mark.parametrize(
    ("field", "days"),
    [("1-5", {0, 1, 2, 3, 4}), ("0", {6}), ("7", {6}), ("5-7", {4, 5, 6}), ("*/2", {6, 1, 3, 5})],
)
def test_cron_weekday_numbers_are_crontab_numbers(field: str, days: set[int]) -> None:
    trigger = cron_trigger(f"0 9 * * {field}", BERLIN)
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=BERLIN)
    fires = _fires(trigger, monday, 7)
    assert {f.weekday() for f in fires} == days  # datetime: Monday = 0
