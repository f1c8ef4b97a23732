"""The bulk store path writes exactly what storing article after article writes.

monitor.store_bulk decides a whole batch in memory and writes each table in one
statement; monitor.store.store_article is the reference, one article at a time. The
same pages stored both ways, on two fresh databases, must leave the same rows in every
table the store writes: articles (with duplicate and story links), URLs, matches,
stories (first article, size, times), signatures and alert events. Times the store
takes from the clock (first_seen and what follows from it) are left out of the
comparison; ids are compared, since both paths number rows in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.extract import ExtractedArticle
from monitor.store import StoreResult, store_article
from monitor.store_bulk import SlowPathNeeded, ToStore, store_batch
from monitor.story_assign import StoryAssigner
from storage.engine import open_database
from storage.models import AlertEvent, Article, ArticleSignature, ArticleUrl, Match, Story
from tests.alerts_data import topic_match, watcher
from tests.stories_texts import (
    BOILER_A,
    BOILER_B,
    IT_WORKERS,
    SEAFOOD,
    SEAFOOD_EDITED_PARAGRAPH,
)
from tests.test_store_batches import _other

PUBLISHED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
WATCHERS = [watcher("desk", "https://hooks.invalid/desk")]


def _page(
    url: str,
    text: str,
    *,
    hours: int = 0,
    canonical: str | None = None,
    matched: bool = False,
    title: str | None = None,
) -> ToStore:
    return ToStore(
        source=url.split("/")[2],
        url=url,
        final_url=url,
        article=ExtractedArticle(
            text=text,
            title=title or text.split(".")[0][:80],
            published=PUBLISHED + timedelta(hours=hours),
            canonical_url=canonical,
            language="en",
        ),
        matches=(topic_match(),) if matched else (),
    )


def _pages() -> list[ToStore]:
    """One batch with every kind of decision, in store order."""
    edited = SEAFOOD.rsplit(".", 3)[0] + ". " + SEAFOOD_EDITED_PARAGRAPH
    return [
        _page("https://harbour.example/a/seafood", f"{SEAFOOD} {BOILER_A}", matched=True),
        _page("https://other.example/1", _other(1)),
        # the same canonical page under a tracking URL: known, no second row
        _page(
            "https://harbour.example/a/seafood?utm_source=feed",
            f"{SEAFOOD} {BOILER_A}",
            canonical="https://harbour.example/a/seafood",
            matched=True,
        ),
        # identical text elsewhere: an exact copy, in the original's story
        _page("https://mirror.example/seafood", f"{SEAFOOD} {BOILER_A}", hours=1, matched=True),
        # syndicated with other boilerplate, a new headline and a changed paragraph
        _page(
            "https://wire.example/nk-fish",
            f"{edited} {BOILER_B}",
            hours=2,
            matched=True,
            title="Report: North Korean workers in Chinese seafood plants",
        ),
        # published earlier than the story's first article: becomes its first article
        _page("https://early.example/fish", f"{edited} {BOILER_A}", hours=-3),
        _page("https://court.example/it", IT_WORKERS, hours=1, matched=True),
        _page("https://other.example/2", _other(2)),
    ]


Row = dict[str, Any]
CLOCK_COLUMNS = {"first_seen", "last_seen", "seen", "computed_at", "created", "due"}
TABLES = (Article, ArticleUrl, Match, Story, ArticleSignature, AlertEvent)


def _rows(session: Session, model: type[Any]) -> list[Row]:
    columns = [
        c
        for c in model.__table__.columns
        if c.name not in CLOCK_COLUMNS and c.name != "search_vector"
    ]
    key = list(model.__table__.primary_key.columns)
    return [dict(r._mapping) for r in session.execute(select(*columns).order_by(*key))]


def _snapshot(url: str) -> dict[str, list[Row]]:
    engine = open_database(url)
    with Session(engine) as session:
        snap = {m.__tablename__: _rows(session, m) for m in TABLES}
    engine.dispose()
    return snap


def _renumbered(snap: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Article and story ids replaced by their rank: PostgreSQL's sequences leave gaps
    where the bulk path reserved ids it did not use, which says nothing of the rows."""
    articles = {r["id"]: n for n, r in enumerate(snap["articles"], 1)}
    stories = {r["id"]: n for n, r in enumerate(snap["stories"], 1)}
    refs = {
        "article_id": articles,
        "duplicate_of_id": articles,
        "first_article_id": articles,
        "story_id": stories,
    }
    own_ids = {"articles": articles, "stories": stories}
    out: dict[str, list[Row]] = {}
    for table, rows in snap.items():
        columns = {**refs, "id": own_ids[table]} if table in own_ids else refs
        fixed = []
        for row in rows:
            row = {
                c: columns[c][v] if c in columns and v is not None else v for c, v in row.items()
            }
            if isinstance(row.get("key"), str) and row["key"].startswith("story:"):
                row["key"] = f"story:{stories[int(row['key'].split(':')[1])]}"
            fixed.append(row)
        out[table] = sorted(fixed, key=repr)
    return out


def _one_by_one(url: str, pages: Sequence[ToStore]) -> list[StoreResult]:
    engine = open_database(url)
    with Session(engine) as session, session.begin():
        stories = StoryAssigner(session)
        results = [
            store_article(
                session,
                source=p.source,
                url=p.url,
                final_url=p.final_url,
                article=p.article,
                matches=p.matches,
                stories=stories,
                alerts=WATCHERS,
            )
            for p in pages
        ]
    engine.dispose()
    return results


def _in_bulk(url: str, batches: Sequence[Sequence[ToStore]]) -> list[StoreResult]:
    engine = open_database(url)
    results: list[StoreResult] = []
    with Session(engine) as session:
        stories = StoryAssigner(session)
    for batch in batches:
        with Session(engine) as session, session.begin():
            results += store_batch(session, batch, stories=stories, alerts=WATCHERS)
    engine.dispose()
    return results


def test_one_batch_writes_what_one_article_at_a_time_writes(tmp_path: Any) -> None:
    one, fast = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'bulk.db'}"
    pages = _pages()
    expected = _one_by_one(one, pages)
    got = _in_bulk(fast, [pages])
    assert got == expected
    assert [r.outcome for r in got] == [
        "new",
        "new",
        "known",
        "duplicate",
        "new",
        "new",
        "new",
        "new",
    ]
    before, after = _snapshot(one), _snapshot(fast)
    assert after == before
    assert all(a["story_id"] is not None for a in after["articles"])
    sizes = sorted(s["size"] for s in after["stories"])
    assert sizes == [1, 1, 1, 4]  # seafood (4 articles), IT workers, two unrelated
    seafood = next(s for s in after["stories"] if s["size"] == 4)
    first = next(a for a in after["articles"] if a["id"] == seafood["first_article_id"])
    assert first["url"] == "https://early.example/fish"  # the earliest published
    assert len(after["alert_events"]) == 2  # one per story, not one per copy


def test_batches_that_continue_a_story_write_what_one_at_a_time_writes(tmp_path: Any) -> None:
    """The second batch finds the first batch's stories, originals and URLs stored."""
    one, fast = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'bulk.db'}"
    pages = _pages()
    expected = _one_by_one(one, pages)
    got = _in_bulk(fast, [pages[:2], pages[2:5], pages[5:]])
    assert got == expected
    assert _snapshot(fast) == _snapshot(one)


def test_postgresql_batches_write_what_one_at_a_time_writes(
    postgres_url: str, tmp_path: Any
) -> None:
    """Ids come from the sequences there: the rows must still match SQLite's reference."""
    one = f"sqlite:///{tmp_path / 'one.db'}"
    pages = _pages()
    expected = _one_by_one(one, pages)
    got = _in_bulk(postgres_url, [pages[:3], pages[3:]])
    assert [r.outcome for r in got] == [r.outcome for r in expected]
    assert _renumbered(_snapshot(postgres_url)) == _renumbered(_snapshot(one))


def test_an_original_without_a_story_is_left_to_the_slow_path(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    pages = _pages()
    _in_bulk(url, [pages[:1]])
    engine = open_database(url)
    with Session(engine) as session, session.begin():
        session.execute(Article.__table__.update().values(story_id=None))
    with Session(engine) as session, session.begin():
        stories = StoryAssigner(session)
        with pytest.raises(SlowPathNeeded, match="has no story"):
            store_batch(session, [pages[3]], stories=stories)
    engine.dispose()


def test_reserved_story_ids_never_reuse_a_deleted_story_id(tmp_path: Any) -> None:
    """SQLite's AUTOINCREMENT mark counts: a story deleted by restory keeps its id taken."""
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    pages = _pages()
    _in_bulk(url, [pages[:2]])
    engine = open_database(url)
    with Session(engine) as session, session.begin():
        newest = max(session.scalars(select(Story.id)))
        session.execute(Article.__table__.update().values(story_id=None))
        session.execute(Story.__table__.delete().where(Story.id == newest))
    engine.dispose()
    _in_bulk(url, [pages[6:7]])
    assert max(s["id"] for s in _snapshot(url)["stories"]) > newest


def test_a_story_gone_since_the_index_was_built_is_left_to_the_slow_path(tmp_path: Any) -> None:
    """The batch reads the stories it joins at the end: one deleted meanwhile (restory)
    rolls the batch back to store_article, which rebuilds the index from the database."""
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    pages = _pages()
    engine = open_database(url)
    with Session(engine) as session:
        stories = StoryAssigner(session)
    with Session(engine) as session, session.begin():
        store_batch(session, pages[:2], stories=stories)
    with Session(engine) as session, session.begin():
        session.execute(Article.__table__.update().values(story_id=None))
        session.execute(Story.__table__.delete())
    with Session(engine) as session, session.begin():
        with pytest.raises(SlowPathNeeded, match="gone"):
            store_batch(session, [pages[6], pages[4]], stories=stories)
        session.rollback()
    engine.dispose()
