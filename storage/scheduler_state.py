"""Repository functions for `newsmon run`: the lock, digest records, scheduled crawls.

The lock is a row with a heartbeat (works on SQLite and PostgreSQL, across hosts): a
process takes it when there is none, when it was released, or when its heartbeat is
older than its ``stale_after`` (the holder died without releasing it). Taking a stale
lock is a compare-and-swap on (holder, heartbeat), so two processes racing for a dead
holder's lock cannot both win. Callers own the transaction and pass the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import CrawlRun, DigestRun, RunError, RunSource, ScheduledCrawl, SchedulerLock

LOCK_NAME = "scheduler"


@dataclass(frozen=True)
class LockInfo:
    holder: str | None
    acquired: datetime | None
    heartbeat: datetime | None
    stale_after: float
    first_started: datetime
    jobs: list[Any]

    def is_stale(self, now: datetime) -> bool:
        return lock_is_stale(self.heartbeat, self.stale_after, now)

    def is_held(self, now: datetime) -> bool:
        return self.holder is not None and not self.is_stale(now)


class LockHeld(Exception):
    """Another live process holds the lock."""

    def __init__(self, info: LockInfo, now: datetime) -> None:
        self.info = info
        age = (now - info.heartbeat).total_seconds() if info.heartbeat else float("nan")
        stale_in = info.stale_after - age
        super().__init__(
            f"another `newsmon run` ({info.holder}) is running on this database "
            f"(heartbeat {age:.0f} s ago); stop it first, or, if it died, wait "
            f"{max(stale_in, 0):.0f} s until its lock goes stale"
        )


def lock_is_stale(heartbeat: datetime | None, stale_after: float, now: datetime) -> bool:
    return heartbeat is None or now - heartbeat > timedelta(seconds=stale_after)


def _info(row: SchedulerLock) -> LockInfo:
    return LockInfo(
        row.holder, row.acquired, row.heartbeat, row.stale_after, row.first_started, row.jobs
    )


def read_lock(session: Session, name: str = LOCK_NAME) -> LockInfo | None:
    row = session.get(SchedulerLock, name, populate_existing=True)
    return _info(row) if row is not None else None


def acquire_lock(
    session: Session, holder: str, now: datetime, stale_after: float, name: str = LOCK_NAME
) -> LockInfo:
    """Take the lock for ``holder`` or raise LockHeld. Commit to make it visible."""
    current = read_lock(session, name)
    if current is None:
        try:
            with session.begin_nested():
                session.add(
                    SchedulerLock(
                        name=name,
                        holder=holder,
                        acquired=now,
                        heartbeat=now,
                        stale_after=stale_after,
                        first_started=now,
                        jobs=[],
                    )
                )
        except IntegrityError:
            latest = read_lock(session, name)
            assert latest is not None
            raise LockHeld(latest, now) from None
        info = read_lock(session, name)
        assert info is not None
        return info
    if current.holder is not None and not current.is_stale(now):
        raise LockHeld(current, now)
    return take_over_lock(session, current, holder, now, stale_after, name)


def take_over_lock(
    session: Session,
    seen: LockInfo,
    holder: str,
    now: datetime,
    stale_after: float,
    name: str = LOCK_NAME,
) -> LockInfo:
    """Take a released or stale lock, if it is still as ``seen`` (compare-and-swap)."""
    cond = [SchedulerLock.name == name]
    cond.append(
        SchedulerLock.holder.is_(None)
        if seen.holder is None
        else SchedulerLock.holder == seen.holder
    )
    if seen.heartbeat is not None:
        cond.append(SchedulerLock.heartbeat == seen.heartbeat)
    result = session.execute(
        update(SchedulerLock)
        .where(*cond)
        .values(holder=holder, acquired=now, heartbeat=now, stale_after=stale_after, jobs=[])
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        latest = read_lock(session, name)
        assert latest is not None
        raise LockHeld(latest, now)
    info = read_lock(session, name)
    assert info is not None
    return info


def renew_lock(
    session: Session,
    holder: str,
    now: datetime,
    jobs: list[Any] | None = None,
    name: str = LOCK_NAME,
) -> bool:
    """Heartbeat; False when ``holder`` no longer holds the lock (it must stop)."""
    values: dict[str, Any] = {"heartbeat": now}
    if jobs is not None:
        values["jobs"] = jobs
    result = session.execute(
        update(SchedulerLock)
        .where(SchedulerLock.name == name, SchedulerLock.holder == holder)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_lock(session: Session, holder: str, name: str = LOCK_NAME) -> bool:
    result = session.execute(
        update(SchedulerLock)
        .where(SchedulerLock.name == name, SchedulerLock.holder == holder)
        .values(holder=None, heartbeat=None, jobs=[])
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# -- digests --------------------------------------------------------------------------


def digest_days_done(session: Session, days: Iterable[str], topics: Sequence[str]) -> set[str]:
    """The days (YYYY-MM-DD) whose digest was written for every one of ``topics``."""
    wanted = list(days)
    if not wanted:
        return set()
    rows = session.execute(
        select(DigestRun.day, DigestRun.topic).where(
            DigestRun.day.in_(wanted), DigestRun.status == "ok"
        )
    ).all()
    have: dict[str, set[str]] = {}
    for day, topic in rows:
        have.setdefault(day, set()).add(topic)
    need = set(topics)
    return {day for day, got in have.items() if need <= got}


def digest_topics_done(session: Session, day: str) -> set[str]:
    """The topics whose digest of ``day`` was written."""
    return set(
        session.scalars(
            select(DigestRun.topic).where(DigestRun.day == day, DigestRun.status == "ok")
        )
    )


def record_digest(
    session: Session,
    day: str,
    topics: Sequence[str],
    *,
    status: str,
    started: datetime,
    finished: datetime,
    files: Sequence[str] = (),
    emailed: bool = False,
    detail: str = "",
) -> None:
    """Record (or update) the digest of ``day`` for each topic."""
    existing = {
        r.topic: r
        for r in session.scalars(
            select(DigestRun).where(DigestRun.day == day, DigestRun.topic.in_(list(topics)))
        )
    }
    for topic in topics:
        row = existing.get(topic)
        if row is None:
            row = DigestRun(day=day, topic=topic)
            session.add(row)
        row.status = status
        row.started = started
        row.finished = finished
        row.files = list(files)
        row.emailed = emailed
        row.detail = detail[:4000]
    session.flush()


def recent_digests(session: Session, limit: int = 10) -> list[DigestRun]:
    return list(
        session.scalars(
            select(DigestRun).order_by(DigestRun.day.desc(), DigestRun.topic).limit(limit)
        )
    )


# -- scheduled crawls -----------------------------------------------------------------


def start_scheduled_crawl(
    session: Session, job: str, sources: Sequence[str], started: datetime
) -> ScheduledCrawl:
    row = ScheduledCrawl(job=job, sources=list(sources), started=started, outcome="running")
    session.add(row)
    session.flush()
    return row


def finish_scheduled_crawl(
    session: Session,
    crawl_id: int,
    *,
    outcome: str,
    finished: datetime,
    exit_code: int | None,
    pid: int | None = None,
    crawl_run_id: int | None = None,
    detail: str = "",
) -> None:
    row = session.get(ScheduledCrawl, crawl_id)
    if row is None:
        raise LookupError(f"no scheduled crawl {crawl_id}")
    row.outcome = outcome
    row.finished = finished
    row.exit_code = exit_code
    row.pid = pid if pid is not None else row.pid
    if crawl_run_id is not None and session.get(CrawlRun, crawl_run_id) is not None:
        row.crawl_run_id = crawl_run_id
    row.detail = detail[-4000:]


def abandon_running_crawls(session: Session, now: datetime) -> int:
    """Close scheduled crawls left 'running' by a scheduler that died (we hold the lock)."""
    result = session.execute(
        update(ScheduledCrawl)
        .where(ScheduledCrawl.outcome == "running")
        .values(outcome="abandoned", finished=now, detail="the scheduler stopped without a record")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def last_scheduled_start(session: Session, job: str) -> datetime | None:
    found: datetime | None = session.scalar(
        select(func.max(ScheduledCrawl.started)).where(ScheduledCrawl.job == job)
    )
    return found


def recent_scheduled_crawls(session: Session, limit: int = 20) -> list[ScheduledCrawl]:
    return list(
        session.scalars(select(ScheduledCrawl).order_by(ScheduledCrawl.id.desc()).limit(limit))
    )


def failed_scheduled_crawls(session: Session, limit: int = 10) -> list[ScheduledCrawl]:
    return list(
        session.scalars(
            select(ScheduledCrawl)
            .where(ScheduledCrawl.outcome.not_in(("ok", "running")))
            .order_by(ScheduledCrawl.id.desc())
            .limit(limit)
        )
    )


# -- crawl_runs left open by a killed crawl -------------------------------------------


def max_crawl_run_id(session: Session) -> int:
    return int(session.scalar(select(func.max(CrawlRun.id))) or 0)


def open_crawl_runs_after(session: Session, after_id: int) -> list[CrawlRun]:
    return list(
        session.scalars(
            select(CrawlRun)
            .where(CrawlRun.id > after_id, CrawlRun.status == "running")
            .order_by(CrawlRun.id)
        )
    )


def close_crawl_run(
    session: Session, run_id: int, *, status: str, reason: str, now: datetime
) -> None:
    """Finish a run row whose process was killed before it could finish it itself."""
    run = session.get(CrawlRun, run_id)
    if run is not None and run.status == "running":
        run.status = status
        run.finish_reason = reason
        run.finished = now


# -- status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLastRun:
    source: str
    run_id: int
    started: datetime
    finished: datetime | None
    status: str
    links_seen: int
    fetched: int
    new: int
    duplicates: int
    matched: int
    errors: int
    errors_by_reason: dict[str, Any]


def last_run_per_source(session: Session) -> list[SourceLastRun]:
    """Each source's most recent finished run and its counters."""
    latest = (
        select(RunSource.source, func.max(RunSource.run_id).label("run_id"))
        .group_by(RunSource.source)
        .subquery()
    )
    rows = session.execute(
        select(RunSource, CrawlRun)
        .join(latest, (RunSource.source == latest.c.source) & (RunSource.run_id == latest.c.run_id))
        .join(CrawlRun, CrawlRun.id == RunSource.run_id)
        .order_by(RunSource.source)
    ).all()
    return [
        SourceLastRun(
            source=rs.source,
            run_id=run.id,
            started=run.started,
            finished=run.finished,
            status=run.status,
            links_seen=rs.links_seen,
            fetched=rs.fetched,
            new=rs.new,
            duplicates=rs.duplicates,
            matched=rs.matched,
            errors=rs.errors,
            errors_by_reason=dict(rs.errors_by_reason or {}),
        )
        for rs, run in rows
    ]


def recent_errors(session: Session, limit: int = 10) -> list[RunError]:
    return list(session.scalars(select(RunError).order_by(RunError.id.desc()).limit(limit)))


def unfinished_runs(session: Session) -> list[CrawlRun]:
    return list(
        session.scalars(select(CrawlRun).where(CrawlRun.status == "running").order_by(CrawlRun.id))
    )
