"""Storage changes for the write rate and the digest at 1M articles (docs/benchmarks.md).

- A batch insert of articles reaches SQLite as multi-row statements (storage.engine),
  and every article is in the search index as soon as the batch commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.bulk import insert_rows
from storage.engine import open_database
from storage.models import Article
from storage.search import candidate_ids

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = open_database(database_url)
    yield eng
    eng.dispose()


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
