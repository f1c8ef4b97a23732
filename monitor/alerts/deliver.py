"""Delivery passes: due events -> messages -> one delivery per channel, with retries.

Protocol, one delivery (message x channel) at a time, each step its own transaction:

1. claim: attempts += 1 and next_attempt = now + backoff(attempts), committed *before*
   sending, with a compare-and-set on (status, attempts) so that two delivery
   processes never send the same attempt;
2. send through the channel (with a timeout);
3. mark ``sent`` (committed), or record the masked error; after ``max_attempts``
   failed attempts the delivery is ``failed`` (``newsmon alerts list --failed``,
   ``newsmon alerts retry``).

Guarantee: every event committed with its article is delivered to every channel of its
watcher at least once, unless that channel fails ``max_attempts`` times (then it is
listed as failed, never dropped silently). A message is repeated only when the process
dies (kill -9, power loss) or the database is unreachable between the channel
accepting it and step 3 committing: then it is sent once more after the backoff delay
of that attempt, so each such crash causes at most one repeat on that channel. A crash
before step 1 commits sends nothing and loses nothing. If the crash hits the last
allowed attempt, the delivery is marked failed ("interrupted") rather than retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from monitor.alerts.channels import RenderedMessage, Sender, SendError, send
from monitor.alerts.health import HealthEvent, check_health
from monitor.alerts.outbox import enqueue_health
from monitor.alerts.render import HealthItem, MessageView, Outlet, StoryItem, render
from monitor.alerts.watchers import AlertsConfig, Channel, Watcher
from storage import alerts as repo
from storage.models import AlertEvent

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SessionFactory = Callable[[], Session]
ALSO_LIMIT = 20


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryReport:
    messages: int = 0
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    health_events: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.messages} new messages, {self.sent} sent, {self.failed_attempts} failed "
            f"attempts, {self.gave_up} given up"
        )


def _groups(watcher: Watcher, events: Sequence[AlertEvent]) -> list[list[AlertEvent]]:
    """Batched: everything due in one message. Immediate: one message per event, except
    events held back by quiet hours, which go out together."""
    if watcher.policy == "batched":
        held, single = list(events), []
    else:
        held = [e for e in events if e.due > e.created]
        single = [e for e in events if e.due <= e.created]
    groups = [[e] for e in single]
    size = watcher.max_items
    groups += [held[i : i + size] for i in range(0, len(held), size)]
    return groups


def build_messages(
    session_factory: SessionFactory, watchers: Sequence[Watcher], now: datetime
) -> int:
    """Turn due events into messages with one pending delivery per channel."""
    by_name = {w.name: w for w in watchers if w.enabled}
    built = 0
    with session_factory() as session:
        per_watcher: dict[str, list[AlertEvent]] = {}
        for event in repo.due_events(session, now):
            if event.watcher in by_name:
                per_watcher.setdefault(event.watcher, []).append(event)
        plan = [
            (name, [e.id for e in group])
            for name, items in per_watcher.items()
            for group in _groups(by_name[name], items)
        ]
        for name, ids in plan:
            channels = [(c.key, c.label) for c in by_name[name].channels]
            # One transaction per message: a concurrent pass that took an event first
            # costs only that message (rolled back, its events stay with the other).
            if repo.create_message(session, name, ids, channels, now) is not None:
                session.commit()
                built += 1
        session.commit()
    return built


def _view(
    session: Session, watcher: str, events: Sequence[AlertEvent], now: datetime
) -> MessageView:
    article_ids = {e.article_id for e in events if e.article_id is not None}
    articles = repo.articles_by_id(session, article_ids)
    members = repo.story_members(session, {e.story_id for e in events if e.story_id is not None})
    stories: list[StoryItem] = []
    health: list[HealthItem] = []
    for e in events:
        data = e.data or {}
        if e.kind == "health":
            last = data.get("last_success")
            health.append(
                HealthItem(
                    source=str(data.get("source", "")),
                    state=str(data.get("state", "")),
                    previous=str(data.get("previous", "")),
                    detail=str(data.get("detail", "")),
                    last_success=datetime.fromisoformat(last) if last else None,
                )
            )
            continue
        lead = articles.get(e.article_id) if e.article_id is not None else None
        if lead is None:
            continue  # the article was deleted since; nothing left to tell
        others = [a for a in members.get(e.story_id or -1, []) if a.id != lead.id]
        seen = {lead.source}
        also = []
        for a in others:
            if a.source not in seen:
                seen.add(a.source)
                also.append(Outlet(a.site_name or a.source, a.url, a.title, a.language))
        stories.append(
            StoryItem(
                title=lead.title or lead.url,
                url=lead.url,
                outlet=lead.site_name or lead.source,
                language=lead.language,
                published=lead.published,
                first_seen=lead.first_seen,
                topic=str(data.get("topic", "")),
                score=float(data.get("score", 0.0)),
                keywords=tuple(str(k) for k in data.get("keywords", [])),
                snippet=str(data.get("snippet", "")) or lead.description,
                also=tuple(also[:ALSO_LIMIT]),
            )
        )
    return MessageView(watcher=watcher, generated=now, stories=tuple(stories), health=tuple(health))


def _channel(watcher: Watcher | None, key: str) -> Channel | None:
    if watcher is None:
        return None
    return next((c for c in watcher.channels if c.key == key), None)


def deliver_pending(
    session_factory: SessionFactory,
    watchers: Sequence[Watcher],
    clock: Clock = utcnow,
    sender: Sender = send,
    *,
    templates_dir: Path | None = None,
) -> DeliveryReport:
    """One delivery pass: build due messages, then send every delivery whose time has come."""
    report = DeliveryReport()
    now = clock()
    report.messages = build_messages(session_factory, watchers, now)
    by_name = {w.name: w for w in watchers}
    rendered: dict[int, RenderedMessage] = {}
    with session_factory() as session:
        due = [
            (d.id, d.message_id, d.watcher, d.channel, d.attempts)
            for d in repo.due_deliveries(session, now)
        ]
        session.commit()
    for delivery_id, message_id, name, key, attempts in due:
        watcher = by_name.get(name)
        channel = _channel(watcher, key)
        with session_factory() as session:
            if watcher is None or channel is None:
                what = "watcher" if watcher is None else "channel"
                repo.mark_attempt_failed(session, delivery_id, f"{what} no longer configured", True)
                session.commit()
                report.gave_up += 1
                continue
            if attempts >= watcher.retry.max_attempts:
                repo.mark_attempt_failed(
                    session,
                    delivery_id,
                    "interrupted during the last attempt; it may or may not have arrived",
                    True,
                )
                session.commit()
                report.gave_up += 1
                continue
            now = clock()
            next_try = now + watcher.retry.delay(attempts + 1)
            if not repo.claim_delivery(session, delivery_id, attempts, now, next_try):
                session.rollback()
                continue
            session.commit()
            if message_id not in rendered:
                events = repo.message_events(session, message_id)
                rendered[message_id] = render(_view(session, name, events, now), templates_dir)
                session.commit()
        try:
            sender(channel, rendered[message_id], watcher.retry.timeout_seconds)
        except SendError as exc:
            error = channel.masker(str(exc))
        except Exception as exc:  # a channel bug must not stop the other deliveries
            error = channel.masker(f"{type(exc).__name__}: {exc}")
        else:
            with session_factory() as session:
                repo.mark_sent(session, delivery_id, clock())
                session.commit()
            report.sent += 1
            continue
        give_up = attempts + 1 >= watcher.retry.max_attempts
        with session_factory() as session:
            repo.mark_attempt_failed(session, delivery_id, error, give_up)
            session.commit()
        report.failed_attempts += 1
        report.gave_up += give_up
        report.errors.append(f"{name} -> {channel.label}: {error}")
        log.warning("alert to %s via %s failed: %s", name, channel.label, error)
    return report


def record_health(
    session_factory: SessionFactory,
    config: AlertsConfig,
    now: datetime,
    sources: Sequence[str] | None = None,
) -> list[HealthEvent]:
    """Assess source health, store it and enqueue events for subscribed watchers (one txn)."""
    with session_factory() as session:
        _, events = check_health(session, config.health, now, sources)
        enqueue_health(session, config.watchers, events, now)
        session.commit()
    return events


def run_alerts(
    session_factory: SessionFactory,
    config: AlertsConfig,
    clock: Clock = utcnow,
    sender: Sender = send,
    *,
    sources: Sequence[str] | None = None,
    templates_dir: Path | None = None,
) -> DeliveryReport:
    """The scheduler's alert job: source health, then one delivery pass."""
    events = record_health(session_factory, config, clock(), sources)
    report = deliver_pending(
        session_factory, config.watchers, clock, sender, templates_dir=templates_dir
    )
    report.health_events = len(events)
    return report
