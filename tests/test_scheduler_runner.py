"""The scheduler's database glue, without subprocesses: a killed crawl's run record is
closed, a lost lock stops the scheduler, a second scheduler is refused with a message."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from monitor.config import AppConfig, load_config
from monitor.crawl_process import ProcessResult
from monitor.scheduler import Runner
from storage import scheduler_state as state
from storage.models import CrawlRun, ScheduledCrawl
from storage.runs import start_run
from tests.conftest import FIXTURES, fixture_sources, write_config

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _config(tmp_path: Path) -> AppConfig:
    toml = "[schedule]\nheartbeat_seconds = 10\nstale_after_heartbeats = 3\n"
    directory = write_config(
        tmp_path / "config",
        fixture_sources("http://127.0.0.1:9"),
        toml,
        topics=FIXTURES / "topics_small.toml",
    )
    return load_config(directory, env={})


def _crawl_with_an_open_run(
    tmp_path: Path, database_url: str
) -> tuple[Runner, Engine, int, int, int]:
    """A scheduled crawl begun, and the run row its process wrote before it ended."""
    runner = Runner(_config(tmp_path), database_url, clock=Clock(T0), out=io.StringIO())
    runner.open()
    (job,) = runner.plan.crawls
    crawl_id, before = runner._begin_crawl(job)
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        run_id = start_run(session, "crawl", T0).id
    return runner, engine, crawl_id, before, run_id


def test_a_killed_crawls_open_run_is_closed(tmp_path: Path, database_url: str) -> None:
    runner, engine, crawl_id, before, run_id = _crawl_with_an_open_run(tmp_path, database_url)
    killed = ProcessResult(4242, -9, "timeout", "", "still fetching\n", 3600.0, killed=True)
    runner._end_crawl(crawl_id, before, killed, None)
    runner.release()
    runner.engine.dispose()
    with Session(engine) as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None and run.status == "killed" and run.finished == T0
        assert run.finish_reason == "killed by newsmon run (timeout)"
        crawl = session.get(ScheduledCrawl, crawl_id)
        assert crawl is not None
        assert (crawl.outcome, crawl.exit_code, crawl.crawl_run_id) == ("timeout", -9, run_id)
        assert "still fetching" in crawl.detail
    engine.dispose()


def test_a_crawl_that_exits_before_finishing_its_run_leaves_it_closed(
    tmp_path: Path, database_url: str
) -> None:
    """A SIGTERM during start-up: the process exits on its own, without Scrapy's
    spider_closed, and its run row would say "running" for ever."""
    runner, engine, crawl_id, before, run_id = _crawl_with_an_open_run(tmp_path, database_url)
    stopped = ProcessResult(4243, 1, "stopped", "", "shutting down\n", 2.0)
    runner._end_crawl(crawl_id, before, stopped, None)
    runner.release()
    runner.engine.dispose()
    with Session(engine) as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None and run.status == "interrupted" and run.finished == T0
        assert run.finish_reason == (
            "the crawl process ended without finishing its run: stopped (exit code 1, 2.0 s)"
        )
        crawl = session.get(ScheduledCrawl, crawl_id)
        assert crawl is not None and crawl.crawl_run_id == run_id
    engine.dispose()


def test_second_scheduler_is_refused_and_a_lost_lock_stops_the_first(
    tmp_path: Path, database_url: str
) -> None:
    config = _config(tmp_path)
    clock = Clock(T0)
    first = Runner(config, database_url, clock=clock, out=io.StringIO())
    first.open()

    out = io.StringIO()
    second = Runner(config, database_url, clock=Clock(T0 + timedelta(seconds=5)), out=out)
    assert asyncio.run(second.main()) == 1
    assert "another `newsmon run` (pid" in out.getvalue()
    assert "wait 25 s until its lock goes stale" in out.getvalue()

    # The first stops beating (suspended, say); a third process takes the stale lock.
    third = Runner(config, database_url, clock=Clock(T0 + timedelta(seconds=31)))
    third.open()
    clock.now = T0 + timedelta(seconds=40)
    asyncio.run(first.heartbeat_job())
    assert first.stop.is_set() and first.exit_code == 1
    with Session(third.engine) as session:
        lock = state.read_lock(session)
        assert lock is not None and lock.holder == third.holder
    third.release()
    for runner in (first, third):
        runner.engine.dispose()
