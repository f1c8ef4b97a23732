"""The jobs as APScheduler runs them, with the scheduler's clock injected: coalescing of
missed runs, at most one running instance per job, digest and alert slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import apscheduler.schedulers.base as aps_base
import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.base import BaseScheduler

from monitor.crawl_process import ProcessResult
from monitor.schedule_plan import CrawlJob, plan_jobs
from monitor.schedule_settings import DigestSettings, ScheduleSettings
from monitor.scheduler_jobs import add_plan_jobs, crawl_argv, describe_crawl, hook_kwargs

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


class RecordingExecutor(BaseExecutor):  # type: ignore[misc]
    """Records submissions instead of running them; ``finish`` ends an instance."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[tuple[str, list[datetime]]] = []

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self.submitted.append((job.id, list(run_times)))

    def finish(self, job_id: str) -> None:
        self._run_job_success(job_id, [])


class ManualScheduler(BaseScheduler):  # type: ignore[misc]
    """A scheduler that only processes jobs when the test says so."""

    def __init__(self, executor: RecordingExecutor) -> None:
        super().__init__(timezone=UTC)
        self.recorder = executor

    def _create_default_executor(self) -> RecordingExecutor:
        return self.recorder

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(T0)

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return clock.now.astimezone(tz)

    monkeypatch.setattr(aps_base, "datetime", FakeDatetime)
    return clock


@dataclass(frozen=True)
class Src:
    name: str
    group: str = "default"
    enabled: bool = True


async def _noop(*args: Any) -> None:
    return None


def _scheduler(alerts: bool = False) -> tuple[ManualScheduler, RecordingExecutor]:
    schedule = ScheduleSettings(crawl_interval_minutes=10, jitter_seconds=0)
    digest = DigestSettings(time="07:00", timezone="Europe/Berlin")
    plan = plan_jobs([Src("a"), Src("b")], schedule, digest, alerts_available=alerts)
    executor = RecordingExecutor()
    sched = ManualScheduler(executor)
    add_plan_jobs(
        sched,
        plan,
        now=T0,
        last_started={},
        crawl=_noop,
        digest=_noop,
        alerts=_noop if alerts else None,
    )
    sched.start()
    return sched, executor


def test_jobs_are_single_instance_and_coalescing() -> None:
    sched, _ = _scheduler(alerts=True)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"crawl:default", "digest", "alerts"}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
    assert jobs["crawl:default"].next_run_time == T0
    assert jobs["crawl:default"].args[0].sources == ("a", "b")
    assert jobs["digest"].next_run_time == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert jobs["alerts"].next_run_time == T0 + timedelta(minutes=1)


def test_missed_runs_are_coalesced_into_one(clock: Clock) -> None:
    sched, executor = _scheduler()
    clock.now = T0 + timedelta(minutes=35)  # T0, +10, +20 and +30 were all missed
    sched._process_jobs()
    crawls = [s for s in executor.submitted if s[0] == "crawl:default"]
    assert crawls == [("crawl:default", [T0 + timedelta(minutes=30)])]
    assert sched.get_job("crawl:default").next_run_time == T0 + timedelta(minutes=40)


def test_a_running_crawl_is_not_started_twice(clock: Clock) -> None:
    sched, executor = _scheduler()
    skipped: list[str] = []

    def on_skip(event: JobSubmissionEvent) -> None:
        skipped.append(event.job_id)

    sched.add_listener(on_skip, EVENT_JOB_MAX_INSTANCES)
    sched._process_jobs()  # T0: starts
    clock.now = T0 + timedelta(minutes=10)
    sched._process_jobs()  # still running: skipped, not queued
    assert [s[0] for s in executor.submitted] == ["crawl:default"]
    assert skipped == ["crawl:default"]
    assert sched.get_job("crawl:default").next_run_time == T0 + timedelta(minutes=20)
    executor.finish("crawl:default")
    clock.now = T0 + timedelta(minutes=20)
    sched._process_jobs()
    assert [s[0] for s in executor.submitted] == ["crawl:default", "crawl:default"]


def test_digest_fires_once_a_day_at_its_local_time(clock: Clock) -> None:
    sched, executor = _scheduler()
    clock.now = datetime(2026, 11, 27, 5, 59, tzinfo=UTC)
    sched._process_jobs()
    assert not [s for s in executor.submitted if s[0] == "digest"]
    clock.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # two days later: coalesced
    sched._process_jobs()
    digests = [s for s in executor.submitted if s[0] == "digest"]
    assert digests == [("digest", [datetime(2026, 11, 29, 6, 0, tzinfo=UTC)])]


def test_crawl_subprocess_command_line_keeps_the_url_out() -> None:
    job = CrawlJob("g", ("a", "b"), timedelta(minutes=5), None, timedelta(minutes=1))
    from pathlib import Path

    argv = crawl_argv("/py", Path("/cfg"), job)
    assert argv == [
        "/py", "-m", "monitor", "--config", "/cfg", "crawl", "--quiet", "--json",
        "--source", "a", "--source", "b",
    ]  # fmt: skip
    result = ProcessResult(1, 1, "failed", "", "boom\nERROR: all sources failed\n", 2.5)
    assert describe_crawl(job, result, None).endswith("ERROR: all sources failed")
    ok = ProcessResult(1, 0, "ok", "", "", 2.5)
    summary = {"run_id": 7, "sources": [{"new": 2, "errors": 1}, {"new": 1, "errors": 0}]}
    assert describe_crawl(job, ok, summary).endswith("run 7: 3 new, 1 errors")


def test_alert_hook_gets_the_arguments_it_names() -> None:
    def deliver_pending(engine: object, now: datetime) -> None: ...

    def anything(**kwargs: object) -> None: ...

    available = {"engine": 1, "config": 2, "now": 3}
    assert hook_kwargs(deliver_pending, available) == {"engine": 1, "now": 3}
    assert hook_kwargs(anything, available) == available
