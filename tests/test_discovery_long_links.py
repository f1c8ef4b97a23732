"""Links longer than MAX_URL_LENGTH: skipped, never requested, and reported once per
listing (feed, sitemap, section page) as `link-too-long` with the count and the first
link shortened; the parsers' count and the helpers behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from monitor.discovery import (
    LongLinks,
    LongLinkTally,
    extract_listing_links,
    parse_feed,
    parse_gdelt_artlist,
    parse_google_news_rss,
    parse_sitemap,
)
from monitor.discovery_common import (
    MAX_URL_LENGTH,
    SHOWN_URL_LENGTH,
    refused_for_length,
    resolve_url,
    shorten_url,
    too_long,
)
from storage.models import Article, RunError, RunSource
from tests.conftest import write_config
from tests.fixtures.sources.kit import article_html, run_crawl, sources_toml
from tests.sitesrv import SiteServer

FEED_URL = "https://news.example.org/feed.xml"
LONG = "https://news.example.org/a/" + "x" * 5000  # 5,027 characters
OTHER_LONG = "https://news.example.org/b/" + "y" * 6000


# --- the pure helpers -----------------------------------------------------------------


def test_refused_for_length_only_for_http_links_refused_for_their_length() -> None:
    assert resolve_url(LONG, FEED_URL) is None
    assert refused_for_length(LONG, FEED_URL) == LONG
    # relative: the absolute form is what was refused
    relative = "/r/" + "z" * 5000
    assert refused_for_length(relative, FEED_URL) == "https://news.example.org" + relative
    # short enough before the join, too long after it
    almost = "q" * (MAX_URL_LENGTH - 5)
    assert resolve_url(almost, FEED_URL) is None
    assert refused_for_length(almost, FEED_URL) == "https://news.example.org/" + almost
    # not refused for its length: no answer
    assert refused_for_length("https://news.example.org/ok", FEED_URL) is None
    assert refused_for_length("javascript:" + "x" * 5000, FEED_URL) is None
    assert refused_for_length("mailto:" + "x" * 5000, "") is None
    assert refused_for_length(None, FEED_URL) is None
    assert too_long(FEED_URL, None, "javascript:void(0)", LONG).url == LONG  # type: ignore[union-attr]
    assert too_long(FEED_URL, None, "https://news.example.org/ok") is None


def test_message_and_tally() -> None:
    assert shorten_url("https://a.example/short") == "https://a.example/short"
    assert shorten_url(LONG) == LONG[:SHOWN_URL_LENGTH] + "..."
    tally = LongLinkTally()
    assert tally.result() is None
    for url in (LONG, OTHER_LONG, LONG):  # a repeated link counts once
        tally.note(url)
    found = tally.result()
    assert found == LongLinks(2, LONG[:SHOWN_URL_LENGTH] + "...", len(LONG))
    assert found.message() == (
        f"2 links longer than 4096 characters were skipped "
        f"(first: {LONG[:SHOWN_URL_LENGTH]}... (5,027 chars))"
    )
    assert LongLinks(1, "u", 4097).message() == (
        "1 link longer than 4096 characters was skipped (first: u (4,097 chars))"
    )


# --- each parser counts the items it dropped for length ---------------------------------


def test_rss_counts_items_whose_only_links_are_too_long() -> None:
    body = (
        "<rss><channel>"
        "<item><link>https://news.example.org/ok-1</link></item>"
        f"<item><link>{LONG}</link></item>"
        f"<item><link>{OTHER_LONG}</link><guid>{OTHER_LONG}</guid></item>"
        # a long feedburner origLink with a usable link: the item is read, nothing counted
        "<item xmlns:feedburner='http://rssnamespace.org/feedburner/ext/1.0'>"
        f"<feedburner:origLink>{LONG}x</feedburner:origLink>"
        "<link>https://news.example.org/ok-2</link></item>"
        "<item><link>javascript:void(0)</link></item>"
        "</channel></rss>"
    ).encode()
    result = parse_feed(body, FEED_URL)
    assert result.ok
    assert sorted(link.url for link in result.links) == [
        "https://news.example.org/ok-1",
        "https://news.example.org/ok-2",
    ]
    assert result.skipped == 3  # two too long, one javascript:
    assert result.long_links == LongLinks(2, shorten_url(LONG), len(LONG))


def test_atom_json_feed_and_search_feeds_count_too() -> None:
    atom = (
        "<feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<entry><link rel='alternate' href='{LONG}'/></entry>"
        "<entry><link href='https://news.example.org/ok'/></entry></feed>"
    ).encode()
    assert parse_feed(atom, FEED_URL).long_links == LongLinks(1, shorten_url(LONG), len(LONG))

    items = [{"url": LONG}, {"external_url": OTHER_LONG}, {"url": "https://news.example.org/ok"}]
    jsonfeed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    found = parse_feed(jsonfeed.encode(), FEED_URL).long_links
    assert found is not None and found.count == 2

    articles = [{"url": LONG}, {"url": "https://news.example.org/ok"}]
    gdelt = parse_gdelt_artlist(json.dumps({"articles": articles}).encode(), FEED_URL)
    assert gdelt.long_links is not None and gdelt.long_links.count == 1
    assert len(gdelt.links) == 1

    google = (
        f"<rss><channel><item><title>t</title><link>{LONG}</link></item>"
        "<item><title>u</title><link>https://news.example.org/ok</link></item>"
        "</channel></rss>"
    ).encode()
    gn = parse_google_news_rss(google, "https://news.google.com/rss/search?q=x&hl=en")
    assert gn.long_links is not None and gn.long_links.count == 1


def test_sitemaps_index_and_text_count_too() -> None:
    urlset = (
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<url><loc>{LONG}</loc></url><url><loc>https://news.example.org/ok</loc></url>"
        "</urlset>"
    ).encode()
    assert parse_sitemap(urlset, FEED_URL).long_links == LongLinks(1, shorten_url(LONG), len(LONG))
    index = (
        "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<sitemap><loc>{LONG}.xml</loc></sitemap>"
        "<sitemap><loc>https://news.example.org/s1.xml</loc></sitemap></sitemapindex>"
    ).encode()
    parsed = parse_sitemap(index, FEED_URL)
    assert parsed.sitemaps == ("https://news.example.org/s1.xml",)
    assert parsed.long_links is not None and parsed.long_links.count == 1
    text = f"{LONG}\n{OTHER_LONG}\nhttps://news.example.org/ok\nnot-a-url\n".encode()
    parsed = parse_sitemap(text, FEED_URL)
    assert parsed.long_links is not None and parsed.long_links.count == 2
    assert parsed.skipped == 3


def test_all_links_too_long_says_so_in_the_no_links_error() -> None:
    body = f"<rss><channel><item><link>{LONG}</link></item></channel></rss>".encode()
    result = parse_feed(body, FEED_URL)
    assert result.error_code == "no-links"
    assert result.error == (
        "no usable links: 1 items, none with an http(s) URL (1 longer than 4096 characters)"
    )
    assert result.long_links is not None and result.long_links.count == 1


def test_section_page_counts_long_links_its_patterns_would_keep() -> None:
    page = "https://news.example.org/world/"
    html = (
        "<html><body>"
        "<a href='/news/2025/ok-story'>A story</a>"
        f"<a href='/news/2025/{'l' * 5000}'>Too long</a>"
        f"<a href='/news/2025/{'l' * 5000}'>Too long, the same link again</a>"
        f"<a href='https://ads.example.com/news/{'t' * 5000}'>Off-site tracker</a>"
        f"<a href='/about/{'a' * 5000}'>Not an article</a>"
        f"<a href='javascript:{'j' * 5000}'>script</a>"
        "</body></html>"
    )
    tally = LongLinkTally()
    links = extract_listing_links(html, page, allow=[r"/news/"], long_links=tally)
    assert [link.url for link in links] == ["https://news.example.org/news/2025/ok-story"]
    found = tally.result()
    assert found is not None and found.count == 1
    assert found.first == shorten_url("https://news.example.org/news/2025/" + "l" * 5000)
    # without a tally the result is the same
    assert extract_listing_links(html, page, allow=[r"/news/"]) == links


# --- a crawl against a real server ----------------------------------------------------

LONG_FEED_LINKS = 3
LONG_SECTION_LINKS = 2


def _long_path(tag: str, length: int) -> str:
    return f"/articles/long-{tag}-" + "x" * length + ".html"


def _long_site(root: Path) -> Path:
    """Articles a1-a4; a feed, a sitemap and a section page listing them plus long links."""
    (root / "articles").mkdir(parents=True)
    for slug in ("a1", "a2", "a3", "a4"):
        (root / "articles" / f"{slug}.html").write_text(article_html(slug), encoding="utf-8")
    feed_long = [_long_path(f"f{i}", 5000 + 60 * i) for i in range(LONG_FEED_LINKS)]
    items = "".join(
        f"<item><title>{path[10:20]}</title><link>{{{{BASE}}}}{path}</link></item>"
        for path in ["/articles/a1.html", *feed_long, "/articles/a2.html"]
    )
    (root / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>",
        encoding="utf-8",
    )
    (root / "sitemap.xml").write_text(
        "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"<url><loc>{{{{BASE}}}}{_long_path('s', 4500)}</loc></url>"
        "<url><loc>{{BASE}}/articles/a4.html</loc></url></urlset>",
        encoding="utf-8",
    )
    anchors = "".join(
        f"<a href='{path}'>story</a>"
        for path in [
            "/articles/a3.html",
            *(_long_path(f"p{i}", 4200) for i in range(LONG_SECTION_LINKS)),
        ]
    )
    (root / "section.html").write_text(
        f"<!DOCTYPE html><html><head><title>s</title></head><body>{anchors}</body></html>",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def long_site(tmp_path: Path) -> Iterator[SiteServer]:
    with SiteServer(_long_site(tmp_path / "site")) as server:
        yield server


def test_crawl_skips_long_links_and_records_one_row_per_listing(
    long_site: SiteServer, tmp_path: Path
) -> None:
    base = long_site.base
    toml = sources_toml(
        {"name": "long-feed", "url": f"{base}/feed.xml", "allow_private": True},
        {
            "name": "long-sitemap",
            "kind": "sitemap",
            "url": f"{base}/sitemap.xml",
            "allow_private": True,
        },
        {
            "name": "long-section",
            "kind": "section",
            "url": f"{base}/section.html",
            "allow": ["/articles/"],
            "allow_private": True,
        },
    )
    db = f"sqlite:///{tmp_path / 'long.db'}"
    stats = run_crawl(write_config(tmp_path / "config", toml), db)

    hits = long_site.hits()
    assert not [path for path in hits if "/long-" in path]  # never requested
    assert {p for p in hits if p.startswith("/articles/")} == {
        f"/articles/{slug}.html" for slug in ("a1", "a2", "a3", "a4")
    }

    engine = create_engine(db)
    with Session(engine) as session:
        stored = {a.canonical_url.removeprefix(base) for a in session.scalars(select(Article))}
        errors = list(session.scalars(select(RunError).order_by(RunError.id)))
        by_reason = {row.source: row.errors_by_reason for row in session.scalars(select(RunSource))}
    engine.dispose()
    assert stored == {f"/articles/{slug}.html" for slug in ("a1", "a2", "a3", "a4")}

    # exactly one row per listing; no per-link rows (url-too-long) either
    assert sorted((e.source, e.reason, e.url.removeprefix(base)) for e in errors) == [
        ("long-feed", "link-too-long", "/feed.xml"),
        ("long-section", "link-too-long", "/section.html"),
        ("long-sitemap", "link-too-long", "/sitemap.xml"),
    ]
    details = {e.source: e.detail for e in errors}
    first_feed = f"{base}{_long_path('f0', 5000)}"
    assert details["long-feed"] == (
        f"feed: 3 links longer than 4096 characters were skipped "
        f"(first: {shorten_url(first_feed)} ({len(first_feed):,} chars))"
    )
    assert details["long-section"].startswith(
        "section: 2 links longer than 4096 characters were skipped (first: "
    )
    assert details["long-sitemap"].startswith(
        "sitemap: 1 link longer than 4096 characters was skipped (first: "
    )
    assert all(len(e.detail) < 400 for e in errors)  # the URLs are shortened
    assert by_reason["long-feed"] == {"link-too-long": 1}
    assert by_reason["long-section"] == {"link-too-long": 1}

    assert stats["newsmon/errors/link-too-long"] == 3
    assert stats["newsmon/links/too_long"] == LONG_FEED_LINKS + LONG_SECTION_LINKS + 1
    assert stats["newsmon/source/long-feed/links/too_long"] == LONG_FEED_LINKS
    assert stats["newsmon/source/long-section/links/too_long"] == LONG_SECTION_LINKS
    assert stats["newsmon/source/long-sitemap/links/too_long"] == 1
