"""Repository functions for the record of runs: counters per source and every error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, RunError, RunSource, utcnow


@dataclass
class SourceCounts:
    """What one source yielded in one run."""

    source: str
    links_seen: int = 0
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    errors: int = 0
    errors_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorRecord:
    source: str
    url: str
    reason: str
    detail: str
    at: datetime | None = None


def start_run(session: Session, kind: str = "crawl", started: datetime | None = None) -> CrawlRun:
    run = CrawlRun(kind=kind, started=started or utcnow(), status="running", stats={})
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    finish_reason: str | None,
    counts: Sequence[SourceCounts],
    errors: Sequence[ErrorRecord],
    stats: dict[str, Any] | None = None,
    finished: datetime | None = None,
) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.status = status
    run.finish_reason = finish_reason
    run.finished = finished or utcnow()
    run.stats = stats or {}
    for c in counts:
        run.sources.append(
            RunSource(
                source=c.source,
                links_seen=c.links_seen,
                fetched=c.fetched,
                new=c.new,
                duplicates=c.duplicates,
                matched=c.matched,
                errors=c.errors,
                errors_by_reason=dict(c.errors_by_reason),
            )
        )
    for e in errors:
        session.add(
            RunError(
                run_id=run_id,
                source=e.source,
                url=e.url[:4000],
                reason=e.reason,
                detail=e.detail[:4000],
                at=e.at or utcnow(),
            )
        )


def recent_runs(session: Session, limit: int = 20) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


def run_errors(session: Session, run_id: int) -> list[RunError]:
    return list(
        session.scalars(select(RunError).where(RunError.run_id == run_id).order_by(RunError.id))
    )
