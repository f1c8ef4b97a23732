"""HTML discovery: advertised feeds, listing-page links, pagination."""

from __future__ import annotations

import pytest

from monitor.discovery import (
    DiscoveredLink,
    compile_patterns,
    discover_feeds_in_html,
    extract_listing_links,
    find_next_page,
)
from monitor.discovery_html import site_key

PAGE = "https://www.example.org/world/asia/"

HEAD = """<!doctype html><html><head>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="Comments feed" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" title="Asia" href="/world/asia/rss.xml">
<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="//feeds.example.org/a.atom">
<link rel="alternate" type="application/feed+json" href="feed.json">
<link rel="alternate" type="application/rss+xml" href="/world/asia/rss.xml">
<link rel="alternate" hreflang="ko" href="https://ko.example.org/asia/">
<link rel="alternate" type="text/xml" href="/legacy/rss091.xml">
</head><body></body></html>"""


def test_discover_feeds_in_html() -> None:
    assert discover_feeds_in_html(HEAD, PAGE) == [
        "https://www.example.org/world/asia/rss.xml",
        "https://feeds.example.org/a.atom",
        "https://www.example.org/world/asia/feed.json",
        "https://www.example.org/legacy/rss091.xml",
        "https://www.example.org/comments/feed/",
    ]


def test_discover_feeds_honours_base_and_survives_garbage() -> None:
    html = '<html><head><base href="https://cdn.example.org/x/"><link rel="alternate" '
    html += 'type="application/rss+xml" href="rss"></head></html>'
    assert discover_feeds_in_html(html, PAGE) == ["https://cdn.example.org/x/rss"]
    assert discover_feeds_in_html("", PAGE) == []
    assert discover_feeds_in_html(b"\x00\xff\xfe", PAGE) == []


LISTING = """<html><body>
<nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/login">Log in</a></nav>
<main>
  <article><a href="/world/asia/2025/01/06/workers-abroad-123.html"> North Korean <b>workers</b>
    abroad </a></article>
  <article><a href="2025/01/07/second-456.html#comments">Comments</a>
           <a href="2025/01/07/second-456.html">Second story</a></article>
  <article><a href="//www.example.org/world/asia/2025/01/08/third-789.html">Third</a></article>
  <article><a href="https://news.example.org/world/asia/2025/01/08/sub-111.html">Subdomain</a></article>
  <a href="https://other.example.com/world/asia/2025/01/08/x-1.html">Elsewhere</a>
  <a href="/world/asia/2025/01/08/photo.jpg">Photo</a>
  <a href="javascript:void(0)">JS</a> <a href="mailto:desk@example.org">Mail</a>
  <a href="/world/asia/2025/01/09/video-222.html">Video</a>
  <a href="/world/asia/">This page</a>
</main></body></html>"""


def test_extract_listing_links_allow_deny_same_site() -> None:
    links = extract_listing_links(LISTING, PAGE, allow=[r"/\d{4}/\d\d/\d\d/"], deny=[r"/video-"])
    assert links == [
        DiscoveredLink(
            "https://www.example.org/world/asia/2025/01/06/workers-abroad-123.html",
            "North Korean workers abroad",
        ),
        DiscoveredLink(
            "https://www.example.org/world/asia/2025/01/07/second-456.html", "Second story"
        ),
        DiscoveredLink("https://www.example.org/world/asia/2025/01/08/third-789.html", "Third"),
        DiscoveredLink("https://news.example.org/world/asia/2025/01/08/sub-111.html", "Subdomain"),
    ]
    everything = extract_listing_links(LISTING, PAGE, same_site_only=False)
    urls = [link.url for link in everything]
    assert "https://other.example.com/world/asia/2025/01/08/x-1.html" in urls
    assert "https://www.example.org/" in urls
    assert not any(url.endswith(".jpg") or url == PAGE for url in urls)


def test_bad_pattern_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"bad URL pattern '\('"):
        compile_patterns(["("])


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<head><link rel="next" href="?page=2"></head>',
            "https://www.example.org/world/asia/?page=2",
        ),
        (
            '<a rel="nofollow next" href="/world/asia/page/2">2</a>',
            "https://www.example.org/world/asia/page/2",
        ),
        ('<a class="pagination-next" href="p2">&gt;</a>', "https://www.example.org/world/asia/p2"),
        (
            '<a href="/a">Prev</a><a href="/world/asia/?p=2"> Next » </a>',
            "https://www.example.org/world/asia/?p=2",
        ),
        ('<a href="?page=2">다음</a>', "https://www.example.org/world/asia/?page=2"),
        ('<a href="?page=2">Следующая</a>', "https://www.example.org/world/asia/?page=2"),
        ('<a rel="next" href="https://evil.example.com/2">next</a>', None),
        ('<a rel="next" href="/world/asia/">next</a>', None),
        ("<p>no pagination</p>", None),
        ("", None),
    ],
)
def test_find_next_page(html: str, expected: str | None) -> None:
    assert find_next_page(html, PAGE) == expected


def test_site_key() -> None:
    assert site_key("news.bbc.co.uk") == "bbc.co.uk"
    assert site_key("www.yna.co.kr") == "yna.co.kr"
    assert site_key("WWW.Example.ORG.") == "example.org"
    assert site_key("127.0.0.1") == "127.0.0.1"
