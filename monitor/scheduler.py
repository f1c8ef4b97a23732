"""`newsmon run`: the long-running APScheduler process (glue; decisions in schedule_plan).

One AsyncIOScheduler on one asyncio loop: crawl jobs (each crawl a supervised subprocess,
monitor.crawl_process), the daily digest (monitor.scheduled_digest), alert delivery
(``monitor.alerts.deliver_pending`` when that exists), and the lock heartbeat. Every job
runs at most one instance at a time and misfires are coalesced into one run. Database
work runs in threads so a slow commit never stalls the loop.

Stop: SIGTERM or SIGINT sets one event; running crawls get SIGTERM (Scrapy finishes its
run record), SIGKILL after ``stop_grace_seconds``, then the lock is released.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from monitor.crawl_process import ProcessResult, run_supervised
from monitor.schedule_plan import CrawlJob, digest_day, missed_digests, plan_jobs
from monitor.scheduled_digest import ScheduledDigest
from monitor.scheduler_jobs import (
    HEARTBEAT_JOB,
    JOB_DEFAULTS,
    add_plan_jobs,
    crawl_argv,
    describe_crawl,
    find_alerts_hook,
    hook_kwargs,
    parse_summary,
    settings_of,
    utcnow,
)
from storage import scheduler_state as state
from storage.engine import open_database, session_factory

logger = logging.getLogger(__name__)


class Runner:
    """One `newsmon run` process."""

    def __init__(
        self,
        config: Any,
        database_url: str,
        *,
        out: TextIO | None = None,
        clock: Callable[[], datetime] = utcnow,
        python: str = sys.executable,
    ) -> None:
        self.config = config
        self.database_url = database_url
        self.schedule, self.digest_settings = settings_of(config)
        self.out = out or sys.stderr
        self.clock = clock
        self.python = python
        self.holder = f"pid {os.getpid()} on {socket.gethostname()} [{uuid.uuid4().hex[:8]}]"
        self.stop = asyncio.Event()
        self.exit_code = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self.alerts_hook = find_alerts_hook()
        self.plan = plan_jobs(
            config.sources,
            self.schedule,
            self.digest_settings,
            alerts_available=self.alerts_hook is not None,
        )
        self.sessions: sessionmaker[Session] | None = None
        self.engine: Any = None
        self.scheduler: AsyncIOScheduler | None = None
        self.digests: ScheduledDigest | None = None
        self.first_started: datetime | None = None
        self._slots = asyncio.Semaphore(self.schedule.max_concurrent_crawls)
        self._digest_lock = asyncio.Lock()

    def say(self, message: str) -> None:
        stamp = self.clock().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} newsmon run: {message}", file=self.out, flush=True)

    # -- database (called in worker threads) ------------------------------------------

    def _db(self) -> Session:
        assert self.sessions is not None
        return self.sessions()

    def open(self) -> None:
        """Open the database and take the lock (raises LockHeld)."""
        self.engine = open_database(self.database_url)
        self.sessions = session_factory(self.engine)
        with self._db() as session, session.begin():
            info = state.acquire_lock(
                session, self.holder, self.clock(), self.schedule.stale_after_seconds
            )
            self.first_started = info.first_started
            abandoned = state.abandon_running_crawls(session, self.clock())
        if abandoned:
            self.say(f"{abandoned} crawl(s) left running by a previous scheduler marked abandoned")

    def prepare_digests(self) -> None:
        if self.plan.digest is not None and self.sessions is not None:
            self.digests = ScheduledDigest(
                self.config, self.digest_settings, self.sessions, self.plan.digest.tz, self.clock
            )

    def _heartbeat(self) -> bool:
        jobs = []
        if self.scheduler is not None:
            for job in self.scheduler.get_jobs():
                nxt = job.next_run_time
                crawl = job.args[0] if job.args and isinstance(job.args[0], CrawlJob) else None
                jobs.append(
                    {
                        "id": job.id,
                        "rule": job.name,
                        "next_run": nxt and nxt.isoformat(),
                        "detail": ", ".join(crawl.sources) if crawl else "",
                    }
                )
        with self._db() as session, session.begin():
            return state.renew_lock(session, self.holder, self.clock(), jobs)

    def release(self) -> None:
        with self._db() as session, session.begin():
            state.release_lock(session, self.holder)

    def _last_started(self) -> dict[str, datetime | None]:
        with self._db() as session:
            return {j.id: state.last_scheduled_start(session, j.id) for j in self.plan.crawls}

    def _begin_crawl(self, job: CrawlJob) -> tuple[int, int]:
        with self._db() as session, session.begin():
            before = state.max_crawl_run_id(session)
            row = state.start_scheduled_crawl(session, job.id, job.sources, self.clock())
            return row.id, before

    def _end_crawl(
        self, crawl_id: int, before: int, result: ProcessResult, summary: dict[str, Any] | None
    ) -> None:
        now = self.clock()
        run_id = summary.get("run_id") if summary else None
        detail = "" if result.outcome == "ok" else result.stderr_tail[-2000:]
        with self._db() as session, session.begin():
            # The process has ended, so a run row it left open can never be finished: it
            # was killed, or stopped before Scrapy closed the spider (a SIGTERM during
            # start-up). Its own row is the one its summary names, else, with one crawl at
            # a time (or one candidate), the one opened since it started.
            open_runs = state.open_crawl_runs_after(session, before)
            if isinstance(run_id, int):
                open_runs = [run for run in open_runs if run.id == run_id]
            elif len(open_runs) > 1 and self.schedule.max_concurrent_crawls > 1:
                open_runs = []
            for run in open_runs:
                state.close_crawl_run(
                    session,
                    run.id,
                    status="killed" if result.killed else "interrupted",
                    reason=(
                        f"killed by newsmon run ({result.outcome})"
                        if result.killed
                        else f"the crawl process ended without finishing its run: "
                        f"{result.describe()}"
                    ),
                    now=now,
                )
                run_id = run_id or run.id
            state.finish_scheduled_crawl(
                session,
                crawl_id,
                outcome=result.outcome,
                finished=now,
                exit_code=result.exit_code,
                pid=result.pid,
                crawl_run_id=run_id if isinstance(run_id, int) else None,
                detail=detail,
            )

    # -- jobs (coroutines on the loop) --------------------------------------------------

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def crawl_job(self, job: CrawlJob) -> None:
        self._track()
        async with self._slots:
            if self.stop.is_set():
                return
            crawl_id, before = await asyncio.to_thread(self._begin_crawl, job)
            self.say(f"{job.id}: crawling {', '.join(job.sources)}")
            env = {**os.environ, "NEWSMON_DATABASE_URL": self.database_url}
            result = await run_supervised(
                crawl_argv(self.python, Path(self.config.directory).resolve(), job),
                timeout=job.timeout.total_seconds(),
                grace=self.schedule.stop_grace_seconds,
                stop=self.stop,
                env=env,
                on_signal=lambda pid: self.say(f"{job.id}: SIGTERM sent to the crawl (pid {pid})"),
            )
            summary = parse_summary(result.stdout)
            await asyncio.to_thread(self._end_crawl, crawl_id, before, result, summary)
            self.say(describe_crawl(job, result, summary))

    async def _produce(self, days: list[date]) -> None:
        assert self.digests is not None
        async with self._digest_lock:
            for day in days:
                if self.stop.is_set():
                    return
                outcome = await asyncio.to_thread(self.digests.produce, day)
                self.say(outcome.describe())

    async def digest_job(self) -> None:
        self._track()
        assert self.plan.digest is not None
        await self._produce([digest_day(self.clock(), self.plan.digest.tz)])

    async def catch_up(self) -> None:
        self._track()
        job = self.plan.digest
        if job is None or self.digests is None:
            return
        now = self.clock()
        today = now.astimezone(job.tz).date()
        span = self.digest_settings.catch_up_days + 3
        recent = [today - timedelta(days=k) for k in range(span)]
        done = await asyncio.to_thread(self.digests.done, recent)
        plan = missed_digests(
            job,
            now,
            done=done,
            first_started=self.first_started,
            catch_up_days=self.digest_settings.catch_up_days,
        )
        for day in plan.skipped:
            self.say(f"digest {day}: missed, older than catch_up_days; not written")
        if plan.days:
            self.say(f"catching up {len(plan.days)} missed digest(s)")
            await self._produce(list(plan.days))

    async def alerts_job(self) -> None:
        self._track()
        hook = self.alerts_hook
        assert hook is not None
        kwargs = hook_kwargs(
            hook,
            {
                "engine": self.engine,
                "sessions": self.sessions,
                "config": self.config,
                "database_url": self.database_url,
                "now": self.clock(),
            },
        )
        try:
            if inspect.iscoroutinefunction(hook):
                await hook(**kwargs)
            else:
                await asyncio.to_thread(hook, **kwargs)
        except Exception as exc:  # one failed pass must not stop the scheduler
            logger.exception("alert delivery failed")
            self.say(f"alerts: delivery pass failed: {type(exc).__name__}: {exc}")

    async def heartbeat_job(self) -> None:
        try:
            held = await asyncio.to_thread(self._heartbeat)
        except Exception as exc:  # a database hiccup; the lock goes stale later
            self.say(f"heartbeat failed: {type(exc).__name__}: {exc}")
            return
        if not held:
            self.say("lost the scheduler lock (another process took it over); stopping")
            self.exit_code = 1
            self.stop.set()

    # -- lifecycle --------------------------------------------------------------------

    def _skipped(self, event: JobSubmissionEvent) -> None:
        if event.job_id != HEARTBEAT_JOB:
            self.say(f"{event.job_id}: still running at its next time; that run is skipped")

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            self.say(f"{sig.name} again: already stopping")
            return
        self.say(f"{sig.name}: stopping (running crawls get SIGTERM)")
        self.stop.set()

    async def main(self) -> int:
        try:
            await asyncio.to_thread(self.open)
        except state.LockHeld as exc:
            print(f"newsmon run: {exc}", file=self.out, flush=True)
            return 1
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await self._serve()
        finally:
            await asyncio.to_thread(self.release)
            self.engine.dispose()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        self.say("stopped")
        return self.exit_code

    async def _serve(self) -> None:
        assert self.sessions is not None
        for warning in self.plan.warnings:
            self.say(f"warning: {warning}")
        self.prepare_digests()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        add_plan_jobs(
            self.scheduler,
            self.plan,
            now=self.clock(),
            last_started=await asyncio.to_thread(self._last_started),
            crawl=self.crawl_job,
            digest=self.digest_job,
            alerts=self.alerts_job if self.alerts_hook is not None else None,
        )
        self.scheduler.add_job(
            self.heartbeat_job,
            IntervalTrigger(seconds=self.schedule.heartbeat_seconds),
            id=HEARTBEAT_JOB,
            name=f"every {self.schedule.heartbeat_seconds:g} s (renew the lock)",
            **JOB_DEFAULTS,
        )
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        await self.heartbeat_job()  # publish the jobs for `newsmon status`
        self.say(
            f"started: {len(self.plan.crawls)} crawl job(s)"
            + (", digest" if self.plan.digest else "")
            + (", alerts" if self.alerts_hook else "")
        )
        catch_up = asyncio.ensure_future(self.catch_up())
        await self.stop.wait()
        # Pause, not shutdown: APScheduler's shutdown cancels running coroutine jobs,
        # and a cancelled crawl job could only SIGKILL its crawl.
        self.scheduler.pause()
        pending = {t for t in self.tasks | {catch_up} if not t.done()}
        if pending:
            self.say(f"waiting for {len(pending)} running job(s)")
            _, late = await asyncio.wait(pending, timeout=self.schedule.stop_grace_seconds + 3)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
        self.scheduler.shutdown(wait=False)


def run_scheduler(config: Any, database_url: str, out: TextIO | None = None) -> int:
    """Entry point of `newsmon run`: serve until SIGTERM/SIGINT; return the exit code."""
    if not logging.getLogger().isEnabledFor(logging.INFO):
        # Skipped runs are reported by Runner._skipped in one line; keep errors.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
    return asyncio.run(Runner(config, database_url, out=out).main())
