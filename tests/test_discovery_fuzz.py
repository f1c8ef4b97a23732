"""Hypothesis fuzzing: the discovery parsers never raise and never report a parser bug,
whatever the bytes; every link they return is an absolute http(s) URL."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.discovery import (
    ParseResult,
    discover_feeds_in_html,
    extract_listing_links,
    find_next_page,
    parse_feed,
    parse_gdelt_artlist,
    parse_google_news_rss,
    parse_sitemap,
    sitemaps_from_robots,
)

URL = "https://fuzz.example.org/dir/feed.xml"
SEEDS = [
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><language>en</language>'
    b"<item><title>T &amp; U</title><link>/a/1</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT"
    b"</pubDate><guid>x</guid></item></channel></rss>",
    b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://h.example/"><entry><link '
    b'href="e"/><updated>2025-01-01T00:00:00Z</updated><title type="html">&lt;b&gt;</title>'
    b"</entry></feed>",
    b'<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>//h.example/x'
    b"</loc><news:news><news:publication_date>2025-01-01</news:publication_date></news:news>"
    b"</url></urlset>",
    b"<sitemapindex><sitemap><loc>s2.xml</loc><lastmod>2025-01-01</lastmod></sitemap>"
    b"</sitemapindex>",
    b'{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"/p"}]}',
    b'{"articles":[{"url":"https://h.example/a","seendate":"20250101T000000Z","language":"Korean"}]}',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><link>&x;</link>'
    b"</item></channel></rss>",
]


def _mutations() -> st.SearchStrategy[bytes]:
    """Valid documents cut, spliced and sprinkled with random bytes: most fuzz value lies
    near well-formed input, which pure random bytes rarely reach."""
    seed = st.sampled_from(SEEDS)
    cut = st.tuples(seed, st.integers(0, 400)).map(lambda pair: pair[0][: pair[1]])
    spliced = st.tuples(seed, st.integers(0, 400), st.binary(max_size=40)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    zipped = seed.map(gzip.compress)
    return st.one_of(st.binary(max_size=600), cut, spliced, zipped, seed)


def _check(result: ParseResult) -> None:
    assert result.error_code != "parser-bug", result.error
    assert (result.error is None) == (result.error_code is None)
    for link in (*result.links,):
        assert link.url.startswith(("http://", "https://"))
        assert link.published is None or link.published.tzinfo is not None
    for child in result.sitemaps:
        assert child.startswith(("http://", "https://"))


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(_mutations())
def test_parse_feed_never_raises(body: bytes) -> None:
    _check(parse_feed(body, URL, max_items=50))


@FUZZ
@given(_mutations())
def test_parse_sitemap_never_raises(body: bytes) -> None:
    _check(parse_sitemap(body, URL + ".gz", max_items=50, max_bytes=100_000))


@FUZZ
@given(_mutations())
def test_search_parsers_never_raise(body: bytes) -> None:
    _check(parse_google_news_rss(body, URL))
    _check(parse_gdelt_artlist(body, URL))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_html_and_robots_never_raise(body: bytes | str) -> None:
    for url in discover_feeds_in_html(body, URL):
        assert url.startswith("http")
    extract_listing_links(body, URL, allow=[r"/a/"])
    find_next_page(body, URL)
    text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    sitemaps_from_robots("Sitemap: " + text, URL)
