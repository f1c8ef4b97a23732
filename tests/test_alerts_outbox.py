"""The outbox: events written in the article's transaction, one per (watcher, story)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.story_assign import StoryAssigner
from monitor.story_settings import StoriesSettings
from storage.models import AlertEvent, Article
from tests.alerts_data import T0, TEXT, Clock, sessions, store, story_text, topic_match, watcher


def _events(session: Session, name: str | None = None) -> list[AlertEvent]:
    stmt = select(AlertEvent).order_by(AlertEvent.id)
    if name:
        stmt = stmt.where(AlertEvent.watcher == name)
    return list(session.scalars(stmt))


def test_story_from_five_outlets_creates_one_event(database_url: str) -> None:
    factory: sessionmaker[Session] = sessions(database_url)
    desk = watcher("desk", "json://127.0.0.1:9/hook")
    outlets = ["bbc", "dnevnik", "tagesschau", "lemonde", "ruv"]
    with factory() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock())
        written = []
        for i, outlet in enumerate(outlets):
            # Exact copies under other URLs: each outlet's article joins the first one's story.
            s = store(
                session,
                [desk],
                assigner,
                outlet=outlet,
                url=f"https://{outlet}.example/news/{i}",
                title="North Korean workers sent to Kursk",
                text=TEXT,
                first_seen=T0 + timedelta(hours=i),
            )
            session.commit()
            written.append(s)
        events = _events(session)
        stories = {s.story_id for s in written}
        assert len(stories) == 1 and None not in stories
        assert [s.events for s in written] == [1, 0, 0, 0, 0]
        assert len(events) == 1
        assert events[0].key == f"story:{written[0].story_id}"
        assert events[0].data["keywords"] == ["student visa", "Russia"]
        assert session.scalar(select(func.count()).select_from(Article)) == 5


def test_each_watcher_once_and_filters_apply(database_url: str) -> None:
    factory = sessions(database_url)
    everyone = watcher("everyone", "json://127.0.0.1:9/a")
    russian = watcher("russian", "json://127.0.0.1:9/b", filter={"languages": ["ru"]})
    kursk = watcher("kursk", "json://127.0.0.1:9/c", filter={"keywords": ["Kursk"]})
    strict = watcher("strict", "json://127.0.0.1:9/d", filter={"min_score": 9.5})
    only_ruv = watcher("ruv", "json://127.0.0.1:9/e", filter={"sources": ["ruv"]})
    off = watcher("off", "json://127.0.0.1:9/f", enabled=False)
    all_watchers = [everyone, russian, kursk, strict, only_ruv, off]
    with factory() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock())
        store(
            session,
            all_watchers,
            assigner,
            outlet="bbc",
            url="https://bbc.example/1",
            title="Workers",
            text=TEXT,
            language="en",
        )
        store(
            session,
            all_watchers,
            assigner,
            outlet="ruv",
            url="https://ruv.example/1",
            title="Workers",
            text=TEXT,
            language="ru",
        )
        session.commit()
        names = sorted(e.watcher for e in _events(session))
    # The Russian copy is news for "russian" and "ruv" (first passing copy of the story).
    assert names == ["everyone", "russian", "ruv"]


def test_unmatched_and_old_articles_do_not_alert(database_url: str) -> None:
    factory = sessions(database_url)
    desk = watcher("desk", "json://127.0.0.1:9/a")
    with factory() as session:
        miss = topic_match()
        miss = type(miss)(miss.topic, False, 0.0, (), "", ())
        s1 = store(
            session,
            [desk],
            None,
            outlet="a",
            url="https://a.example/1",
            title="Weather",
            text=story_text(1),
            matches=[miss],
        )
        s2 = store(
            session,
            [desk],
            None,
            outlet="a",
            url="https://a.example/2",
            title="Old",
            text=story_text(2),
            published=T0 - timedelta(days=30),
        )
        session.commit()
        assert (s1.events, s2.events) == (0, 0)
        assert _events(session) == []


def test_rolled_back_article_leaves_no_event(database_url: str) -> None:
    factory = sessions(database_url)
    desk = watcher("desk", "json://127.0.0.1:9/a")
    with factory() as session:
        s = store(
            session, [desk], None, outlet="a", url="https://a.example/1", title="Workers", text=TEXT
        )
        assert s.events == 1
        session.rollback()
    with factory() as session:
        assert _events(session) == []
        assert session.scalar(select(func.count()).select_from(Article)) == 0


def test_without_stories_exact_copies_share_the_original_key(database_url: str) -> None:
    factory = sessions(database_url)
    desk = watcher("desk", "json://127.0.0.1:9/a")
    with factory() as session:
        first = store(
            session, [desk], None, outlet="a", url="https://a.example/1", title="Workers", text=TEXT
        )
        copy = store(
            session, [desk], None, outlet="b", url="https://b.example/1", title="Workers", text=TEXT
        )
        session.commit()
        assert copy.result.duplicate_of == first.result.article_id
        assert (first.events, copy.events) == (1, 0)
        assert [e.key for e in _events(session)] == [f"article:{first.result.article_id}"]


def test_batched_and_quiet_hours_set_due_time() -> None:
    batched = watcher("b", "json://127.0.0.1:9/a", policy="batched", batch_minutes=30)
    assert batched.due(T0 + timedelta(minutes=7)) == T0 + timedelta(minutes=30)
    assert batched.due(T0) == T0 + timedelta(minutes=30)
    quiet = watcher(
        "q",
        "json://127.0.0.1:9/a",
        quiet_hours={"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"},
    )
    # 2026-11-25 23:30 in Berlin (UTC+1) is 22:30 UTC: held until 07:00 Berlin = 06:00 UTC.
    late = T0.replace(hour=22, minute=30)
    assert quiet.due(late) == T0.replace(day=26, hour=6, minute=0)
    # 05:00 UTC = 06:00 Berlin, still quiet; 06:00 UTC = 07:00 Berlin, not.
    assert quiet.due(T0.replace(hour=5)) == T0.replace(hour=6)
    assert quiet.due(T0.replace(hour=6)) == T0.replace(hour=6)
    assert quiet.due(T0) == T0
