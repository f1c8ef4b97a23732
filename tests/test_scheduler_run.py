"""End to end: a real `newsmon run` process against the fixture site on 127.0.0.1.

Crawls happen on a 3-second interval; one source group hangs on its feed (a gate the
test holds closed) so that a crawl is in flight when SIGTERM arrives. The run must stop
within 30 s, its crawls stopped by Scrapy's own clean shutdown, leave no run record
open and release its lock; a second `newsmon run` on the same database must refuse
while the first one runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, ScheduledCrawl, SchedulerLock
from tests.conftest import FIXTURES, REPO, fixture_sources, run_newsmon, write_config
from tests.sitesrv import SiteServer

STOP_LIMIT = 30.0


def _gated(gate: threading.Event) -> Callable[[BaseHTTPRequestHandler], None]:
    def handler(request: BaseHTTPRequestHandler) -> None:
        gate.wait(90)
        body = b"gone"
        request.send_response(404)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def _wait_for(what: str, check: Callable[[], bool], deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)  # polling the database for an event, with a deadline


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_newsmon_run_crawls_refuses_a_second_instance_and_stops_cleanly(
    site: SiteServer, gate: threading.Event, tmp_path: Path, database_url: str
) -> None:
    site.routes["/slow/feed.xml"] = _gated(gate)
    sources = (
        fixture_sources(site.base)
        + f"""
[[source]]
name = "slow-wire"
url = "{site.base}/slow/feed.xml"
group = "slow"
allow_private = true
"""
    )
    newsmon_toml = f"""
[schedule]
crawl_interval_minutes = 0.05
jitter_seconds = 0
heartbeat_seconds = 1
max_concurrent_crawls = 2
stop_grace_seconds = 20
[crawl]
extract_workers = 1
download_timeout = 120
retry_times = 0
[digest]
directory = "{tmp_path / "digests"}"
timezone = "UTC"
"""
    config = write_config(
        tmp_path / "config", sources, newsmon_toml, topics=FIXTURES / "topics_small.toml"
    )
    log = (tmp_path / "run.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", database_url, "run"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    engine = create_engine(database_url)
    try:
        _exercise(proc, engine, site, gate, config, database_url, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        engine.dispose()


def _count(engine: Engine, status: str) -> int:
    try:
        with Session(engine) as session:
            query = select(func.count()).select_from(CrawlRun).where(CrawlRun.status == status)
            return int(session.scalar(query) or 0)
    except Exception:  # the schema may not exist yet while `newsmon run` starts
        return 0


def _exercise(
    proc: subprocess.Popen[bytes],
    engine: Engine,
    site: SiteServer,
    gate: threading.Event,
    config: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    def log() -> str:
        return (tmp_path / "run.log").read_text()

    _wait_for(
        "two finished crawls and the slow feed in flight",
        lambda: (
            _count(engine, "ok") >= 2
            and site.hits()["/slow/feed.xml"] >= 1
            and _count(engine, "running") >= 1
        ),
    )
    assert proc.poll() is None, log()

    second = run_newsmon("--config", str(config), "--db", database_url, "run", timeout=120)
    assert second.returncode == 1
    assert "another `newsmon run`" in second.stderr and "is running on this database" in (
        second.stderr
    )

    status = run_newsmon("--config", str(config), "--db", database_url, "status", timeout=120)
    assert status.returncode == 0, status.stderr
    assert "scheduler: running: pid" in status.stdout
    assert "crawl:slow" in status.stdout and "example-daily" in status.stdout, status.stdout
    assert "not-a-feed" in status.stdout  # a recent failure, with its reason

    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    # Once the slow crawl has its SIGTERM, the slow server answers: Scrapy's clean
    # shutdown waits for requests in flight (a server that never answers is cut off by
    # SIGKILL after stop_grace_seconds). Answering before the signal would let the crawl
    # finish on its own, which is not what is tested.
    _wait_for("SIGTERM to reach the slow crawl", lambda: "crawl:slow: SIGTERM sent" in log())
    gate.set()
    code = proc.wait(timeout=STOP_LIMIT + 30)
    elapsed = time.monotonic() - began
    assert code == 0, log()
    assert elapsed < STOP_LIMIT, f"stopped after {elapsed:.1f} s\n{log()}"

    with Session(engine) as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert runs and all(r.finished is not None for r in runs), [(r.id, r.status) for r in runs]
        assert "running" not in {r.status for r in runs}
        crawls = session.scalars(select(ScheduledCrawl)).all()
        assert "running" not in {c.outcome for c in crawls}
        (slow,) = [c for c in crawls if c.job == "crawl:slow"]
        assert slow.outcome == "stopped" and slow.exit_code in (0, 1), slow.detail
        assert slow.crawl_run_id is not None
        slow_run = session.get(CrawlRun, slow.crawl_run_id)
        assert slow_run is not None and slow_run.status == "interrupted"
        lock = session.get(SchedulerLock, "scheduler")
        assert lock is not None and lock.holder is None
    assert "SIGTERM: stopping" in log()

    after = run_newsmon("--config", str(config), "--db", database_url, "status", timeout=120)
    assert "scheduler: not running" in after.stdout
