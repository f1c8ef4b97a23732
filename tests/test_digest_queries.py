"""storage.digest_queries and monitor.digest.build_digest against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from monitor.digest import build_digest
from storage.digest_queries import matched_articles, story_copies
from storage.engine import open_database, session_factory
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


def digest_selects(engine: Engine, session: Session) -> list[tuple[str, Any]]:
    """The SELECT statements (with parameters) that building the digest runs."""
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        build_digest(session, START, END, topics=TOPICS, tz=UTC, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return statements


def test_two_queries_whatever_the_size(engine: Engine, session: Session) -> None:
    assert len(digest_selects(engine, session)) == 2


def test_topics_no_longer_configured_are_left_out(session: Session) -> None:
    digest = build_digest(session, START, END, topics=["it-workers"], tz=UTC, now=NOW)
    assert [t.name for t in digest.topics] == ["it-workers"]
    assert [s.entry.article_id for s in digest.topics[0].stories] == [12]


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


def full_scans(node: dict[str, Any]) -> list[str]:
    """PostgreSQL plan nodes that read a whole table or index of articles or matches, or
    that fetch rows first and test them against a subquery (instead of looking them up)."""
    found = []
    if node.get("Relation Name") in ("articles", "matches") and (
        node["Node Type"] == "Seq Scan"
        or (node["Node Type"].startswith("Index") and "Index Cond" not in node)
        or "SubPlan" in node.get("Filter", "")
    ):
        found.append(f"{node['Node Type']} on {node['Relation Name']}")
    for child in node.get("Plans", []):
        found.extend(full_scans(child))
    return found


def test_plans_use_indexes(engine: Engine, session: Session) -> None:
    """Both queries reach articles through index lookups only: no scan of the archive.

    On PostgreSQL sequential scans are disabled for the EXPLAIN: a plan that still reads
    a whole table or index has no other path (as "story_id IN (..) OR duplicate_of_id
    IN (..)" had).
    """
    statements = digest_selects(engine, session)
    conn = session.connection()  # the session holds SQLite's lock: plan on its connection
    if engine.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for statement, params in statements:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            plan = [str(r[-1]) for r in rows]
            scans = [s for s in plan if s.startswith(("SCAN articles", "SCAN matches"))]
        else:
            rows = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
            tree = rows.scalar_one()[0]["Plan"]
            plan, scans = [json.dumps(tree)], full_scans(tree)
        assert any("ix_articles_first_seen" in step for step in plan), plan
        assert not scans, plan
