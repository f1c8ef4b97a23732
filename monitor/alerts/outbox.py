"""The outbox: alert events written in the caller's transaction.

``enqueue_for_article`` runs inside store_article's transaction, so an article and its
alert events commit together or not at all: a crash never leaves a stored article whose
alert was lost, nor an alert for an article that was rolled back. Each watcher is told
about a story once (the unique (watcher, key) index; key ``story:<id>``): later copies
add no event and are listed as "also reported by" when the message is built.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.health import HealthEvent
from monitor.alerts.watchers import Watcher
from storage.alerts import event_exists, insert_event
from storage.models import AlertEvent, Article


class MatchLike(Protocol):
    """A TopicMatch (monitor.matching) or a MatchRecord (storage.articles)."""

    @property
    def topic(self) -> str: ...
    @property
    def matched(self) -> bool: ...
    @property
    def score(self) -> float: ...
    @property
    def snippet(self) -> str: ...
    @property
    def keywords(self) -> Sequence[Any]: ...


def _tags(match: MatchLike) -> list[str]:
    tags = []
    for k in match.keywords:
        tag = k.get("tag") if isinstance(k, Mapping) else getattr(k, "tag", None)
        if tag:
            tags.append(str(tag))
    return tags


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def passing_match(
    watcher: Watcher, article: Article, matches: Iterable[MatchLike], now: datetime
) -> MatchLike | None:
    """The best-scoring match that passes ``watcher``'s filter, or None."""
    f = watcher.filter
    if f.languages and (article.language or "") not in f.languages:
        return None
    if f.sources and article.source not in f.sources:
        return None
    published = article.published
    if f.max_age_hours is not None and published is not None:
        oldest = now - timedelta(hours=f.max_age_hours)
        if _aware(published) < oldest:
            return None
    best: MatchLike | None = None
    for m in matches:
        if not m.matched or m.score < f.min_score:
            continue
        if f.topics and m.topic not in f.topics:
            continue
        if f.keywords and not set(f.keywords) & set(_tags(m)):
            continue
        if best is None or m.score > best.score:
            best = m
    return best


def story_key(article: Article, story_id: int | None) -> str:
    if story_id is not None:
        return f"story:{story_id}"
    return f"article:{article.duplicate_of_id or article.id}"


def enqueue_for_article(
    session: Session,
    watchers: Sequence[Watcher],
    article: Article,
    matches: Sequence[MatchLike],
    story_id: int | None,
    is_new_story: bool,
    *,
    now: datetime | None = None,
) -> int:
    """Write an alert event for each enabled watcher this article is news for.

    Call after the article is flushed and its story assigned, in the same transaction.
    ``is_new_story`` only saves a lookup: for an existing story the unique index still
    decides. Returns the number of events written.
    """
    if not watchers or not any(m.matched for m in matches):
        return 0
    created = _aware(now or article.first_seen or datetime.now(UTC))
    key = story_key(article, story_id)
    written = 0
    for watcher in watchers:
        if not watcher.enabled:
            continue
        match = passing_match(watcher, article, matches, created)
        if match is None:
            continue
        if not is_new_story and event_exists(session, watcher.name, key):
            continue
        data = {
            "topic": match.topic,
            "score": float(match.score),
            "keywords": _tags(match),
            "snippet": match.snippet,
        }
        written += insert_event(
            session,
            watcher=watcher.name,
            key=key,
            kind="story",
            created=created,
            due=watcher.due(created),
            data=data,
            story_id=story_id,
            article_id=article.id,
        )
    return written


def follow_regrouped_articles(session: Session, article_ids: Collection[int]) -> int:
    """Move the story events of ``article_ids`` to the stories those articles are in now.

    `newsmon restory` regroups articles: a story is deleted and its articles go to a new
    one (a new id), or two stories merge. A watcher told about a story must not be told
    again when the next copy joins the regrouped one, so the event follows the article
    that caused it: (watcher, story:<new id>) is then taken. When the watcher already has
    an event for the new story (two stories it was told about merged), the other event
    is kept under ``<old key>:merged-into:<new id>``: its old key names a deleted story,
    and a database whose stories table predates migration 0009 could give that id to
    the next new story, whose alert the stale key would then suppress. Returns the
    number of events moved.
    """
    if not article_ids:
        return 0
    rows = session.execute(
        select(AlertEvent, Article.story_id)
        .join(Article, Article.id == AlertEvent.article_id)
        .where(
            AlertEvent.kind == "story",
            AlertEvent.article_id.in_(list(article_ids)),
            Article.story_id.is_not(None),
        )
        .order_by(AlertEvent.id)
    ).all()
    moved = 0
    for event, story_id in rows:
        key = f"story:{story_id}"
        if event.key == key or event.key.startswith(f"{key}:"):
            continue
        if event_exists(session, event.watcher, key):
            key = f"{event.key}:merged-into:{story_id}"
        event.key = key
        event.story_id = story_id
        session.flush()
        moved += 1
    return moved


def wants_health(watcher: Watcher, event: HealthEvent) -> bool:
    if not watcher.enabled or event.state not in watcher.health:
        return False
    return not watcher.filter.sources or event.source in watcher.filter.sources


def enqueue_health(
    session: Session, watchers: Sequence[Watcher], events: Sequence[HealthEvent], now: datetime
) -> int:
    """One event per (watcher, source state change) for watchers subscribed to it."""
    written = 0
    for event in events:
        for watcher in watchers:
            if not wants_health(watcher, event):
                continue
            written += insert_event(
                session,
                watcher=watcher.name,
                key=f"health:{event.source}:{event.state}:{event.since.isoformat()}",
                kind="health",
                created=now,
                due=watcher.due(now),
                data=event.to_json(),
            )
    return written
