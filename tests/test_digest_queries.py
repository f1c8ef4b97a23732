"""storage.digest_queries and monitor.digest.build_digest against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from monitor.digest import build_digest
from storage.digest_queries import _in_window, matched_articles, story_copies
from storage.engine import open_database, session_factory
from storage.models import Article
from tests.digest_testdata import END, NOW, START, TOPICS, make_database


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = open_database(make_database(database_url))
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s


def test_matched_articles_in_window_only(session: Session) -> None:
    rows = matched_articles(session, START, END)
    # 4 is an exact duplicate, 5 is after the window, 10 did not match, 11 is before it.
    assert [(r.topic, r.article_id) for r in rows] == [
        ("it-workers", 12),
        ("nk-workers", 1), ("nk-workers", 2), ("nk-workers", 9), ("nk-workers", 6),
        ("nk-workers", 3), ("nk-workers", 8),
    ]  # fmt: skip
    first = rows[1]
    assert first.story_id == 1 and first.story_first_article_id == 1
    assert first.keywords[0]["tag"] == "student visa"
    assert first.first_seen.tzinfo is not None


def test_topic_filter(session: Session) -> None:
    assert [r.article_id for r in matched_articles(session, START, END, "it-workers")] == [12]
    assert matched_articles(session, START, END, "gulf") == []


def test_copies_cover_story_and_exact_duplicates_before_the_end(session: Session) -> None:
    ids = {c.article_id for c in story_copies(session, START, END)}
    # Story 1 members (not 5: seen after the end), the duplicate 4, story 2's older 7.
    assert ids == {1, 2, 3, 4, 6, 7, 8}


def test_build_digest_groups_by_story_and_ranks(session: Session) -> None:
    digest = build_digest(session, START, END, topics=TOPICS, tz=UTC, now=NOW)
    assert [t.name for t in digest.topics] == ["nk-workers", "it-workers", "gulf"]
    nk = digest.topics[0]
    assert [s.entry.article_id for s in nk.stories] == [1, 9, 6, 8]
    assert [s.rank for s in nk.stories] == [1, 2, 3, 4]
    lead = nk.stories[0]
    assert [c.outlet for c in lead.also_reported_by] == ["Yahoo News", "Deutsche Welle", "bg-news"]
    follow_up = nk.stories[3]
    assert follow_up.is_follow_up(START)
    assert [c.article_id for c in follow_up.also_reported_by] == [7]
    assert digest.topics[2].stories == ()
    assert digest.story_count == 5 and not digest.is_empty


def test_two_queries_whatever_the_size(engine: Engine, session: Session) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        build_digest(session, START, END, topics=TOPICS, tz=UTC, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 2


def test_empty_window_lists_configured_topics(session: Session) -> None:
    digest = build_digest(
        session,
        START - timedelta(days=30),
        START - timedelta(days=29),
        topics=TOPICS,
        tz=UTC,
        now=NOW,
    )
    assert digest.is_empty and [t.name for t in digest.topics] == list(TOPICS)


def test_sqlite_plan_uses_first_seen_index(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite query plan")
    query = _in_window(select(Article.id), START, END, None)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_articles_first_seen" in plan, plan
