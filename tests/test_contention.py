"""Contention: `newsmon run` with a crawl in progress, a concurrent manual `newsmon crawl`
of the same sources, and `newsmon articles` / `newsmon digest` in a loop, all on one
database. No command fails with "database is locked", no write is lost: every article is
stored once, with its matches, and counted as new by exactly one of the two crawls.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from monitor.config import load_config
from monitor.matching import Matcher
from storage.models import Article, CrawlRun, RunError, RunSource
from tests import hostile
from tests.conftest import FIXTURES, REPO, write_config
from tests.sitesrv import SiteServer

pytestmark = pytest.mark.slow
PAGES = 60
NEWSMON = (sys.executable, "-m", "monitor")
READERS = 4  # rounds of `articles` and `digest` while the crawls write
LOCKED = ("database is locked", "database table is locked", "deadlock")


@dataclass
class Gate:
    """Holds article pages back until both crawls are fetching, so that they overlap."""

    feed_hits: int = 0
    open: threading.Event = field(default_factory=threading.Event)
    first_article: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(self, route: hostile.Route) -> hostile.Route:
        def counted(h: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.feed_hits += 1
                if self.feed_hits >= 2:
                    self.open.set()
            route(h)

        return counted

    def article(self, route: hostile.Route) -> hostile.Route:
        def held(h: BaseHTTPRequestHandler) -> None:
            self.first_article.set()
            self.open.wait(90)
            route(h)

        return held


@dataclass(frozen=True)
class Site:
    server: SiteServer
    config: Path
    gate: Gate
    digests: Path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    gate = Gate()
    with SiteServer(FIXTURES / "site") as server:
        feed = hostile.add_generated_site(server.routes, server.base, PAGES)
        for path in list(server.routes):
            route = server.routes[path]
            server.routes[path] = gate.feed(route) if path == feed else gate.article(route)
        digests = tmp_path / "digests"
        newsmon_toml = f"""
[crawl]
retry_times = 0
autothrottle = false
obey_robots_txt = false
extract_workers = 1
download_timeout = 120
concurrent_requests_per_domain = 4

[schedule]
jitter_seconds = 0
crawl_interval_minutes = 600
heartbeat_seconds = 1

[digest]
directory = "{digests}"
email = false
"""
        sources = f'[[source]]\nname = "gen"\nurl = "{server.base}{feed}"\nallow_private = true\n'
        config = write_config(
            tmp_path / "config", sources, newsmon_toml, topics=FIXTURES / "topics_small.toml"
        )
        yield Site(server, config, gate, digests)


def _env(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
    env["NEWSMON_DATABASE_URL"] = db
    return env


def _newsmon(site: Site, db: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*NEWSMON, "--config", str(site.config), *args],
        cwd=REPO,
        env=_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished_runs(db: str) -> list[CrawlRun]:
    engine = create_engine(db)
    with Session(engine) as session:
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.finished.is_not(None))))
    engine.dispose()
    return runs


def _contend(site: Site, db: str) -> None:
    scheduler = _newsmon(site, db, "run")
    try:
        # The scheduler's first crawl starts at once (jitter 0) and is held at the gate.
        assert site.gate.first_article.wait(120), "the scheduled crawl never started"
        manual = _newsmon(site, db, "crawl", "--json")
        readers: list[tuple[str, subprocess.CompletedProcess[str]]] = []
        for _ in range(READERS):
            for args in (("articles", "--json"), ("digest", "--since", "2000-01-01")):
                proc = subprocess.run(
                    [*NEWSMON, "--config", str(site.config), *args],
                    cwd=REPO,
                    env=_env(db),
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                readers.append((args[0], proc))
        out, err = manual.communicate(timeout=240)
        assert manual.returncode == 0, err[-3000:]
        assert json.loads(out)["status"] == "ok"
        for name, proc in readers:
            assert proc.returncode == 0, (name, proc.stderr[-2000:])
            assert not any(word in proc.stderr.lower() for word in LOCKED), proc.stderr
        # Wait for the scheduled crawl to be recorded as finished, then stop the scheduler.
        while len(_finished_runs(db)) < 2:
            if scheduler.poll() is not None:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                scheduler.wait(timeout=0.2)  # polling the database, not sleeping on logic
    finally:
        if scheduler.poll() is None:
            scheduler.send_signal(signal.SIGTERM)
        _, run_err = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, run_err[-3000:]
    assert not any(word in run_err.lower() for word in LOCKED), run_err[-3000:]


def _check_no_lost_write(site: Site, db: str) -> None:
    matcher = Matcher.compile(load_config(site.config).topics)
    engine = create_engine(db)
    with Session(engine) as session:
        articles = list(session.scalars(select(Article)))
        sources = [
            (s.run_id, s.links_seen, s.fetched, s.new, s.duplicates, s.errors_by_reason)
            for s in session.scalars(select(RunSource))
        ]
        errors = [(e.reason, e.detail[:200]) for e in session.scalars(select(RunError).limit(5))]
        assert len(articles) == PAGES, (sources, errors)
        assert len({a.canonical_url for a in articles}) == PAGES
        for article in articles:
            expected = {(m.topic, m.matched) for m in matcher.match(article.title, article.text)}
            assert {(m.topic, m.matched) for m in article.matches} == expected
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.kind == "crawl")))
        assert len(runs) == 2 and {r.status for r in runs} == {"ok"}
        counts = [(s.new, s.duplicates, s.fetched) for s in session.scalars(select(RunSource))]
        # Both crawls fetched pages the other stored too: the writes really raced.
        assert sum(fetched for _, _, fetched in counts) > PAGES, counts
        new = sum(session.scalars(select(RunSource.new)))
        assert new == PAGES  # each article counted new by exactly one crawl
        failed = [
            (e.url, e.detail)
            for e in session.scalars(select(RunError).where(RunError.reason == "store-failed"))
        ]
        assert failed == [], failed[:3]
    engine.dispose()


def test_contention_sqlite(site: Site, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    _contend(site, db)
    _check_no_lost_write(site, db)


@pytest.mark.postgres
def test_contention_postgres(site: Site, postgres_url: str) -> None:
    _contend(site, postgres_url)
    _check_no_lost_write(site, postgres_url)
