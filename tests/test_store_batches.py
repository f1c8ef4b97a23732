"""The store pipeline writes a batch in one go and falls back to one savepoint per article.

A batch is read with two lookups (known URLs, originals by text) and written without a
savepoint per article; the lookups must still see what the batch itself stored (a copy
later in the batch is a duplicate of an earlier one, a second URL of the same canonical
page is "known"), and when one article cannot be stored the batch is redone article by
article so that only that one is lost, and the story index holds no article that was
rolled back.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from scrapy.signalmanager import SignalManager
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.extract import ExtractedArticle
from monitor.items import PageItem
from monitor.pipelines import StorePipeline
from monitor.store import StoreResult
from monitor.story_assign import StoryAssigner
from storage.models import Article, ArticleUrl, Story
from tests.stories_texts import SEAFOOD

PUBLISHED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _item(url: str, text: str, *, canonical: str | None = None, hours: int = 0) -> PageItem:
    return PageItem(
        source="test",
        url=url,
        final_url=url,
        html="",
        article=ExtractedArticle(
            text=text,
            title=text.split(".")[0][:80],
            published=PUBLISHED.replace(hour=8 + hours),
            canonical_url=canonical,
            language="en",
        ),
    )


def _other(n: int) -> str:
    """An unrelated article: its own invented words, so no two of them are one story."""
    rng = random.Random(n)
    vocabulary = [
        "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(4))
        for _ in range(60)
    ]
    return " ".join(
        " ".join(rng.choice(vocabulary) for _ in range(14)).capitalize() + "." for _ in range(10)
    )


def _store(url: str, items: list[PageItem]) -> tuple[list[StoreResult | Exception], StorePipeline]:
    pipe = StorePipeline(
        SignalManager(),
        url,
        lambda session: StoryAssigner(session),
        batch_size=len(items),
        batch_seconds=60,
    )
    pipe.open()
    results: list[StoreResult | Exception] = []

    async def run() -> None:
        futures = []
        loop = asyncio.get_running_loop()
        for item in items:
            future: asyncio.Future[StoreResult] = loop.create_future()
            pipe._pending.append((item, future))
            futures.append(future)
        pipe.flush()
        for future in futures:
            try:
                results.append(await future)
            except Exception as exc:
                results.append(exc)

    asyncio.run(run())
    return results, pipe


def test_a_batch_sees_its_own_articles(database_url: str) -> None:
    items = [
        _item("https://a.example/seafood", SEAFOOD, hours=0),
        _item("https://b.example/copy", SEAFOOD, hours=2),  # same text, later: a copy
        _item(
            "https://a.example/amp/seafood",
            SEAFOOD,
            canonical="https://a.example/seafood",
            hours=3,
        ),  # the same page again under its AMP URL
        _item("https://c.example/council", _other(1), hours=1),
    ]
    results, pipe = _store(database_url, items)
    outcomes = [r.outcome for r in results if isinstance(r, StoreResult)]
    assert outcomes == ["new", "duplicate", "known", "new"]
    first, copy, again, other = results
    assert isinstance(first, StoreResult) and isinstance(copy, StoreResult)
    assert isinstance(again, StoreResult) and isinstance(other, StoreResult)
    assert copy.duplicate_of == first.article_id and again.article_id == first.article_id
    assert pipe.engine is not None
    with Session(pipe.engine) as session:
        stored = {a.id: a for a in session.scalars(select(Article))}
        assert len(stored) == 3
        assert stored[copy.article_id].story_id == stored[first.article_id].story_id
        assert stored[other.article_id].story_id != stored[first.article_id].story_id
        tracked = session.scalar(
            select(func.count()).where(ArticleUrl.article_id == first.article_id)
        )
        assert tracked == 2  # the AMP URL is remembered: it is never fetched again
    pipe.close()

    # A second batch (a new process) finds them all through the prefetched lookups.
    results, pipe = _store(database_url, [_item("https://d.example/x", SEAFOOD), items[3]])
    assert [r.outcome for r in results if isinstance(r, StoreResult)] == ["duplicate", "known"]
    pipe.close()


@pytest.mark.postgres
def test_one_bad_article_costs_only_itself(postgres_url: str) -> None:
    _, pipe = _store(postgres_url, [_item("https://a.example/1", SEAFOOD)])
    pipe.close()
    # PostgreSQL refuses NUL characters in text: a real failure, after the edited copy of
    # the stored article has joined its story in the first attempt.
    items = [
        _item("https://b.example/2", "Subscribe to our newsletter. " + SEAFOOD, hours=1),
        _item("https://a.example/3", _other(3) + "\x00", hours=2),
        _item("https://a.example/4", _other(4), hours=3),
    ]
    results, pipe = _store(postgres_url, items)
    assert isinstance(results[1], Exception)
    assert [r.outcome for r in (results[0], results[2]) if isinstance(r, StoreResult)] == [
        "new",
        "new",
    ]
    assert pipe.engine is not None and pipe.stories is not None
    with Session(pipe.engine) as session:
        ids = set(session.scalars(select(Article.id)))
        stories = set(session.scalars(select(Story.id)))
    assert len(ids) == 3 and len(stories) == 2
    # The failed attempt's articles left the index with their rolled-back rows.
    index = pipe.stories.index
    assert len(index) == len(ids) and all(i in index for i in ids)
    pipe.close()
