"""Storage changes for the write rate and the digest at 1M articles (docs/benchmarks.md).

- A batch insert of articles reaches SQLite as multi-row statements (storage.engine),
  and every article is in the search index as soon as the batch commits.
- ix_articles_duplicate_of_id and ix_articles_story_id hold non-NULL values only
  (migration 0012), so that after ANALYZE the digest's copies query still looks copies
  up by them instead of walking first_seen over the archive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.bulk import insert_rows
from storage.digest_queries import story_copies
from storage.engine import alembic_config, open_database, upgrade
from storage.models import Article, Match
from storage.search import candidate_ids

T0 = datetime(2026, 3, 1, tzinfo=UTC)
BEFORE = "0011_story_overrides"


def article_row(
    i: int, *, text_: str | None = None, duplicate_of: int | None = None
) -> dict[str, Any]:
    return {
        "id": i,
        "url_hash": f"{i:040d}",
        "canonical_url": f"https://a.example/{i}",
        "url": f"https://a.example/{i}",
        "source": "a.example",
        "title": f"Report number {i}",
        "text": text_ if text_ is not None else f"Harbour workers met the council. Code w{i}x.",
        "description": "",
        "authors": [],
        "language": "en",
        "published": None,
        "first_seen": T0 + timedelta(hours=i),
        "fingerprint": f"{i:040d}",
        "duplicate_of_id": duplicate_of,
    }


def insert_statements(engine: Engine) -> list[int]:
    """Rows per statement executed for INSERT INTO articles, recorded from now on (an
    executemany of one-row statements counts as that many statements of one row)."""
    sizes: list[int] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if not statement.startswith("INSERT INTO articles "):
            return
        if params and isinstance(params[0], tuple | list | dict):
            sizes.extend([1] * len(params))
        else:
            columns = statement.split(")", 1)[0].count(",") + 1
            sizes.append(len(params) // columns)

    event.listen(engine, "before_cursor_execute", keep)
    return sizes


def test_batch_insert_is_searchable_when_it_commits(engine: Engine) -> None:
    sizes = insert_statements(engine)
    with Session(engine) as session, session.begin():
        insert_rows(session, Article, [article_row(i) for i in range(1, 2501)])
    if engine.dialect.name == "sqlite":
        # 2,500 rows in three statements (not 2,500 one-row executions).
        assert sizes == [1000, 1000, 500]
    with Session(engine) as session:
        assert candidate_ids(session, [["w1234x"]]) == [1234]
        assert candidate_ids(session, [["w2500x"], ["harbour workers"]]) == [2500]
        assert candidate_ids(session, [["workers harbour"]]) == []  # a phrase, in order
        assert sorted(candidate_ids(session, [["council"]], limit=5000) or []) == list(
            range(1, 2501)
        )
        if engine.dialect.name == "sqlite":
            # The index matches its content table, term for term.
            session.execute(
                text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
            )


def test_a_failed_batch_leaves_nothing_in_the_index(engine: Engine) -> None:
    rows = [article_row(i) for i in range(1, 1501)]
    rows[1200]["url_hash"] = rows[0]["url_hash"]  # unique violation in the second statement
    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        insert_rows(session, Article, rows)
    with Session(engine) as session, session.begin():
        insert_rows(session, Article, [article_row(7, text_="A lighthouse keeper retired.")])
    with Session(engine) as session:
        assert session.scalars(select(Article.id)).all() == [7]
        assert candidate_ids(session, [["council"]]) == []
        assert candidate_ids(session, [["lighthouse"]]) == [7]


def copies_plan(engine: Engine) -> list[str]:
    """The plan of the digest's copies query for a day of an ANALYZEd archive of 2,000
    articles, one in twenty an exact copy of the one before, none in a story."""
    rows = [
        article_row(i, duplicate_of=i - 1 if i % 20 == 1 and i > 1 else None)
        for i in range(1, 2001)
    ]
    with Session(engine) as session, session.begin():
        insert_rows(session, Article, rows)
        insert_rows(
            session,
            Match,
            [
                {"article_id": i, "topic": "t", "matched": True, "score": 1.0, "keywords": [],
                 "snippet": "", "computed_at": T0}
                for i in range(10, 2001, 10)
            ],
        )  # fmt: skip
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        statements.append((statement, params))

    until = T0 + timedelta(hours=1900)
    event.listen(engine, "before_cursor_execute", keep)
    with Session(engine) as session:
        copies = story_copies(session, until - timedelta(days=1), until)
    event.remove(engine, "before_cursor_execute", keep)
    assert {c.duplicate_of_id for c in copies if c.duplicate_of_id} == {1880}
    statement, params = statements[-1]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return [
                str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            ]
        return [str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, params)]


def test_copies_are_looked_up_by_their_links_after_analyze(engine: Engine) -> None:
    plan = copies_plan(engine)
    assert any("ix_articles_duplicate_of_id" in step for step in plan), plan
    if engine.dialect.name == "sqlite":
        # Not "first_seen<?": every article before the window's end.
        assert not [s for s in plan if s.endswith("(first_seen<?)")], plan
        assert any("ix_articles_story_id (story_id=?)" in step for step in plan), plan


def test_the_digest_window_is_read_from_the_first_seen_index_alone(engine: Engine) -> None:
    """Migration 0013: duplicate_of_id and story_id are in the first_seen index, so the
    day's articles are chosen without reading the table (on SQLite both columns come
    after the text and its overflow pages)."""
    plan = copies_plan(engine)
    if engine.dialect.name == "sqlite":
        assert any("COVERING INDEX ix_articles_first_seen (first_seen>? AND first_seen<?)"
                   in step for step in plan), plan  # fmt: skip
    definition = index_definitions(engine, ("ix_articles_first_seen",))["ix_articles_first_seen"]
    assert "first_seen, duplicate_of_id, story_id" in definition, definition


def test_migration_0013_up_and_down(database_url: str) -> None:
    engine = open_database(database_url)
    command.downgrade(alembic_config(engine), "0012_write_read_perf")
    name = "ix_articles_first_seen"
    assert "duplicate_of_id" not in index_definitions(engine, (name,))[name]
    with Session(engine) as session, session.begin():
        session.execute(insert(Article), [article_row(1), article_row(2, duplicate_of=1)])
    upgrade(engine)
    assert "first_seen, duplicate_of_id, story_id" in index_definitions(engine, (name,))[name]
    with Session(engine) as session:
        assert session.scalars(select(Article.id).order_by(Article.id)).all() == [1, 2]
    engine.dispose()


def index_definitions(
    engine: Engine, names: tuple[str, ...] = ("ix_articles_duplicate_of_id", "ix_articles_story_id")
) -> dict[str, str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        else:
            rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes")
        return {name: sql for name, sql in rows if name in names}


def fts_hashsize(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT v FROM articles_fts_config WHERE k = 'hashsize'"
        ).scalar_one_or_none()


def test_migration_0012_up_and_down(database_url: str) -> None:
    engine = open_database(database_url)
    command.downgrade(alembic_config(engine), BEFORE)
    with Session(engine) as session, session.begin():
        session.execute(insert(Article), [article_row(1), article_row(2, duplicate_of=1)])
    assert all("IS NOT NULL" not in d for d in index_definitions(engine).values())
    upgrade(engine)
    definitions = index_definitions(engine)
    assert len(definitions) == 2
    assert all("IS NOT NULL" in d for d in definitions.values()), definitions
    if engine.dialect.name == "sqlite":
        assert fts_hashsize(engine) == 16 * 1024 * 1024
    with Session(engine) as session:
        ids = session.scalars(select(Article.id).where(Article.duplicate_of_id == 1)).all()
        assert ids == [2]
    command.downgrade(alembic_config(engine), BEFORE)
    assert all("IS NOT NULL" not in d for d in index_definitions(engine).values())
    if engine.dialect.name == "sqlite":
        assert fts_hashsize(engine) == 1024 * 1024
    engine.dispose()
