"""Test data for the alert tests: watchers, a clock, articles stored as the pipeline does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.outbox import enqueue_for_article
from monitor.alerts.watchers import Channel, Masker, Watcher
from monitor.extract import ExtractedArticle
from monitor.matching import TopicMatch
from monitor.matching.models import KeywordHit
from monitor.store import StoreResult, store_article
from monitor.story_assign import StoryAssigner
from storage.engine import open_database, session_factory
from storage.models import Story

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TOPIC = "nk-workers-abroad"


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def sessions(url: str) -> sessionmaker[Session]:
    return session_factory(open_database(url))


def channel(url: str, secrets: dict[str, str] | None = None, **kw: Any) -> Channel:
    masker = Masker(secrets or {})
    c = Channel(url=SecretStr(url), template=masker(url), **kw)
    c._masker = masker
    return c


def watcher(name: str, *urls: str, **kw: Any) -> Watcher:
    retry = kw.pop("retry", {"backoff_seconds": 60, "timeout_seconds": 2})
    return Watcher.model_validate(
        {"name": name, "channels": [channel(u) for u in urls], "retry": retry, **kw}
    )


def topic_match(score: float = 5.0, tags: Sequence[str] = ("student visa", "Russia")) -> TopicMatch:
    hits = tuple(KeywordHit(t, 1, (0,), f"about {t}", ()) for t in tags)
    return TopicMatch(TOPIC, True, score, hits, "North Korean workers arrived on student visas", ())


@dataclass
class Stored:
    result: StoreResult
    story_id: int | None
    events: int


def store(
    session: Session,
    watchers: Sequence[Watcher],
    assigner: StoryAssigner | None,
    *,
    outlet: str,
    url: str,
    title: str,
    text: str,
    language: str = "en",
    published: datetime | None = None,
    first_seen: datetime = T0,
    matches: Sequence[TopicMatch] | None = None,
) -> Stored:
    """store_article plus the alert lines the lead adds to it (see docs/alerts.md)."""
    found = [topic_match()] if matches is None else list(matches)
    result = store_article(
        session,
        source=outlet,
        url=url,
        final_url=url,
        article=ExtractedArticle(
            text=text, title=title, language=language, published=published, site_name=outlet
        ),
        matches=found,
        stories=assigner,
        first_seen=first_seen,
    )
    if result.outcome == "known":
        return Stored(result, None, 0)
    from storage.models import Article

    stored = session.get(Article, result.article_id)
    assert stored is not None
    story = session.get(Story, stored.story_id) if stored.story_id else None
    events = enqueue_for_article(
        session,
        watchers,
        stored,
        found,
        stored.story_id,
        is_new_story=story is not None and story.size == 1,
    )
    return Stored(result, stored.story_id, events)


TEXT = (
    "Hundreds of workers from North Korea arrived in the Russian region this autumn, "
    "officially as students of a technical college, according to local officials. "
    "They are employed on building sites and live in dormitories guarded by minders. "
    "Labour rights groups say the arrangement evades United Nations sanctions."
)


STORIES = (
    "Seafood processing plants in a northern Chinese port employ several hundred women "
    "from Pyongyang who peel shrimp and pack squid for export markets in Europe.",
    "A construction firm in the Gulf was fined after inspectors found labourers without "
    "contracts living in shipping containers behind an unfinished hotel tower.",
    "Investigators traced payments from freelance software platforms to developers who "
    "used borrowed identities and routed their earnings through accounts in Laos.",
    "Logging camps in the Russian far east still host brigades from across the border, "
    "a regional forestry official admitted during a budget hearing last Tuesday.",
    "A university in Siberia enrolled dozens of adult students whose attendance records "
    "show they spent term time on apartment blocks rather than in lecture halls.",
    "Fishing crews transferred at sea between trawlers carried passengers whose papers "
    "named them as trainees, according to a maritime monitoring group's new report.",
)


TITLES = (
    "Shrimp plants in a Chinese port",
    "Gulf hotel builders fined",
    "Freelance developers traced to Laos",
    "Far-east logging brigades",
    "Siberian students on building sites",
    "Trawler transfers at sea",
)


def story_title(n: int) -> str:
    return TITLES[n % len(TITLES)]


def story_text(n: int) -> str:
    """A distinct invented article text number ``n`` (different stories for n < 6)."""
    return f"{STORIES[n % len(STORIES)]} Reference {n}."
