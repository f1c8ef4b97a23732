"""Incremental and polite crawling: conditional GET (a 304 is not parsed), backfill by
date, 429 with Retry-After, a per-source minimum delay."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Article, RunError
from tests.conftest import run_newsmon, write_config
from tests.fixtures.sources.kit import build_site, run_crawl, sources_toml
from tests.sitesrv import SiteServer


@dataclass
class Recorded:
    """What a dynamic route saw: arrival times and request headers."""

    times: list[float] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.times.append(time.monotonic())
            self.headers.append({k.lower(): v for k, v in handler.headers.items()})


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    with SiteServer(build_site(tmp_path / "site")) as server:
        yield server


def _feed_route(site: SiteServer, root: Path, rel: str, etag: str, log: Recorded) -> None:
    body = (root / rel).read_bytes().replace(b"{{BASE}}", site.base.encode())
    ctype = "application/xml"

    def route(handler: BaseHTTPRequestHandler) -> None:
        log.add(handler)
        if handler.headers.get("If-None-Match") == etag:
            _send(handler, 304, b"", ETag=etag)
        else:
            _send(handler, 200, body, ETag=etag, Content_Type=ctype)

    site.routes["/" + rel] = route


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'inc.db'}"


def test_conditional_get_304_costs_no_parse(site: SiteServer, tmp_path: Path) -> None:
    root = tmp_path / "site"
    feed_log, sitemap_log = Recorded(), Recorded()
    _feed_route(site, root, "feeds/world.xml", '"feed-v1"', feed_log)
    _feed_route(site, root, "sitemaps/pages.xml", '"pages-v1"', sitemap_log)
    toml = sources_toml(
        {"name": "feed", "url": f"{site.base}/feeds/world.xml", "allow_private": True},
        {
            "name": "map",
            "kind": "sitemap",
            "url": f"{site.base}/sitemaps/pages.xml",
            "allow_private": True,
        },
    )
    config = write_config(tmp_path / "config", toml)
    first = run_crawl(config, _db(tmp_path))
    assert first["newsmon/listings/parsed"] == 2
    assert first["newsmon/http_cache/saved"] == 2
    assert "if-none-match" not in feed_log.headers[0]

    site.clear()
    second = run_crawl(config, _db(tmp_path))
    assert feed_log.headers[1]["if-none-match"] == '"feed-v1"'
    assert sitemap_log.headers[1]["if-none-match"] == '"pages-v1"'
    assert second["newsmon/listings/not_modified"] == 2
    assert "newsmon/listings/parsed" not in second  # nothing was parsed
    assert not any(p.startswith("/articles/") for p in site.hits())

    # A backfill ignores the cache: the documents are fetched and parsed again.
    third = run_crawl(config, _db(tmp_path), {"since": "2020-01-01"})
    assert "if-none-match" not in feed_log.headers[2]
    assert third["newsmon/listings/parsed"] == 2
    assert third["newsmon/source/feed/links/known"] == 2


def test_validators_not_kept_when_articles_failed(site: SiteServer, tmp_path: Path) -> None:
    """A feed whose article timed out/5xx'd is read in full next time, not answered 304."""
    root = tmp_path / "site"
    log = Recorded()
    _feed_route(site, root, "feeds/world.xml", '"v1"', log)
    site.routes["/articles/f2.html"] = lambda h: _send(h, 500, b"down")
    toml = sources_toml(
        {"name": "feed", "url": f"{site.base}/feeds/world.xml", "allow_private": True}
    )
    config = write_config(tmp_path / "config", toml)
    settings = {"RETRY_TIMES": 0}
    run_crawl(config, _db(tmp_path), settings=settings)
    del site.routes["/articles/f2.html"]
    run_crawl(config, _db(tmp_path), settings=settings)
    assert "if-none-match" not in log.headers[1]
    assert site.hits()["/articles/f2.html"] == 2


def test_backfill_since_reads_older_sitemap_items(site: SiteServer, tmp_path: Path) -> None:
    toml = sources_toml(
        {
            "name": "dated",
            "kind": "sitemap",
            "url": f"{site.base}/sitemaps/dated.xml",
            "allow_private": True,
            "max_age_days": 7,
        }
    )
    config = write_config(tmp_path / "config", toml)
    db = _db(tmp_path)
    proc = run_newsmon("--config", str(config), "--db", db, "crawl", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {p for p in site.hits() if p.startswith("/articles/")} == {"/articles/b1.html"}

    site.clear()
    proc = run_newsmon("--config", str(config), "--db", db, "crawl", "--since", "2021-01-01")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # b2 (2021-05) is backfilled; b3 (2019) is before the date; b1 is stored already
    assert {p for p in site.hits() if p.startswith("/articles/")} == {"/articles/b2.html"}
    engine = create_engine(db)
    with Session(engine) as session:
        stored = {u.rpartition("/")[2] for u in session.scalars(select(Article.canonical_url))}
    engine.dispose()
    assert stored == {"b1.html", "b2.html"}

    bad = run_newsmon("--config", str(config), "--db", db, "crawl", "--since", "last week")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_429_retry_after_is_honoured(site: SiteServer, tmp_path: Path) -> None:
    root = tmp_path / "site"
    body = (root / "feeds/world.xml").read_bytes().replace(b"{{BASE}}", site.base.encode())
    busy, stubborn = Recorded(), Recorded()

    def busy_route(handler: BaseHTTPRequestHandler) -> None:
        busy.add(handler)
        if len(busy.times) == 1:
            _send(handler, 429, b"slow down", Retry_After="1")
        else:
            _send(handler, 200, body, Content_Type="application/xml")

    def stubborn_route(handler: BaseHTTPRequestHandler) -> None:
        stubborn.add(handler)
        _send(handler, 503, b"maintenance", Retry_After="3600")

    site.routes["/busy.xml"] = busy_route
    site.routes["/stubborn.xml"] = stubborn_route
    toml = sources_toml(
        {"name": "busy", "url": f"{site.base}/busy.xml", "allow_private": True},
        {"name": "stubborn", "url": f"{site.base}/stubborn.xml", "allow_private": True},
    )
    config = write_config(tmp_path / "config", toml)
    db = _db(tmp_path)
    stats = run_crawl(config, db, settings={"NEWSMON_RETRY_MAX_WAIT": 5})
    assert len(busy.times) == 2
    assert busy.times[1] - busy.times[0] >= 0.9  # waited as asked
    assert stats["newsmon/retry/backoff_count"] == 1
    assert len(stubborn.times) == 1  # an hour is too long: not retried in this run
    assert stats["newsmon/retry/wait_too_long"] == 1
    engine = create_engine(db)
    with Session(engine) as session:
        errors = {e.source: e for e in session.scalars(select(RunError))}
    engine.dispose()
    assert errors["stubborn"].reason == "http-503"
    assert "asked to wait 3600 s" in errors["stubborn"].detail
    assert "busy" not in errors


def test_min_delay_spaces_requests_to_a_host(site: SiteServer, tmp_path: Path) -> None:
    log = Recorded()
    for slug in ("f1", "f2"):
        page = (tmp_path / "site" / "articles" / f"{slug}.html").read_bytes()
        page = page.replace(b"{{BASE}}", site.base.encode())

        def route(handler: BaseHTTPRequestHandler, page: bytes = page) -> None:
            log.add(handler)
            _send(handler, 200, page, Content_Type="text/html; charset=utf-8")

        site.routes[f"/articles/{slug}.html"] = route
    toml = sources_toml(
        {
            "name": "slow",
            "url": f"{site.base}/feeds/world.xml",
            "allow_private": True,
            "min_delay": 0.6,
        }
    )
    config = write_config(tmp_path / "config", toml)
    run_crawl(config, _db(tmp_path), settings={"AUTOTHROTTLE_START_DELAY": 0})
    assert len(log.times) == 2
    assert abs(log.times[1] - log.times[0]) >= 0.55
