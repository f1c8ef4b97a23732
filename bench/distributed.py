"""Cluster throughput: pages/s with 1, 2 and 3 `newsmon worker` processes on this machine.

    python -m bench distributed [--pages 1500] [--workers 1,2,3] [--no-write]
        [--postgres URL] [--redis URL]

The corpus site of `python -m bench crawl` (real pages, unique copies, RSS feeds of 500
items) is served from 127.0.0.1; each configuration gets a fresh PostgreSQL database and
its own Redis key prefix. The workers are started and left idle, then every feed is
enqueued at once. pages/s = pages fetched / (last article stored - first response), so
process start-up and the idle check after the last page are excluded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.common import ROOT, append_results
from bench.crawl import corpus_site, write_bench_config
from storage.engine import open_database
from storage.models import Article, CrawlRun, RunSource

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Result:
    workers: int
    pages: int  # fetched
    stored: int  # new articles (copies of one corpus page share a canonical URL)
    seconds: float
    bytes_per_article: float = 0.0

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _config(work: Path, feeds: list[str], prefix: str) -> Path:
    return write_bench_config(
        work / f"config-{prefix}", feeds, f'[distributed]\nkey_prefix = "{prefix}"\n'
    )


def _size(engine: Engine) -> int:
    """The database's size on disk (tables, indexes, TOAST) in bytes."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def _scratch_database(base: str) -> tuple[str, str]:
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop_database(base: str, name: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_cluster(
    n: int, feeds: list[str], expected: int, work: Path, postgres: str, redis_url: str
) -> Result:
    import redis

    from monitor.distributed.enqueue import enqueue_sources
    from monitor.distributed.settings import Keys

    prefix = f"newsmon-bench-{uuid.uuid4().hex[:8]}"
    cfg = _config(work, feeds, prefix)
    name, db = _scratch_database(postgres)
    migrated = open_database(db)  # migrate once, before the workers start
    empty = _size(migrated)
    migrated.dispose()
    client = redis.Redis.from_url(redis_url)
    env = {**os.environ, "NEWSMON_DATABASE_URL": db, "NEWSMON_REDIS_URL": redis_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "worker", "--name", f"b{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in range(n)
    ]
    engine = create_engine(db)
    try:
        time.sleep(8)  # let the workers start (excluded from the measure anyway)
        enqueue_sources(client, [f"bench{i}" for i in range(len(feeds))], Keys(prefix).start)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            with Session(engine) as session:
                stored = session.scalar(select(func.count()).select_from(Article)) or 0
                open_runs = session.scalar(
                    select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")
                )
            idle = not client.zcard(Keys(prefix).requests) and not client.llen(Keys(prefix).start)
            if idle and stored and not open_runs:
                break
            time.sleep(1.0)
        with Session(engine) as session:
            first = session.scalar(select(func.min(CrawlRun.started)))
            last = session.scalar(select(func.max(Article.first_seen)))
            stored = session.scalar(select(func.count()).select_from(Article)) or 0
            fetched = session.scalar(select(func.sum(RunSource.fetched))) or 0
        grown = _size(engine) - empty
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        engine.dispose()
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
        client.close()
        _drop_database(postgres, name)
    seconds = (last - first).total_seconds() if first and last else 0.0
    if fetched < expected:
        print(f"warning: {fetched} of {expected} pages fetched", file=sys.stderr)
    return Result(n, int(fetched), stored, seconds, grown / stored if stored else 0.0)


def format_table(results: list[Result], pages: int, server: str) -> str:
    one = results[0].rate if results else 0.0
    lines = [
        f"`python -m bench distributed --pages {pages}` ({server} server, PostgreSQL and "
        f"Redis on this machine, default extract_workers: 2 processes per worker; load "
        f"average at the end {os.getloadavg()[0]:.1f})",
        "",
        "| workers | pages fetched | articles stored | seconds | pages/s | vs 1 worker "
        "| PostgreSQL KB/article |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ratio = r.rate / one if one else 0.0
        lines.append(
            f"| {r.workers} | {r.pages} | {r.stored} | {r.seconds:.1f} | {r.rate:.1f} | "
            f"{ratio:.2f}x | {r.bytes_per_article / 1024:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench distributed")
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--postgres", default=os.environ.get("NEWSMON_TEST_POSTGRES_URL"))
    parser.add_argument("--redis", default=os.environ.get("NEWSMON_TEST_REDIS_URL"))
    parser.add_argument("--server", choices=["auto", "nginx", "twisted"], default="auto")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/")
    args = parser.parse_args(argv)
    postgres = args.postgres or DEFAULT_POSTGRES
    redis_url = args.redis or DEFAULT_REDIS
    counts = [int(x) for x in args.workers.split(",") if x]
    with corpus_site(args.pages, args.server) as site:
        if site is None:
            print("bench distributed: ../shared/corpus not found; nothing to measure")
            return 0
        n, server_name = site.pages, site.server
        results = []
        for count in counts:
            r = run_cluster(count, site.feeds, n, site.work, postgres, redis_url)
            results.append(r)
            print(
                f"{count} worker(s): {r.pages} pages in {r.seconds:.1f} s = {r.rate:.1f} pages/s",
                file=sys.stderr,
            )
    table = format_table(results, n, server_name)
    print(table)
    if not args.no_write:
        append_results("## Distributed", table)
    return 0
