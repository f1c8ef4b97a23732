"""End to end: `newsmon crawl` against the fixture site on 127.0.0.1, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Article, ArticleUrl, CrawlRun, RunError
from tests.conftest import fixture_sources, run_newsmon, write_config
from tests.sitesrv import SiteServer

ARTICLE_PAGES = {
    "/news/a1.html",
    "/news/a2.html",
    "/news/a3.html",
    "/news/a4.html",
    "/partner/wire-copy.html",
    "/news/broken.html",
    "/news/missing.html",
}


def _crawl(config: Path, db: str) -> dict:  # type: ignore[type-arg]
    proc = run_newsmon("--config", str(config), "--db", db, "crawl", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _check_crawl(site: SiteServer, tmp_path: Path, db: str) -> None:
    config = write_config(tmp_path / "config", fixture_sources(site.base))
    summary = _crawl(config, db)

    by_source = {s["source"]: s for s in summary["sources"]}
    assert summary["status"] == "ok"
    daily = by_source["example-daily"]
    assert daily["links_seen"] == 7  # 8 items, one exact repeat dropped by the parser
    assert daily["new"] == 4
    assert daily["errors_by_reason"] == {"empty-extraction": 1, "http-404": 1}
    assert by_source["partner-post"]["duplicates"] == 1
    assert by_source["partner-post"]["new"] == 0
    assert by_source["moved-feed"]["errors_by_reason"] == {"not-a-feed": 1}
    hits = site.hits()
    # The tracking-parameter variant and the repeated item were not fetched twice.
    assert hits["/news/a2.html"] == 1 and hits["/news/a1.html"] == 1
    assert not any(p.startswith("/news/a2.html?") for p in hits)

    engine = create_engine(db)
    with Session(engine) as session:
        articles = session.scalars(select(Article).order_by(Article.id)).all()
        originals = {
            a.canonical_url.removeprefix(site.base): a
            for a in articles
            if a.duplicate_of_id is None
        }
        assert set(originals) == {
            "/news/a1.html",
            "/news/a2.html",
            "/news/a3.html",
            "/news/a4.html",
        }
        copies = [a for a in articles if a.duplicate_of_id is not None]
        assert len(copies) == 1
        assert copies[0].source == "partner-post"
        assert copies[0].duplicate_of_id == originals["/news/a1.html"].id
        a1 = originals["/news/a1.html"]
        assert a1.title == "North Korean workers sent to Russia on student visas"
        assert a1.language == "en"
        assert a1.published is not None and a1.published.isoformat().startswith("2026-11-20T08:30")
        assert "Jane Roe" in a1.authors
        assert "Accept all cookies" not in a1.text and "Related stories" not in a1.text
        assert "student visas" in a1.text
        matched = {path for path, a in originals.items() if any(m.matched for m in a.matches)}
        assert matched == {"/news/a1.html", "/news/a2.html"}
        (m1,) = [m for m in a1.matches if m.matched]
        tags = {k["tag"] for k in m1.keywords}
        assert "student visa" in tags
        reasons = {(e.source, e.reason) for e in session.scalars(select(RunError))}
        assert reasons == {
            ("example-daily", "empty-extraction"),
            ("example-daily", "http-404"),
            ("moved-feed", "not-a-feed"),
        }
        assert session.scalar(select(CrawlRun.status)) == "ok"
        n_urls = len(session.scalars(select(ArticleUrl.url_hash)).all())

    # Second run: nothing new, no article page requested again.
    site.clear()
    again = _crawl(config, db)
    assert sum(s["new"] for s in again["sources"]) == 0
    assert ARTICLE_PAGES - {"/news/broken.html", "/news/missing.html"} & set(site.hits()) == set()
    with Session(engine) as session:
        assert len(session.scalars(select(Article.id)).all()) == len(articles)
        assert len(session.scalars(select(ArticleUrl.url_hash)).all()) == n_urls
    engine.dispose()


def test_crawl_fixture_site_sqlite(site: SiteServer, tmp_path: Path) -> None:
    _check_crawl(site, tmp_path, f"sqlite:///{tmp_path / 'news.db'}")


@pytest.mark.postgres
def test_crawl_fixture_site_postgres(site: SiteServer, tmp_path: Path, postgres_url: str) -> None:
    _check_crawl(site, tmp_path, postgres_url)


def test_crawl_exits_1_when_every_source_fails(site: SiteServer, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config",
        f'[[source]]\nname = "moved"\nurl = "{site.base}/not-a-feed.xml"\nallow_private = true\n'
        f'[[source]]\nname = "gone"\nurl = "{site.base}/nope.xml"\nallow_private = true\n',
    )
    db = f"sqlite:///{tmp_path / 'n.db'}"
    proc = run_newsmon("--config", str(config), "--db", db, "crawl", "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["status"] == "failed"
    reasons = {s["source"]: s["errors_by_reason"] for s in summary["sources"]}
    assert reasons == {"moved": {"not-a-feed": 1}, "gone": {"http-404": 1}}
    # The failures are stored with the run, for `newsmon status` and health.
    engine = create_engine(db)
    with Session(engine) as session:
        assert session.scalar(select(CrawlRun.status)) == "failed"
        details = [e.detail for e in session.scalars(select(RunError))]
    engine.dispose()
    assert any("HTTP 404" in d for d in details)
