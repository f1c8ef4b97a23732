"""Crash safety: kill -9 the crawl at seeded random points, then check the database.

After every kill: SQLite's integrity and foreign-key checks pass (PostgreSQL, one chain of
the same trials: its constraints are enforced by the server), every stored article has
exactly the match rows its text implies (re-matched and compared), its URL key and a
story whose size counts it, and nothing is half-written. After the last kill of a chain,
a rerun finishes with exactly the set of articles an uninterrupted run stores.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from monitor.config import load_config
from monitor.dedup import url_key
from monitor.matching import Matcher
from storage.models import Article, ArticleUrl, CrawlRun, Story
from tests import hostile
from tests.conftest import FIXTURES, REPO, write_config
from tests.sitesrv import SiteServer

pytestmark = pytest.mark.slow
PAGES = 60
CHAINS = 4
KILLS_PER_CHAIN = 5  # 20 kill trials in all
SEED = 20261126
NEWSMON = (sys.executable, "-m", "monitor")
NEWSMON_TOML = """
[crawl]
retry_times = 0
autothrottle = false
obey_robots_txt = false
extract_workers = 1
concurrent_requests_per_domain = 4
"""


class ServedCounter:
    """Counts article pages served; wakes a waiter when a target count is reached."""

    def __init__(self) -> None:
        self.count = 0
        self.target = -1
        self.reached = threading.Event()
        self.lock = threading.Lock()

    def arm(self, target: int) -> None:
        with self.lock:
            self.count, self.target = 0, target
            self.reached.clear()

    def served(self) -> None:
        with self.lock:
            self.count += 1
            if self.count == self.target:
                self.reached.set()

    def wrap(self, route: hostile.Route) -> hostile.Route:
        def counted(h: BaseHTTPRequestHandler) -> None:
            self.served()
            route(h)

        return counted


@dataclass(frozen=True)
class Site:
    server: SiteServer
    config: Path
    counter: ServedCounter


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("crash")
    counter = ServedCounter()
    with SiteServer(FIXTURES / "site") as server:
        feed = hostile.add_generated_site(server.routes, server.base, PAGES)
        for path in [p for p in server.routes if p.endswith(".html")]:
            server.routes[path] = counter.wrap(server.routes[path])
        sources = f'[[source]]\nname = "gen"\nurl = "{server.base}{feed}"\nallow_private = true\n'
        config = write_config(
            tmp / "config", sources, NEWSMON_TOML, topics=FIXTURES / "topics_small.toml"
        )
        yield Site(server, config, counter)


def _url(db: Path | str) -> str:
    """A SQLite file or a database URL (PostgreSQL)."""
    return db if isinstance(db, str) else f"sqlite:///{db}"


def _start(site: Site, db: Path | str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
    return subprocess.Popen(
        [*NEWSMON, "--config", str(site.config), "--db", _url(db), "crawl", "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: kill -9 takes every child with it
    )


def _run_to_end(site: Site, db: Path | str) -> dict:  # type: ignore[type-arg]
    proc = _start(site, db)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err.decode()[-3000:]
    return json.loads(out)  # type: ignore[no-any-return]


def _kill_at(site: Site, db: Path | str, after_pages: int, jitter: float) -> bool:
    """Start a crawl; kill -9 its process group ``jitter`` seconds after the
    ``after_pages``-th article page was served. With ``after_pages`` 0 the kill comes
    ``jitter`` seconds after the start or at the first article page, whichever is first
    (start-up, migrations, the feed). False when the crawl finished first."""
    site.counter.arm(max(after_pages, 1))
    proc = _start(site, db)
    if after_pages == 0:
        deadline = time.monotonic() + jitter
        while not site.counter.reached.wait(0.02) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
        jitter = 0
    else:
        while not site.counter.reached.wait(0.05):
            if proc.poll() is not None:
                break
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=jitter)
    if proc.poll() is not None:
        proc.communicate()
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    return True


def stored_state(db: Path | str) -> dict[str, tuple[str, ...]]:
    """canonical URL -> the topics it matched, for every stored article."""
    engine = create_engine(_url(db))
    with Session(engine) as session:
        if not engine.dialect.has_table(session.connection(), "articles"):
            return {}
        out = {
            a.canonical_url: tuple(sorted(m.topic for m in a.matches if m.matched))
            for a in session.scalars(select(Article))
        }
    engine.dispose()
    return out


def check_consistent(db: Path | str, matcher: Matcher) -> None:
    """What must hold after any crash: an intact file, and no half-written article
    (PostgreSQL enforces its foreign keys itself; SQLite's file is checked)."""
    if isinstance(db, Path):
        if not db.exists():
            return
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            con.close()
    engine = create_engine(_url(db))
    with Session(engine) as session:
        if not engine.dialect.has_table(session.connection(), "articles"):
            engine.dispose()  # killed before the schema was created
            return
        story_ids = set(session.scalars(select(Story.id)))
        for story in session.scalars(select(Story)):
            members = session.scalars(select(Article.id).where(Article.story_id == story.id))
            assert story.size == len(list(members)), story.id
            assert story.first_article_id is not None
        url_keys = set(session.scalars(select(ArticleUrl.url_hash)))
        for article in session.scalars(select(Article)):
            expected = {(m.topic, m.matched) for m in matcher.match(article.title, article.text)}
            stored = {(m.topic, m.matched) for m in article.matches}
            assert stored == expected, article.canonical_url
            assert article.url_hash in url_keys
            assert url_key(article.canonical_url) == article.url_hash
            assert len(article.text) >= 80 and article.title
            assert article.story_id in story_ids, article.canonical_url
    engine.dispose()


@pytest.fixture(scope="module")
def baseline(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, tuple[str, ...]], float]:
    db = tmp_path_factory.mktemp("baseline") / "base.db"
    started = time.monotonic()
    summary = _run_to_end(site, db)
    seconds = time.monotonic() - started
    state = stored_state(db)
    assert len(state) == PAGES and summary["status"] == "ok"
    return state, seconds


def _kill_chain(
    site: Site, db: Path | str, expected: dict[str, tuple[str, ...]], seed: int
) -> list[tuple[bool, int]]:
    """Kill -9 crawls into ``db`` at seeded points, check it after each, then let a
    rerun finish: it must store exactly what an uninterrupted run stores."""
    matcher = Matcher.compile(load_config(site.config).topics)
    rng = random.Random(seed)
    progress = []
    for trial in range(KILLS_PER_CHAIN):
        if trial == 0:  # a fresh database: kill during start-up or schema creation
            killed = _kill_at(site, db, 0, rng.uniform(0.3, 6.0))
        else:  # a kill while articles are fetched and stored, leaving some for later
            remaining = PAGES - len(stored_state(db))
            killed = _kill_at(site, db, rng.randint(1, max(1, remaining // 2)), rng.uniform(0, 0.3))
        check_consistent(db, matcher)
        progress.append((killed, len(stored_state(db))))
    assert sum(k for k, _ in progress) >= 3, progress
    summary = _run_to_end(site, db)
    assert summary["status"] == "ok"
    check_consistent(db, matcher)
    assert stored_state(db) == expected
    engine = create_engine(_url(db))
    with Session(engine) as session:
        statuses = list(session.scalars(select(CrawlRun.status).order_by(CrawlRun.id)))
    engine.dispose()
    # The last run completed; a killed run is left visibly unfinished, never "ok".
    assert statuses[-1] == "ok"
    assert all(s in ("running", "ok", "interrupted") for s in statuses)
    return progress


@pytest.mark.parametrize("chain", range(CHAINS))
def test_kill_9_at_random_points(
    site: Site,
    baseline: tuple[dict[str, tuple[str, ...]], float],
    tmp_path: Path,
    chain: int,
) -> None:
    expected, seconds = baseline
    progress = _kill_chain(site, tmp_path / "killed.db", expected, SEED + chain)
    print(f"chain {chain}: baseline {seconds:.1f}s; (killed, articles stored) {progress}")


def test_kill_9_at_random_points_on_postgresql(
    site: Site, baseline: tuple[dict[str, tuple[str, ...]], float], postgres_url: str
) -> None:
    """The same trial on PostgreSQL, where a batch reserves its ids from sequences and
    the server rolls a killed client's transaction back, whole."""
    expected, _seconds = baseline
    progress = _kill_chain(site, postgres_url, expected, SEED + 99)
    print(f"postgresql: (killed, articles stored) {progress}")
