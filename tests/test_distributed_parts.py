"""The parts of the cluster on their own: claims that expire, start messages, the
`[distributed]` table, `newsmon run --distributed`, and a single machine that needs none
of it (no redis import)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from monitor.config import ConfigError, load_config
from monitor.distributed.settings import DistributedSettings, Keys, resolve_redis_url
from tests.conftest import REPO, write_config


@pytest.fixture
def redis_client() -> Iterator[tuple[Any, str]]:
    """A client on the test Redis and a key prefix of this test's own (deleted after)."""
    url = os.environ.get("NEWSMON_TEST_REDIS_URL")
    if not url:
        pytest.skip("set NEWSMON_TEST_REDIS_URL to run the distributed tests")
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url)
    prefix = f"newsmon-test-{uuid.uuid4().hex[:10]}"
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
        client.close()


def _request(url: str, dont_filter: bool = False) -> Any:
    from scrapy import Request

    return Request(url, dont_filter=dont_filter)


def test_a_claim_blocks_other_workers_until_its_ttl(redis_client: tuple[Any, str]) -> None:
    pytest.importorskip("scrapy_redis")
    from monitor.distributed.dupefilter import ExpiringDupeFilter

    client, prefix = redis_client
    key = Keys(prefix).fingerprints
    one = ExpiringDupeFilter(client, key, ttl=1, queued_ttl=600)
    two = ExpiringDupeFilter(client, key, ttl=1, queued_ttl=600)
    page = _request("http://127.0.0.1:9/a.html")
    assert one.request_seen(page) is False  # first claim: queue it
    assert two.request_seen(page) is True  # another worker: a duplicate
    assert 590 < client.ttl(one.fingerprint_key(page)) <= 600
    one.taken(page)  # popped: the claim now runs out after ttl
    assert client.ttl(one.fingerprint_key(page)) <= 1
    expired = threading.Event()
    for _ in range(50):  # poll (Redis expires the key; 1 s TTL)
        if not client.exists(one.fingerprint_key(page)):
            expired.set()
            break
        expired.wait(0.1)
    assert expired.is_set()
    assert two.request_seen(page) is False  # fetchable again by a later crawl
    one.close("shutdown")  # a stopping worker keeps the shared claims
    assert one.claimed() == 1
    one.clear()
    assert one.claimed() == 0


def test_listing_requests_are_never_claimed(redis_client: tuple[Any, str]) -> None:
    pytest.importorskip("scrapy_redis")
    from monitor.distributed.dupefilter import ExpiringDupeFilter

    client, prefix = redis_client
    dupes = ExpiringDupeFilter(client, Keys(prefix).fingerprints, ttl=60, queued_ttl=600)
    dupes.taken(_request("http://127.0.0.1:9/feed.xml", dont_filter=True))
    assert dupes.claimed() == 0


def test_a_source_is_not_queued_twice_while_it_waits(redis_client: tuple[Any, str]) -> None:
    from monitor.distributed.enqueue import enqueue_sources

    client, prefix = redis_client
    key = Keys(prefix).start
    first = enqueue_sources(client, ["bbc", "dw", "bbc"], key)
    assert first.queued == ("bbc", "dw") and first.waiting == ()
    second = enqueue_sources(client, ["dw", "rferl"], key)
    assert second.queued == ("rferl",) and second.waiting == ("dw",)
    assert "still waiting for a worker: dw" in second.describe()
    assert [m.decode() for m in client.lrange(key, 0, -1)] == [
        '{"source":"bbc"}',
        '{"source":"dw"}',
        '{"source":"rferl"}',
    ]
    client.lpop(key)  # a worker took bbc
    assert enqueue_sources(client, ["bbc"], key).queued == ("bbc",)


def test_distributed_table_defaults_and_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path / "ok", "")
    dist = load_config(config).settings.distributed
    assert dist == DistributedSettings()
    assert resolve_redis_url(None, dist, {}) == "redis://127.0.0.1:6379/0"
    assert resolve_redis_url(None, dist, {"NEWSMON_REDIS_URL": "redis://r:1/2"}) == "redis://r:1/2"
    assert resolve_redis_url("redis://cli/0", dist, {"NEWSMON_REDIS_URL": "x"}) == "redis://cli/0"
    bad = {
        'redis_url = "http://x"': "distributed.redis_url",
        'key_prefix = "a b"': "distributed.key_prefix",
        "dupefilter_ttl_seconds = 0": "distributed.dupefilter_ttl_seconds",
        "workers = 3": "distributed.workers",
    }
    for line, key in bad.items():
        broken = write_config(tmp_path / uuid.uuid4().hex[:6], "", f"[distributed]\n{line}\n")
        with pytest.raises(ConfigError) as err:
            load_config(broken)
        assert err.value.key == key, (line, str(err.value))


def test_a_single_machine_imports_no_redis(tmp_path: Path) -> None:
    """Loading the config and building the CLI never import redis or scrapy_redis."""
    code = (
        "import sys; from pathlib import Path; from monitor.cli import build_parser; "
        "from monitor.config import load_config; build_parser(); "
        f"load_config(Path({str(write_config(tmp_path / 'c', ''))!r})); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('redis', 'scrapy_redis')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_run_distributed_enqueues_instead_of_crawling(
    redis_client: tuple[Any, str], tmp_path: Path
) -> None:
    """The scheduler hands the due group to Redis, records it, and starts no crawl."""
    from storage.models import CrawlRun, ScheduledCrawl

    client, prefix = redis_client
    sources = "".join(
        f'[[source]]\nname = "s{i}"\nurl = "http://127.0.0.1:9/{i}.xml"\nallow_private = true\n'
        for i in range(2)
    )
    toml = (
        f"[schedule]\njitter_seconds = 0\nheartbeat_seconds = 1\n[digest]\nenabled = false\n"
        f'[distributed]\nkey_prefix = "{prefix}"\n'
    )
    config = write_config(tmp_path / "config", sources, toml)
    db = f"sqlite:///{tmp_path / 'run.db'}"
    env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
    env |= {"NEWSMON_DATABASE_URL": db, "NEWSMON_REDIS_URL": os.environ["NEWSMON_TEST_REDIS_URL"]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run", "--distributed"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        engine = create_engine(db)
        done = threading.Event()
        rows: list[ScheduledCrawl] = []
        runs: list[CrawlRun] = []
        for _ in range(600):  # poll until the enqueue is recorded
            with Session(engine) as session, contextlib.suppress(OperationalError):
                rows = list(session.scalars(select(ScheduledCrawl)))  # (once it exists)
                runs = list(session.scalars(select(CrawlRun)))
            if rows and rows[0].outcome != "running":
                break
            done.wait(0.1)
        queued = client.lrange(Keys(prefix).start, 0, -1)
        assert sorted(queued) == [b'{"source":"s0"}', b'{"source":"s1"}']
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert [(r.job, r.outcome) for r in rows] == [("crawl:default", "ok")]
    assert "enqueued 2 source(s)" in rows[0].detail
    assert runs == []  # no crawl ran in the scheduler
    assert "crawl:default: enqueued 2 source(s)" in err
    engine.dispose()
