"""Repository functions for the alert outbox, deliveries and source health.

Plain values in and out; every function takes the caller's Session and never commits
(deliveries are committed step by step by monitor.alerts.deliver, which owns that
protocol).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Insert, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    AlertDelivery,
    AlertEvent,
    AlertMessage,
    Article,
    CrawlRun,
    RunSource,
    SourceHealth,
)

PENDING, SENT, FAILED = "pending", "sent", "failed"


def _insert_ignore(session: Session, table: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def insert_event(
    session: Session,
    *,
    watcher: str,
    key: str,
    kind: str,
    created: datetime,
    due: datetime,
    data: dict[str, Any],
    story_id: int | None = None,
    article_id: int | None = None,
) -> bool:
    """Add an event unless (watcher, key) exists; True when a row was written.

    ON CONFLICT DO NOTHING rather than a check: two crawler processes storing copies
    of one story at once must not make the second article's transaction fail.
    """
    stmt = _insert_ignore(session, AlertEvent).values(
        watcher=watcher,
        key=key,
        kind=kind,
        story_id=story_id,
        article_id=article_id,
        data=data,
        created=created,
        due=due,
    )
    # RETURNING rather than rowcount: psycopg reports -1 for INSERT .. ON CONFLICT.
    return session.execute(stmt.returning(AlertEvent.id)).scalar() is not None


def event_exists(session: Session, watcher: str, key: str) -> bool:
    stmt = select(AlertEvent.id).where(AlertEvent.watcher == watcher, AlertEvent.key == key)
    return session.scalar(stmt.limit(1)) is not None


def due_events(session: Session, now: datetime) -> list[AlertEvent]:
    """Events not yet in a message whose time has come, per watcher in time order."""
    stmt = (
        select(AlertEvent)
        .where(AlertEvent.message_id.is_(None), AlertEvent.due <= now)
        .order_by(AlertEvent.watcher, AlertEvent.due, AlertEvent.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def waiting_events(session: Session) -> list[AlertEvent]:
    """Events not yet in a message (batch window open or quiet hours)."""
    stmt = (
        select(AlertEvent)
        .where(AlertEvent.message_id.is_(None))
        .order_by(AlertEvent.due, AlertEvent.id)
    )
    return list(session.scalars(stmt))


def create_message(
    session: Session,
    watcher: str,
    event_ids: Sequence[int],
    channels: Sequence[tuple[str, str]],
    now: datetime,
) -> int | None:
    """A message for ``event_ids`` with one pending delivery per (channel key, label).

    Returns None when another process took any of the events first (nothing written).
    """
    message = AlertMessage(watcher=watcher, created=now, events=len(event_ids))
    session.add(message)
    session.flush()
    taken = session.execute(
        update(AlertEvent)
        .where(AlertEvent.id.in_(event_ids), AlertEvent.message_id.is_(None))
        .values(message_id=message.id)
    )
    if _rowcount(taken) != len(event_ids):
        session.rollback()
        return None
    for channel, label in channels:
        session.add(
            AlertDelivery(
                message_id=message.id,
                watcher=watcher,
                channel=channel,
                label=label,
                status=PENDING,
                attempts=0,
                next_attempt=now,
                last_error="",
            )
        )
    session.flush()
    return message.id


def message_events(session: Session, message_id: int) -> list[AlertEvent]:
    stmt = (
        select(AlertEvent)
        .where(AlertEvent.message_id == message_id)
        .order_by(AlertEvent.created, AlertEvent.id)
    )
    return list(session.scalars(stmt))


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[AlertDelivery]:
    stmt = (
        select(AlertDelivery)
        .where(AlertDelivery.status == PENDING, AlertDelivery.next_attempt <= now)
        .order_by(AlertDelivery.next_attempt, AlertDelivery.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def claim_delivery(
    session: Session, delivery_id: int, attempts: int, now: datetime, next_attempt: datetime
) -> bool:
    """Count one attempt and push the next one out *before* sending (compare-and-set).

    False when another delivery process claimed this attempt first.
    """
    result = session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.id == delivery_id,
            AlertDelivery.status == PENDING,
            AlertDelivery.attempts == attempts,
        )
        .values(attempts=attempts + 1, last_attempt=now, next_attempt=next_attempt)
    )
    return _rowcount(result) == 1


def mark_sent(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id)
        .values(status=SENT, sent=now, last_error="")
    )


def mark_attempt_failed(session: Session, delivery_id: int, error: str, give_up: bool) -> None:
    values: dict[str, Any] = {"last_error": error[:2000]}
    if give_up:
        values["status"] = FAILED
    session.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id).values(**values))


def retry_failed(session: Session, now: datetime, ids: Collection[int] = ()) -> int:
    """Put failed deliveries (all, or ``ids``) back in the queue with a fresh attempt count."""
    stmt = update(AlertDelivery).where(AlertDelivery.status == FAILED)
    if ids:
        stmt = stmt.where(AlertDelivery.id.in_(list(ids)))
    result = session.execute(stmt.values(status=PENDING, attempts=0, next_attempt=now))
    return _rowcount(result)


def list_deliveries(
    session: Session, status: str | None = None, limit: int = 100
) -> list[AlertDelivery]:
    stmt = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(AlertDelivery.status == status)
    return list(session.scalars(stmt))


def delivery_counts(session: Session) -> dict[str, int]:
    """Deliveries by status, plus ``waiting``: events not yet in a message."""
    counts = {PENDING: 0, SENT: 0, FAILED: 0}
    stmt = select(AlertDelivery.status, func.count()).group_by(AlertDelivery.status)
    for status, n in session.execute(stmt):
        counts[str(status)] = int(n)
    waiting = session.scalar(
        select(func.count()).select_from(AlertEvent).where(AlertEvent.message_id.is_(None))
    )
    counts["waiting"] = int(waiting or 0)
    return counts


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    url: str
    title: str
    source: str
    site_name: str | None
    language: str | None
    published: datetime | None
    first_seen: datetime
    description: str


def _article_row(a: Article) -> ArticleRow:
    return ArticleRow(
        id=a.id,
        url=a.url,
        title=a.title or "",
        source=a.source,
        site_name=a.site_name,
        language=a.language,
        published=a.published,
        first_seen=a.first_seen,
        description=a.description or "",
    )


def articles_by_id(session: Session, ids: Collection[int]) -> dict[int, ArticleRow]:
    if not ids:
        return {}
    rows = session.scalars(select(Article).where(Article.id.in_(list(ids))))
    return {a.id: _article_row(a) for a in rows}


def story_members(session: Session, story_ids: Collection[int]) -> dict[int, list[ArticleRow]]:
    """The articles of each story, earliest first (for "also reported by")."""
    out: dict[int, list[ArticleRow]] = {s: [] for s in story_ids}
    if not story_ids:
        return out
    stmt = (
        select(Article)
        .where(Article.story_id.in_(list(story_ids)))
        .order_by(func.coalesce(Article.published, Article.first_seen), Article.id)
    )
    for a in session.scalars(stmt):
        if a.story_id is not None:
            out[a.story_id].append(_article_row(a))
    return out


@dataclass(frozen=True, slots=True)
class RunPoint:
    """What one source yielded in one finished run."""

    run_id: int
    started: datetime
    links_seen: int
    fetched: int
    new: int
    duplicates: int
    errors: int
    errors_by_reason: dict[str, int]


def source_runs(session: Session, per_source: int = 30) -> dict[str, list[RunPoint]]:
    """The last ``per_source`` finished runs of each source, newest first."""
    rank = (
        func.row_number()
        .over(
            partition_by=RunSource.source,
            order_by=(CrawlRun.started.desc(), CrawlRun.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(RunSource.run_id, RunSource.source, CrawlRun.started, rank)
        .join(CrawlRun, CrawlRun.id == RunSource.run_id)
        .where(CrawlRun.finished.is_not(None))
        .subquery()
    )
    stmt = (
        select(RunSource, ranked.c.started)
        .join(
            ranked,
            (ranked.c.run_id == RunSource.run_id) & (ranked.c.source == RunSource.source),
        )
        .where(ranked.c.rank <= per_source)
        .order_by(RunSource.source, ranked.c.rank)
    )
    out: dict[str, list[RunPoint]] = {}
    for rs, started in session.execute(stmt):
        out.setdefault(rs.source, []).append(
            RunPoint(
                run_id=rs.run_id,
                started=started,
                links_seen=rs.links_seen,
                fetched=rs.fetched,
                new=rs.new,
                duplicates=rs.duplicates,
                errors=rs.errors,
                errors_by_reason={str(k): int(v) for k, v in rs.errors_by_reason.items()},
            )
        )
    return out


def health_states(session: Session) -> dict[str, SourceHealth]:
    return {h.source: h for h in session.scalars(select(SourceHealth))}


def save_health(
    session: Session,
    *,
    source: str,
    state: str,
    since: datetime,
    last_success: datetime | None,
    last_new: datetime | None,
    detail: str,
    checked: datetime,
) -> None:
    row = session.get(SourceHealth, source)
    if row is None:
        row = SourceHealth(source=source)
        session.add(row)
    row.state = state
    row.since = since
    row.last_success = last_success
    row.last_new = last_new
    row.detail = detail
    row.checked = checked
