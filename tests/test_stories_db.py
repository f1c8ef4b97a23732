"""Story assignment against a real database: SQLite file, and PostgreSQL when configured."""

from __future__ import annotations

import argparse
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor.commands.base import CommandContext
from monitor.commands.stories import register, run_restory, run_stories
from monitor.story_assign import StoryAssigner
from monitor.story_features import pack, signature, strong_features, title_words, tokens
from monitor.story_restory import restory
from monitor.story_settings import StoriesSettings
from storage.engine import open_database, session_factory
from storage.models import Article, ArticleSignature, Story
from storage.stories import list_stories
from tests.stories_texts import (
    BOILER_A,
    IT_WORKERS,
    SEAFOOD,
    SEAFOOD_DE,
    SEAFOOD_REWRITE,
    background,
    copy_of_seafood,
)

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = open_database(database_url)
    yield session_factory(engine)
    engine.dispose()


def add_article(
    session: Session,
    url: str,
    title: str,
    body: str,
    seen: datetime,
    published: datetime | None = None,
    duplicate_of: Article | None = None,
    source: str | None = None,
    language: str = "en",
) -> Article:
    article = Article(
        url_hash=hashlib.sha1(url.encode()).hexdigest(),
        canonical_url=url,
        url=url,
        source=source or url.split("/")[2],
        title=title,
        text=body,
        language=language,
        published=published,
        first_seen=seen,
        fingerprint=hashlib.sha1(body.encode()).hexdigest(),
        duplicate_of_id=duplicate_of.id if duplicate_of else None,
    )
    session.add(article)
    session.flush()
    return article


def seed_background(sessions: sessionmaker[Session], assigner: StoryAssigner, n: int = 30) -> None:
    with sessions() as session:
        for i, (title, body) in enumerate(background(n)):
            a = add_article(session, f"https://bg{i}.example/{i}", title, body, T0 - timedelta(1))
            assigner.assign(session, a)
        session.commit()


def test_copies_and_rewrites_form_one_story_with_earliest_first(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock(T0)
    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), clock)
    seed_background(sessions, assigner)
    with sessions() as session:
        late = add_article(
            session,
            "https://b.example/copy",
            "Pyongyang profits from fish",
            copy_of_seafood(),
            T0,
            published=T0 - timedelta(hours=2),
        )
        s1 = assigner.assign(session, late)
        early = add_article(
            session,
            "https://a.example/orig",
            "Hunchun plants use 1,850 workers",
            f"{SEAFOOD}\n{BOILER_A}",
            T0 + timedelta(minutes=5),
            published=T0 - timedelta(hours=6),
        )
        s2 = assigner.assign(session, early)
        rewrite = add_article(
            session,
            "https://c.example/rw",
            "Labour group on fish plants",
            SEAFOOD_REWRITE,
            T0 + timedelta(hours=3),
        )
        s3 = assigner.assign(session, rewrite)
        other = add_article(
            session,
            "https://d.example/it",
            "Three charged over IT workers",
            IT_WORKERS,
            T0 + timedelta(hours=1),
        )
        s4 = assigner.assign(session, other)
        exact = add_article(
            session,
            "https://e.example/same",
            "Same text",
            SEAFOOD + BOILER_A,
            T0 + timedelta(hours=4),
            duplicate_of=early,
        )
        s5 = assigner.assign(session, exact, duplicate_of=early)
        session.commit()
    assert s1 == s2 == s3 == s5
    assert s4 != s1
    with sessions() as session:
        story = session.get(Story, s1)
        assert story is not None
        assert story.size == 4
        assert story.first_article_id == early.id
        assert story.title == "Hunchun plants use 1,850 workers"
        assert story.first_published == T0 - timedelta(hours=6)
        assert story.first_seen == T0
        assert story.last_seen == T0 + timedelta(hours=4)
        # the exact copy is not indexed: three signatures for four articles
        sigs = session.scalar(
            select(func.count())
            .select_from(ArticleSignature)
            .join(Article, Article.id == ArticleSignature.article_id)
            .where(Article.story_id == s1)
        )
        assert sigs == 3
        views = list_stories(session, since=T0 - timedelta(hours=1))
        assert [v.id for v in views][:2] == [s1, s4]
        assert views[0].first_source == "a.example"
        assert views[0].articles[0].url == "https://a.example/orig"


def _seafood_story(sessions: sessionmaker[Session], published: datetime | None = None) -> int:
    """Background and the seafood report placed by an assigner that then goes away (the
    process before a restart); the report's story id."""
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), Clock(T0))
    seed_background(sessions, first)
    with sessions() as session:
        a = add_article(session, "https://a.example/1", "Fish plants", SEAFOOD, T0, published)
        story_id = first.assign(session, a)
        session.commit()
    return story_id


def test_restart_rebuilds_index_from_database(sessions: sessionmaker[Session]) -> None:
    story_id = _seafood_story(sessions)
    with sessions() as session:
        second = StoryAssigner(session, StoriesSettings(), Clock(T0 + timedelta(days=1)))
        assert second.loaded == 31
        b = add_article(
            session, "https://b.example/2", "Fish again", copy_of_seafood(), T0 + timedelta(days=1)
        )
        assert second.assign(session, b) == story_id
        c = add_article(
            session, "https://c.example/3", "Rewrite", SEAFOOD_REWRITE, T0 + timedelta(days=1)
        )
        assert second.assign(session, c) == story_id
        session.commit()


def test_a_retelling_in_another_language_joins_after_a_restart(
    sessions: sessionmaker[Session],
) -> None:
    """The rebuilt index knows each article's language (read from the articles table),
    which the rule for retellings in another language needs."""
    story_id = _seafood_story(sessions, published=T0)
    later = T0 + timedelta(hours=20)
    with sessions() as session:
        second = StoryAssigner(session, StoriesSettings(), Clock(later))
        b = add_article(
            session,
            "https://b.example/de",
            "Fischfabriken",
            SEAFOOD_DE,
            later,
            later,
            language="de",
        )
        assert second.assign(session, b) == story_id
        session.commit()


def test_the_day_an_opening_names_survives_a_restart(sessions: sessionmaker[Session]) -> None:
    """The follow-up rule holds after a restart: the day is stored with the signature."""
    wednesday = T0 + timedelta(days=1)
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), Clock(wednesday))
    seed_background(sessions, first)
    with sessions() as session:
        a = add_article(
            session, "https://a.example/1", "Fish", "On Monday the group said. " + SEAFOOD, T0
        )
        a.published = wednesday
        story_id = first.assign(session, a)
        session.commit()
        stored = session.scalars(
            select(ArticleSignature.event_day).where(ArticleSignature.article_id == a.id)
        ).one()
        assert stored == date(2025, 3, 3)
    # Each after its own restart: the two share most shingles, so the later would be a
    # copy of the earlier whatever day it names.
    for lede, joins in (
        ("On March 5, Hunchun officials answered the report. ", False),
        ("The report came out on Monday. ", True),
    ):
        with sessions() as session:
            restarted = StoryAssigner(session, StoriesSettings(), Clock(wednesday))
            later = add_article(
                session,
                "https://b.example/2",
                "Officials and the report",
                lede + SEAFOOD_REWRITE,
                wednesday,
                published=wednesday,
            )
            assert (restarted.assign(session, later) == story_id) is joins, lede
            session.rollback()


def test_restart_reads_version_1_rows_and_keeps_near_copy_flags(
    sessions: sessionmaker[Session],
) -> None:
    """Rows written before packed hashes (names, no flag) still rebuild the index."""
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), Clock(T0))
    seed_background(sessions, first)
    with sessions() as session:
        a = add_article(session, "https://a.example/1", "Fish plants", SEAFOOD, T0)
        story_id = first.assign(session, a)
        b = add_article(session, "https://b.example/2", "Fish", copy_of_seafood(), T0)
        assert first.assign(session, b) == story_id
        session.commit()
        rows = session.execute(
            select(ArticleSignature.article_id, ArticleSignature.near_copy).where(
                ArticleSignature.article_id.in_([a.id, b.id])
            )
        )
        flags = {aid: flag for aid, flag in rows}
        assert flags == {a.id: False, b.id: True}
        # Turn the original into a version 1 row: names instead of hashes, no flag.
        title = signature("Fish plants", SEAFOOD)
        assert title.features == pack(strong_features(tokens("Fish plants " + SEAFOOD)))
        session.execute(
            update(ArticleSignature)
            .where(ArticleSignature.article_id == a.id)
            .values(
                version=1,
                features="\n".join(strong_features(tokens("Fish plants") + tokens(SEAFOOD))),
                title_words="\n".join(title_words("Fish plants")),
                feature_hashes=None,
                title_hashes=None,
                near_copy=None,
            )
        )
        session.commit()
    with sessions() as session:
        second = StoryAssigner(session, StoriesSettings(), Clock(T0 + timedelta(days=1)))
        assert second.loaded == 32
        assert second.index.independent == 31  # the copy's flag was read, not recomputed
        c = add_article(
            session, "https://c.example/3", "Rewrite", SEAFOOD_REWRITE, T0 + timedelta(days=1)
        )
        assert second.assign(session, c) == story_id
        session.commit()


def test_window_expiry_starts_a_new_story(sessions: sessionmaker[Session]) -> None:
    settings = StoriesSettings(window_days=30)
    with sessions() as session:
        assigner = StoryAssigner(session, settings, Clock(T0))
        a = add_article(session, "https://a.example/1", "Fish plants", SEAFOOD, T0)
        old = assigner.assign(session, a)
        later = T0 + timedelta(days=29)
        b = add_article(session, "https://b.example/2", "Copy", copy_of_seafood(), later)
        assert assigner.assign(session, b) == old  # copies link across the window
        session.commit()
    much_later = T0 + timedelta(days=61)
    with sessions() as session:
        # a restart after the window: nothing is loaded, the copy starts a new story
        fresh = StoryAssigner(session, settings, Clock(much_later))
        assert fresh.loaded == 0
        c = add_article(session, "https://c.example/3", "Copy", copy_of_seafood(), much_later)
        assert fresh.assign(session, c) != old
        # the long-running assigner expires by the article's time too
        d = add_article(session, "https://d.example/4", "Copy", SEAFOOD, much_later)
        assert assigner.assign(session, d) != old
        session.commit()


def test_rolled_back_story_is_not_reused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
        a = add_article(session, "https://a.example/1", "Fish plants", SEAFOOD, T0)
        assigner.assign(session, a)
        session.rollback()
    with sessions() as session:
        b = add_article(session, "https://b.example/2", "Copy", copy_of_seafood(), T0)
        story_id = assigner.assign(session, b)
        session.commit()
        story = session.get(Story, story_id)
        assert story is not None and story.size == 1 and story.first_article_id == b.id


def _ctx(url: str, out: io.StringIO, err: io.StringIO) -> CommandContext:
    return CommandContext(config=None, database_url=url, stdout=out, stderr=err)  # type: ignore[arg-type]


def stories_cli(database_url: str, *argv: str) -> tuple[int, str, str]:
    """`newsmon stories ARGV` on ``database_url``: exit code, stdout, stderr."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out, err = io.StringIO(), io.StringIO()
    ctx = _ctx(database_url, out, err)
    try:
        code = run_stories(parser.parse_args(["stories", *argv]), ctx)
    finally:
        ctx.close()
    return code, out.getvalue(), err.getvalue()


def test_stories_command_json_and_restory(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
    seed_background(sessions, assigner, 12)
    with sessions() as session:
        for i, body in enumerate([SEAFOOD, copy_of_seafood(), SEAFOOD_REWRITE, IT_WORKERS]):
            art = add_article(
                session,
                f"https://s{i}.example/a",
                f"Title {i}",
                body,
                T0 + timedelta(hours=i),
                published=T0 + timedelta(hours=i),
            )
            assigner.assign(session, art)
        session.commit()
        before = sorted(session.execute(select(Article.url, Article.story_id)).all())

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out, err = io.StringIO(), io.StringIO()
    ctx = _ctx(database_url, out, err)
    args = parser.parse_args(["stories", "--since", "2025-03-04", "--json", "--limit", "5"])
    assert run_stories(args, ctx) == 0
    data = json.loads(out.getvalue())
    sizes = sorted(s["size"] for s in data)
    assert sizes == [1, 3]
    big = next(s for s in data if s["size"] == 3)
    assert big["first_source"] == "s0.example"
    assert {a["url"] for a in big["articles"]} == {f"https://s{i}.example/a" for i in range(3)}
    assert set(big["articles"][0]) >= {"url", "source", "published", "title", "language"}

    out, err = io.StringIO(), io.StringIO()
    args = parser.parse_args(["restory", "--since", "2025-03-01"])
    assert run_restory(args, _ctx(database_url, out, err)) == 0
    assert "16/16" in err.getvalue()
    with sessions() as session:
        after = sorted(session.execute(select(Article.url, Article.story_id)).all())
        groups_before = {frozenset(u for u, s in before if s == sid) for _, sid in before}
        groups_after = {frozenset(u for u, s in after if s == sid) for _, sid in after}
        assert groups_before == groups_after
        stories_before = len({sid for _, sid in before})
        assert session.scalar(select(func.count()).select_from(Story)) == stories_before
        assert session.scalar(select(func.sum(Story.size))) == 16
    ctx.close()


def test_restory_keeps_earlier_stories_and_relinks_later_articles(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
        a = add_article(session, "https://a.example/1", "Fish", SEAFOOD, T0)
        sid = assigner.assign(session, a)
        b = add_article(
            session, "https://b.example/2", "Fish copy", copy_of_seafood(), T0 + timedelta(days=2)
        )
        assigner.assign(session, b)
        session.commit()
    with sessions() as session:
        count, stories = restory(session, T0 + timedelta(days=1))
        assert (count, stories) == (1, 1)
        assert session.get(Article, b.id).story_id == sid  # type: ignore[union-attr]
        story = session.get(Story, sid)
        assert story is not None and story.size == 2


def test_second_process_catches_up_from_persisted_signatures(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock(T0)
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), clock)
        second = StoryAssigner(session, StoriesSettings(), clock, catch_up_seconds=5)
    with sessions() as session:
        a = add_article(session, "https://a.example/1", "Fish", SEAFOOD, T0)
        story_id = first.assign(session, a)
        session.commit()
    clock.now = T0 + timedelta(seconds=10)
    with sessions() as session:
        b = add_article(session, "https://b.example/2", "Copy", copy_of_seafood(), clock.now)
        assert second.assign(session, b) == story_id
        session.commit()


def test_stories_topic_filter_and_text_listing(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    from storage.models import Match

    with sessions() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock(T0))
        a = add_article(session, "https://a.example/1", "Fish plants", SEAFOOD, T0)
        fish = assigner.assign(session, a)
        b = add_article(session, "https://b.example/2", "IT workers", IT_WORKERS, T0)
        assigner.assign(session, b)
        c = add_article(session, "https://c.example/3", "Fish copy", copy_of_seafood(), T0)
        assigner.assign(session, c)
        session.add(Match(article_id=c.id, topic="seafood", matched=True))
        session.add(Match(article_id=b.id, topic="seafood", matched=False))
        session.commit()
        assert [s.id for s in list_stories(session, topic="seafood")] == [fish]

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out, err = io.StringIO(), io.StringIO()
    args = parser.parse_args(["stories", "--topic", "seafood"])
    ctx = _ctx(database_url, out, err)
    assert run_stories(args, ctx) == 0
    ctx.close()
    text_out = out.getvalue()
    assert "2 article(s), first a.example" in text_out and "also c.example" in text_out
    assert "https://c.example/3" in text_out and "b.example" not in text_out
