"""Three `newsmon worker` processes on the real Redis and PostgreSQL against a local site.

The site: 20 invented stories, each told by three outlets (one feed each) as near-copies
(an added paragraph, an edited paragraph), 60 article pages. Article responses are held
back until five are in flight at once: with two requests per worker, that proves three
workers fetch side by side. Then: every article stored once, no URL fetched twice
(counted at the server), the same stories as one `newsmon crawl` of the same site; and
a worker killed mid-crawl and restarted, then a later crawl: the same final set.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from storage.models import Article, CrawlRun
from tests import hostile
from tests.conftest import FIXTURES, REPO, write_config
from tests.sitesrv import SiteServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
redis_mod = pytest.importorskip("redis")

STORIES = 20
OUTLETS = 3
PAGES = STORIES * OUTLETS
PER_WORKER = 2  # concurrent requests of each worker
HELD = 2 * PER_WORKER + 1  # in flight at once: only three workers can get there
DEADLINE = 120.0
SYLLABLES = [
    "ka", "lo", "mer", "tin", "vas", "ru", "gel", "pon", "dri", "sul", "bam", "teo",
    "nix", "far", "quo", "lem", "zar", "osk", "wen", "hib", "cal", "dun", "yor", "pes",
]  # fmt: skip


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def story_page(story: int, outlet: int) -> tuple[str, list[str]]:
    """Outlet 0 tells the story; outlet 1 adds a paragraph; outlet 2 edits one."""
    rng = random.Random(story * 7919)
    paras = [" ".join(_word(rng) for _ in range(28)).capitalize() + "." for _ in range(5)]
    title = f"Story {story}: " + " ".join(_word(rng) for _ in range(4))
    own = random.Random(story * 31 + outlet)
    if outlet == 1:
        paras.append(" ".join(_word(own) for _ in range(20)).capitalize() + ".")
        title = f"Outlet one on {story}: " + " ".join(_word(own) for _ in range(3))
    elif outlet == 2:
        paras[3] = " ".join(_word(own) for _ in range(28)).capitalize() + "."
        title = f"Outlet two on {story}: " + " ".join(_word(own) for _ in range(3))
    return title, paras


@dataclass
class Gate:
    """Holds article responses until released; ``full`` once ``needed`` wait at once."""

    needed: int = 0
    waiting: int = 0
    open: threading.Event = field(default_factory=threading.Event)
    full: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, needed: int) -> None:
        self.needed, self.waiting = needed, 0
        self.open.clear()
        self.full.clear()

    def release(self) -> None:
        self.needed = 0
        self.open.set()

    def hold(self, route: hostile.Route) -> hostile.Route:
        def held(h: BaseHTTPRequestHandler) -> None:
            if self.needed:
                with self.lock:
                    self.waiting += 1
                    if self.waiting >= self.needed:
                        self.full.set()  # the test opens the gate (release)
                self.open.wait(DEADLINE)
            route(h)

        return held


@dataclass(frozen=True)
class Cluster:
    server: SiteServer
    gate: Gate
    config: Path
    prefix: str
    redis_url: str
    sources: tuple[str, ...]
    articles: tuple[str, ...]  # paths

    def keys(self) -> Any:
        from monitor.distributed.settings import Keys

        return Keys(self.prefix)


def _build_site(server: SiteServer, gate: Gate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    sources, paths = [], []
    for outlet in range(OUTLETS):
        items = []
        for story in range(STORIES):
            title, paras = story_page(story, outlet)
            path = f"/o{outlet}/{story}.html"
            html = hostile.article_html(title, paras, canonical=f"{server.base}{path}")
            server.routes[path] = gate.hold(hostile.body(html.encode()))
            items.append((title, f"{server.base}{path}"))
            paths.append(path)
        server.routes[f"/o{outlet}/feed.xml"] = hostile.body(
            hostile.rss(items), "application/xml; charset=utf-8"
        )
        sources.append(f"outlet{outlet}")
    return tuple(sources), tuple(paths)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    redis_url = os.environ.get("NEWSMON_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("set NEWSMON_TEST_REDIS_URL to run the distributed tests")
    prefix = f"newsmon-test-{uuid.uuid4().hex[:10]}"
    gate = Gate()
    with SiteServer(FIXTURES / "site") as server:
        sources, paths = _build_site(server, gate)
        newsmon_toml = f"""
[crawl]
retry_times = 0
autothrottle = false
obey_robots_txt = false
extract_workers = 1
download_timeout = 150
concurrent_requests = {PER_WORKER}
concurrent_requests_per_domain = {PER_WORKER}

[distributed]
key_prefix = "{prefix}"
dupefilter_ttl_seconds = 2
queued_ttl_seconds = 600
"""
        feeds = "".join(
            f'[[source]]\nname = "outlet{o}"\nurl = "{server.base}/o{o}/feed.xml"\n'
            "allow_private = true\n"
            for o in range(OUTLETS)
        )
        config = write_config(
            tmp_path / "config", feeds, newsmon_toml, topics=FIXTURES / "topics_small.toml"
        )
        client = redis_mod.Redis.from_url(redis_url)
        try:
            yield Cluster(server, gate, config, prefix, redis_url, sources, paths)
        finally:
            gate.release()
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)
            client.close()


def _env(db: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
    env["NEWSMON_DATABASE_URL"] = db
    env["NEWSMON_REDIS_URL"] = redis_url
    return env


def start_worker(c: Cluster, db: str, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(c.config), "worker", "--name", name],
        cwd=REPO,
        env=_env(db, c.redis_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_workers(workers: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM each (Scrapy's clean stop); returns their stderr; each must exit 0."""
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    errors = []
    for proc in workers:
        _, err = proc.communicate(timeout=60)
        errors.append(err)
        assert proc.returncode in (0, -signal.SIGKILL), err[-3000:]
    return errors


def wait_for(what: str, check: Callable[[], bool], workers: list[subprocess.Popen[str]]) -> None:
    """Poll ``check`` until true; fail after DEADLINE or when a worker died."""
    done = threading.Event()
    for _ in range(int(DEADLINE * 5)):
        if check():
            return
        for proc in workers:
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                pytest.fail(f"a worker exited ({proc.returncode}): {proc.stderr.read()[-3000:]}")  # type: ignore[union-attr]
        done.wait(0.2)  # polling interval, not a timing assumption
    pytest.fail(f"timed out waiting for {what}")


def enqueue(c: Cluster) -> None:
    from monitor.distributed.enqueue import enqueue_sources

    client = redis_mod.Redis.from_url(c.redis_url)
    try:
        done = enqueue_sources(client, c.sources, c.keys().start)
        assert done.queued == c.sources
    finally:
        client.close()


def settled(c: Cluster, db: str, expected: int) -> Callable[[], bool]:
    """All ``expected`` articles stored, the queues empty, no worker's run still open."""
    engine = create_engine(db)
    client = redis_mod.Redis.from_url(c.redis_url)

    def check() -> bool:
        if client.llen(c.keys().start) or client.zcard(c.keys().requests):
            return False
        with Session(engine) as session:
            stored = session.scalar(select(func.count()).select_from(Article))
            running = session.scalar(
                select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")
            )
        return stored == expected and running == 0

    return check


def story_partition(db: str) -> set[frozenset[str]]:
    """Stories as sets of article paths (ids differ between databases, groups must not)."""
    engine = create_engine(db)
    groups: dict[int, set[str]] = {}
    with Session(engine) as session:
        for article in session.scalars(select(Article)):
            assert article.story_id is not None, article.url
            path = "/" + article.canonical_url.split("/", 3)[3]
            groups.setdefault(article.story_id, set()).add(path)
    engine.dispose()
    return {frozenset(g) for g in groups.values()}


def stored_paths(db: str) -> list[str]:
    engine = create_engine(db)
    with Session(engine) as session:
        urls = list(session.scalars(select(Article.canonical_url)))
    engine.dispose()
    return ["/" + u.split("/", 3)[3] for u in urls]


def single_process_stories(c: Cluster, tmp_path: Path) -> set[frozenset[str]]:
    c.gate.release()
    db = f"sqlite:///{tmp_path / 'single.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(c.config), "crawl", "--quiet"],
        cwd=REPO,
        env=_env(db, c.redis_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return story_partition(db)


def _article_hits(c: Cluster) -> dict[str, int]:
    hits = c.server.hits()
    return {p: hits[p] for p in c.articles}


def start_three(c: Cluster, db: str) -> list[subprocess.Popen[str]]:
    """Three workers, the sources enqueued, and five articles held in flight at once."""
    workers = [start_worker(c, db, f"w{i}") for i in range(3)]
    try:
        c.gate.arm(HELD)
        enqueue(c)
        wait_for(f"{HELD} articles in flight at once", c.gate.full.is_set, workers)
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def test_three_workers_share_the_crawl(cluster: Cluster, postgres_url: str, tmp_path: Path) -> None:
    c = cluster
    workers = start_three(c, postgres_url)
    try:
        c.gate.release()
        wait_for("the crawl to settle", settled(c, postgres_url, PAGES), workers)
    finally:
        stop_workers(workers)
    hits = _article_hits(c)
    assert sorted(stored_paths(postgres_url)) == sorted(c.articles)  # each stored once
    assert {p for p, n in hits.items() if n != 1} == set()  # each fetched once
    assert all(c.server.hits()[f"/o{o}/feed.xml"] == 1 for o in range(OUTLETS))
    engine = create_engine(postgres_url)
    with Session(engine) as session:
        runs = list(session.scalars(select(CrawlRun)))
    engine.dispose()
    assert {r.stats["worker"] for r in runs if r.sources} == {"w0", "w1", "w2"}
    assert sum(s.new + s.duplicates for r in runs for s in r.sources) == PAGES
    assert {r.status for r in runs} == {"ok"}
    clustered = story_partition(postgres_url)
    assert len(clustered) == STORIES, sorted(map(sorted, clustered))
    assert clustered == single_process_stories(c, tmp_path)


def test_killed_worker_loses_nothing(cluster: Cluster, postgres_url: str, tmp_path: Path) -> None:
    c = cluster
    workers = start_three(c, postgres_url)
    try:
        os.killpg(workers[0].pid, signal.SIGKILL)  # it holds requests at the gate
        workers[0].wait(30)
        c.gate.release()
        # The others finish; what the killed worker had taken (its requests in flight,
        # perhaps a feed and so all its links) is lost for now.
        client = redis_mod.Redis.from_url(c.redis_url)
        engine = create_engine(postgres_url)

        def others_done() -> bool:
            if client.zcard(c.keys().requests) or client.llen(c.keys().start):
                return False
            with Session(engine) as session:
                runs = session.scalars(select(CrawlRun).where(CrawlRun.status == "running"))
                return all(run.stats.get("worker") == "w0" for run in runs)

        wait_for("the other workers to fetch the rest", others_done, workers)
        workers[0] = start_worker(c, postgres_url, "w0")  # restarted under its name
        # The next cycle, once the lost URLs' claims have expired (TTL 2 s).
        wait_for(
            "the claims to expire",
            lambda: not any(client.scan_iter(match=f"{c.prefix}:fp:*", count=1000)),
            workers,
        )
        client.close()
        engine.dispose()
        lost = PAGES - len(stored_paths(postgres_url))
        assert lost >= 1
        enqueue(c)
        wait_for("the second crawl to settle", settled(c, postgres_url, PAGES), workers)
    finally:
        stop_workers(workers)
    assert sorted(stored_paths(postgres_url)) == sorted(c.articles)
    hits = _article_hits(c)
    twice = {p for p, n in hits.items() if n == 2}
    assert 1 <= len(twice) <= PER_WORKER, hits  # only the killed worker's requests again
    assert {p for p, n in hits.items() if n not in (1, 2)} == set()
    engine = create_engine(postgres_url)
    with Session(engine) as session:
        statuses = [r.status for r in session.scalars(select(CrawlRun))]
    engine.dispose()
    assert "killed" in statuses and "running" not in statuses
    assert story_partition(postgres_url) == single_process_stories(c, tmp_path)


def test_worker_needs_redis(cluster: Cluster, tmp_path: Path) -> None:
    """A worker that cannot reach Redis says so and exits 1 (nothing else happens)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(cluster.config),
            "worker",
            "--redis",
            "redis://127.0.0.1:1/0",
        ],
        cwd=REPO,
        env=_env(f"sqlite:///{tmp_path / 'x.db'}", cluster.redis_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in proc.stderr
    assert not (tmp_path / "x.db").exists()
