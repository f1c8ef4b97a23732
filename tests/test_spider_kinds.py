"""Each source kind against a local site: what is requested, what is stored, what is
skipped and why (sitemaps through robots.txt, sections, Google News, GDELT)."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Article, RunError
from tests.conftest import write_config
from tests.fixtures.sources.kit import build_site, run_crawl, sources_toml
from tests.sitesrv import SiteServer


@pytest.fixture
def kinds_site(tmp_path: Path) -> Iterator[SiteServer]:
    with SiteServer(build_site(tmp_path / "site")) as server:

        def google_redirect(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(302)
            handler.send_header("Location", f"{server.base}/articles/g1.html")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        server.routes["/gn/rss/articles/CBMiAbc123"] = google_redirect
        yield server


def _crawl(tmp_path: Path, *entries: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One crawl of these [[source]] entries (all allowed to reach 127.0.0.1)."""
    toml = sources_toml(*({"allow_private": True, **entry} for entry in entries))
    config = write_config(tmp_path / "config", toml)
    db = f"sqlite:///{tmp_path / 'k.db'}"
    return run_crawl(config, db), db


def _stored(db: str) -> set[str]:
    engine = create_engine(db)
    with Session(engine) as session:
        urls = set(session.scalars(select(Article.canonical_url)))
    engine.dispose()
    return {u.rpartition("/")[2] for u in urls}


def _errors(db: str) -> set[tuple[str, str]]:
    engine = create_engine(db)
    with Session(engine) as session:
        rows = {(e.reason, e.url.rpartition("/")[2]) for e in session.scalars(select(RunError))}
    engine.dispose()
    return rows


def _articles_hit(site: SiteServer) -> set[str]:
    return {p.rpartition("/")[2] for p in site.hits() if p.startswith(("/articles/", "/private/"))}


def test_robots_sitemaps_index_children_age_language_depth(
    kinds_site: SiteServer, tmp_path: Path
) -> None:
    base = kinds_site.base
    stats, db = _crawl(
        tmp_path,
        {
            "name": "fixture-robots",
            "kind": "robots",
            "url": f"{base}/",
            "max_age_days": 30,
            "languages": ["en"],
        },
    )

    hits = kinds_site.hits()
    # The index names itself: read once. The 2020 child is skipped by its lastmod.
    assert hits["/sitemaps/index.xml"] == 1
    assert hits["/sitemaps/old.xml"] == 0
    assert hits["/sitemaps/nested.xml"] == 1 and hits["/sitemaps/pages.xml"] == 1
    # s2 is Korean (news:language), s3 is from 2021: neither is requested.
    assert _articles_hit(kinds_site) == {"s1.html", "n1.html"}
    assert _stored(db) == {"s1.html", "n1.html"}
    assert stats["newsmon/source/fixture-robots/sitemaps/too_old"] == 1
    assert stats["newsmon/source/fixture-robots/sitemaps/repeated"] == 1
    assert stats["newsmon/source/fixture-robots/links/too_old"] == 1
    assert stats["newsmon/source/fixture-robots/links/other_language"] == 1


def test_sitemap_depth_limit_is_reported(kinds_site: SiteServer, tmp_path: Path) -> None:
    _, db = _crawl(
        tmp_path,
        {
            "name": "shallow",
            "kind": "sitemap",
            "url": f"{kinds_site.base}/sitemaps/index.xml",
            "max_depth": 1,
        },
    )
    hits = kinds_site.hits()
    assert hits["/sitemaps/nested.xml"] == 1 and hits["/sitemaps/pages.xml"] == 0
    assert ("sitemap-too-deep", "nested.xml") in _errors(db)
    # no max_age: the 2020 child and the 2021 item are read too
    assert {"s1.html", "s3.html", "old1.html"} <= _articles_hit(kinds_site)


def test_section_pages_patterns_follow_pagination_robots(
    kinds_site: SiteServer, tmp_path: Path
) -> None:
    _, db = _crawl(
        tmp_path,
        {
            "name": "world-section",
            "kind": "section",
            "url": f"{kinds_site.base}/section/index.html",
            "allow": ["/(articles|private)/"],
            "follow": ["/section/korea"],
            "max_pages": 3,
        },
    )
    hits = kinds_site.hits()
    # index + korea (followed) + page2 (next) = max_pages; page3 is not read
    assert hits["/section/korea.html"] == 1 and hits["/section/page2.html"] == 1
    assert hits["/section/page3.html"] == 0
    assert hits["/about.html"] == 0
    # /private/ is disallowed by robots.txt: never requested, recorded as "robots"
    assert _articles_hit(kinds_site) == {"p1.html", "p2.html", "p3.html", "k1.html"}
    assert ("robots", "secret.html") in _errors(db)
    assert _stored(db) == {"p1.html", "p2.html", "p3.html", "k1.html"}


def test_google_news_redirects_and_gdelt_language(kinds_site: SiteServer, tmp_path: Path) -> None:
    base = kinds_site.base
    stats, db = _crawl(
        tmp_path,
        {
            "name": "gn-en",
            "kind": "google_news",
            "url": f"{base}/gn/search.xml?q=workers&hl=en-US&gl=US&ceid=US:en",
        },
        {
            "name": "gdelt-en",
            "kind": "gdelt",
            "url": f"{base}/gdelt/artlist.json?query=workers",
            "language": "en",
            "min_delay": 0,
        },
    )
    hits = kinds_site.hits()
    assert hits["/gn/rss/articles/CBMiAbc123"] == 1  # the aggregator link, followed
    assert _articles_hit(kinds_site) == {"g1.html", "g2.html", "d1.html"}
    assert _stored(db) == {"g1.html", "g2.html", "d1.html"}
    assert stats["newsmon/source/gdelt-en/links/other_language"] == 1
