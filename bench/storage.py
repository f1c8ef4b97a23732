"""Storage: write rates, query latency on a large archive, bytes per article.

    python -m bench storage [--sizes 100000] [--db sqlite|postgres|both] [--no-write]

1. Write rates, on an empty database, for 2,000 generated articles in batches of 200:
   - `store`: the crawler's StorePipeline (monitor.store.store_article with the batch's
     URL and fingerprint lookups, ORM rows, story assignment, one transaction per batch);
   - `rows`: storage.articles.add_article alone (article + URL aliases + matches);
   - `bulk`: Core INSERT ... executemany of articles and matches (how the archive below is
     generated; the ceiling of the database itself).
2. For each size N: an archive of N articles (one tenth matched, spread over 100 days;
   two articles a story, one in twenty an exact copy of the one before it; a block of
   N/33 more on day 60, a heavy day of about four days' articles), then the median of 5 runs
   of: the digest queries for a typical day (day 50: N/100 articles) and for the heavy
   day, a listing of the 50 newest matched articles, and `newsmon search` for a
   selective and a broad query.
3. Bytes per article on disk.
Text is generated from the sentences of ../shared/corpus (or a built-in sample without it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.signalmanager import SignalManager
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.orm import Session

from bench.common import append_results, corpus_pages, median
from monitor.dedup import content_fingerprint, url_key
from monitor.extract import ExtractedArticle
from monitor.items import PageItem
from monitor.matching import compile_query
from monitor.pipelines import StorePipeline
from monitor.story_assign import StoryAssigner
from monitor.story_features import signature
from storage.articles import MatchRecord, NewArticle, add_article, list_articles
from storage.digest_queries import matched_articles, story_copies
from storage.engine import open_database
from storage.models import Article, Match, Story
from storage.search import candidate_ids, load_texts

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)
TYPICAL_DAY = 50
HEAVY_DAY = 60
HEAVY_EVERY = 33  # one archive article in 33 is seen on the heavy day, in one block
COPY_EVERY = 20  # one in 20 is an exact copy of the article before it
FALLBACK = (
    "North Korean workers were sent abroad to build houses. The council approved "
    "the tram line. Prices rose in the third quarter. The minister met farmers."
)


def sentences(limit_pages: int = 400) -> list[str]:
    out: list[str] = []
    import lxml.html

    for page in corpus_pages(limit=limit_pages):
        try:
            tree = lxml.html.fromstring(page.html)
        except Exception:
            continue
        for bad in tree.xpath("//script|//style"):
            bad.drop_tree()
        for s in re.split(r"(?<=[.!?])\s+", " ".join(tree.text_content().split())):
            if 40 <= len(s) <= 300:
                out.append(s)
    return out or FALLBACK.split(". ")


class TextGen:
    def __init__(self, pool: list[str], seed: int = 7) -> None:
        self.pool = pool
        self.rng = random.Random(seed)

    def article(self, i: int, n_sentences: int = 12) -> tuple[str, str]:
        body = [self.rng.choice(self.pool) for _ in range(n_sentences)]
        title = f"{self.rng.choice(self.pool)[:70]} #{i}"
        return title, "\n".join(body) + f"\nReference {i} {uuid.uuid4().hex}."


def _match(i: int) -> list[MatchRecord]:
    matched = i % 10 == 0
    return (
        [
            MatchRecord(
                topic="nk-workers-abroad",
                matched=matched,
                score=1.0 + (i % 7),
                keywords=[
                    {
                        "tag": "Russia",
                        "count": 1,
                        "positions": [3],
                        "snippet": "workers in Russia",
                        "highlights": [[11, 17]],
                    }
                ],
                snippet="North Korean workers in Russia",
            )
        ]
        if matched or i % 3 == 0
        else []
    )


def write_store(
    engine: Engine, gen: TextGen, n: int, offset: int = 0, apart: bool = False
) -> float:
    """The crawler's StorePipeline on batches of 200: what the crawler process pays.

    Fingerprints and story signatures are computed beforehand, untimed, as the crawler's
    extraction processes hand them over with each page. ``apart`` times the fallback
    path (one savepoint and two lookups per article) for comparison.
    """
    items = []
    for i in range(offset, offset + n):
        title, body = gen.article(i)
        article = ExtractedArticle(text=body, title=title, language="en")
        items.append(
            PageItem(
                source="bench",
                url=f"https://s{i % 50}.org/{i}",
                final_url=f"https://s{i % 50}.org/{i}",
                html="",
                article=article,
                fingerprint=content_fingerprint(body, title),
                signature=signature(title, body, None),
            )
        )
    pipe = StorePipeline(SignalManager(), engine.url.render_as_string(hide_password=False))
    pipe.engine = engine
    with Session(engine) as session:
        pipe.stories = StoryAssigner(session)

    async def store_all() -> None:
        loop = asyncio.get_running_loop()
        for b in range(0, n, 200):
            batch = items[b : b + 200]
            if apart:
                pipe._store_apart(batch, list(range(len(batch))))
                continue
            for item in batch:
                pipe._pending.append((item, loop.create_future()))
            pipe.flush()

    start = time.perf_counter()
    asyncio.run(store_all())
    return n / (time.perf_counter() - start)


def _new(i: int, title: str, body: str, seen: datetime) -> NewArticle:
    url = f"https://r{i % 50}.org/a/{i}"
    key = url_key(url)
    return NewArticle(
        url_hash=key,
        canonical_url=url,
        url=url,
        source=f"src{i % 40}",
        fingerprint=uuid.uuid4().hex[:40],
        title=title,
        text=body,
        language="en",
        published=seen,
        first_seen=seen,
        url_hashes=(key,),
    )


def write_rows(engine: Engine, gen: TextGen, n: int, offset: int) -> float:
    start = time.perf_counter()
    for b in range(0, n, 200):
        with Session(engine) as session, session.begin():
            for i in range(offset + b, offset + min(b + 200, n)):
                title, body = gen.article(i)
                with session.begin_nested():
                    add_article(session, _new(i, title, body, DAY0), _match(i))
    return n / (time.perf_counter() - start)


def _seen(p: int, n: int, days: int, archive: bool) -> datetime:
    """When the ``p``-th of ``n`` articles was first seen: evenly over ``days``; in an
    archive, a block of n / HEAVY_EVERY consecutive articles lands on HEAVY_DAY too (a
    day's articles are stored that day, so they have neighbouring ids)."""
    heavy = n // HEAVY_EVERY if archive else 0
    step = timedelta(days=days) / max(n - heavy, 1)
    start = int(timedelta(days=HEAVY_DAY) / step) if heavy else n
    if p < start:
        return DAY0 + step * p
    if p < start + heavy:
        return DAY0 + timedelta(days=HEAVY_DAY) + timedelta(days=1) * (p - start) / heavy
    return DAY0 + step * (p - heavy)


def _links(i: int, seen: datetime, stories: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Archive articles come in stories of two (i, i + 1 for even i; a story row is
    added for the first); one in COPY_EVERY is an exact copy of the article before it."""
    story_id = i // 2 + 1
    if i % 2 == 0:
        stories[story_id] = {
            "id": story_id,
            "title": "",
            "first_seen": seen,
            "last_seen": seen,
            "size": 2,
        }
    copy = i % COPY_EVERY == 1
    return {"story_id": story_id, "duplicate_of_id": i if copy else None}


def write_bulk(
    engine: Engine,
    gen: TextGen,
    n: int,
    offset: int,
    days: int = 100,
    progress: Callable[[int], None] | None = None,
    archive: bool = False,
) -> float:
    """Core INSERTs of articles and matches, 2,000 a transaction. ``archive`` (an even
    ``offset``) adds stories, exact copies and the heavy day, for the queries."""
    start = time.perf_counter()
    for b in range(0, n, 2000):
        rows: list[dict[str, Any]] = []
        match_rows: list[dict[str, Any]] = []
        stories: dict[int, dict[str, Any]] = {}
        for i in range(offset + b, offset + min(b + 2000, n)):
            title, body = gen.article(i, n_sentences=8)
            seen = _seen(i - offset, n, days, archive)
            url = f"https://k{i % 50}.org/a/{i}"
            rows.append(
                {
                    "id": i + 1,
                    "url_hash": url_key(url),
                    "canonical_url": url,
                    "url": url,
                    "source": f"src{i % 40}",
                    "title": title,
                    "text": body,
                    "description": "",
                    "authors": [],
                    "language": "en",
                    "published": seen,
                    "first_seen": seen,
                    "fingerprint": uuid.uuid4().hex[:40],
                    **(_links(i, seen, stories) if archive else {}),
                }
            )
            match_rows.extend(
                {
                    "article_id": i + 1,
                    "topic": m.topic,
                    "matched": m.matched,
                    "score": m.score,
                    "keywords": m.keywords,
                    "snippet": m.snippet,
                    "computed_at": seen,
                }
                for m in _match(i)
            )
        with Session(engine) as session, session.begin():
            if stories:
                session.execute(insert(Story), list(stories.values()))
            session.execute(insert(Article), rows)
            if match_rows:
                session.execute(insert(Match), match_rows)
        if progress:
            progress(b + len(rows))
    return n / (time.perf_counter() - start)


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return median(times)


def queries(engine: Engine, n: int) -> dict[str, float]:
    def digest(day: datetime) -> Callable[[], None]:
        def run() -> None:
            with Session(engine) as s:
                matched_articles(s, day, day + timedelta(days=1))
                story_copies(s, day, day + timedelta(days=1))

        return run

    def listing() -> None:
        with Session(engine) as s:
            list_articles(s, matched_only=True, limit=50)

    def search(q: str) -> Callable[[], None]:
        cq = compile_query(q)

        def run() -> None:
            with Session(engine) as s:
                ids = candidate_ids(s, cq.narrowing(), limit=2000) or []  # search's default
                [cq.match(title, body) for _, title, body in load_texts(s, ids)]

        return run

    return {
        "digest day": timed(digest(DAY0 + timedelta(days=TYPICAL_DAY))),
        "digest heavy day": timed(digest(DAY0 + timedelta(days=HEAVY_DAY))),
        "list 50 matched": timed(listing),
        "search selective": timed(search('"reference 4242" AND 4242')),
        "search broad": timed(search("the AND of"), runs=3),
    }


def db_bytes(engine: Engine, path: Path | None) -> int:
    if path is not None:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return path.stat().st_size
    with engine.connect() as c:
        return int(c.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def _postgres_db(base: str) -> tuple[str, Callable[[], None]]:
    from sqlalchemy.engine import make_url

    name = f"newsmon_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def _progress(kind: str, done: int) -> Callable[[int], None]:
    def show(k: int) -> None:
        print(f"\r{kind}: {done + k:,} articles", end="", file=sys.stderr, flush=True)

    return show


def run_backend(
    kind: str, sizes: list[int], gen: TextGen, tmp: Path, pg_base: str, write_n: int = 2000
) -> list[str]:
    rows = []
    drop: Callable[[], None] = lambda: None  # noqa: E731
    path: Path | None = None
    if kind == "sqlite":
        path = tmp / "bench.db"
        url = f"sqlite:///{path}"
    else:
        url, drop = _postgres_db(pg_base)
    try:
        engine = open_database(url)
        w_store = write_store(engine, gen, write_n)
        w_apart = write_store(engine, gen, write_n, offset=5_000_000, apart=True)
        w_rows = write_rows(engine, gen, write_n, offset=10_000_000)
        w_bulk = write_bulk(engine, gen, write_n * 10, offset=20_000_000)
        rows.append(
            f"| {kind} | write: store {w_store:,.0f}/s (savepoint per article "
            f"{w_apart:,.0f}/s), rows {w_rows:,.0f}/s, "
            f"bulk {w_bulk:,.0f}/s | | | | | | |"
        )
        engine.dispose()
        if path is not None:
            path.unlink()
            for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                extra.unlink(missing_ok=True)
        else:
            drop()
            url, drop = _postgres_db(pg_base)
        engine = open_database(url)
        done = 0
        for n in sorted(sizes):
            write_bulk(
                engine,
                gen,
                n - done,
                offset=done,
                progress=_progress(kind, done),
                archive=True,
            )
            print(file=sys.stderr)
            done = n
            if kind == "postgres":
                with engine.connect() as c:
                    c.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            else:
                with engine.begin() as c:
                    c.exec_driver_sql("ANALYZE")
            q = queries(engine, n)
            size = db_bytes(engine, path)
            rows.append(
                f"| {kind} | {n:,} | {q['digest day']:.0f} | {q['digest heavy day']:.0f} | "
                f"{q['list 50 matched']:.0f} | {q['search selective']:.0f} | "
                f"{q['search broad']:.0f} | {size / n:,.0f} |"
            )
        engine.dispose()
    finally:
        drop()
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench storage")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "NEWSMON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--write-n", type=int, default=2000, help="articles per write-rate measurement"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    gen = TextGen(sentences())
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    lines = [
        f"`python -m bench storage --sizes {args.sizes} --db {args.db}`; query times are "
        "medians in ms",
        "",
        "| db | articles | digest day | digest heavy day | list 50 matched | "
        "search selective | search broad | bytes/article |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        for kind in kinds:
            lines.extend(run_backend(kind, sizes, gen, Path(tmp), args.postgres_url, args.write_n))
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        append_results("## Storage", table)
    return 0
