"""Search feeds: Google News RSS search and GDELT DOC 2.0 artlist."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.discovery import (
    DiscoveredLink,
    gdelt_language,
    gdelt_query_url,
    google_news_search_url,
    parse_feed,
    parse_gdelt_artlist,
    parse_google_news_rss,
)

GN_URL = "https://news.google.com/rss/search?q=%EB%B6%81%ED%95%9C&hl=ko&gl=KR&ceid=KR:ko"


def _old_article_id(url: bytes) -> str:
    """An article id in Google's older format: a base64 protobuf that holds the URL."""
    raw = b"\x08\x13\x22" + bytes([len(url)]) + url + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


OLD_ID = _old_article_id(b"https://www.example.co.kr/news/2025/01/06/nk-workers")
GOOGLE_NEWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>"북한" - Google 뉴스</title><link>https://news.google.com/search?q=x</link>
<item>
  <title>북한 노동자 러시아 파견 - Example Daily</title>
  <link>https://news.google.com/rss/articles/{OLD_ID}?oc=5</link>
  <pubDate>Mon, 06 Jan 2025 03:00:00 GMT</pubDate>
  <description>&lt;a href="https://news.google.com/rss/articles/{OLD_ID}?oc=5"&gt;x&lt;/a&gt;</description>
  <source url="https://www.example.co.kr">Example Daily</source>
</item>
<item>
  <title>Second item - Wire</title>
  <link>https://news.google.com/rss/articles/AU_yqLNEWFORMATOPAQUE?oc=5</link>
  <pubDate>Tue, 07 Jan 2025 03:00:00 GMT</pubDate>
  <description>&lt;a href="https://wire.example.com/story/42"&gt;Second&lt;/a&gt;</description>
  <source url="https://wire.example.com">Wire</source>
</item>
<item>
  <title>Redirect style</title>
  <link>https://news.google.com/news/url?sa=t&amp;url=https://paper.example.net/a/7&amp;ct=ga</link>
</item>
<item>
  <title>Opaque - Somewhere</title>
  <link>https://news.google.com/rss/articles/AU_yqLOPAQUE2?oc=5</link>
  <description>&lt;a href="https://news.google.com/rss/articles/AU_yqLOPAQUE2"&gt;x&lt;/a&gt;</description>
  <source url="https://somewhere.example.org">Somewhere</source>
</item>
</channel></rss>""".encode()


def test_google_news_items_resolved_to_publishers_or_marked_via() -> None:
    result = parse_google_news_rss(GOOGLE_NEWS, GN_URL)
    assert result.kind == "google-news"
    opaque = "https://news.google.com/rss/articles/AU_yqLOPAQUE2?oc=5"
    assert result.links == (
        DiscoveredLink(
            "https://wire.example.com/story/42",
            "Second item",
            datetime(2025, 1, 7, 3, tzinfo=UTC),
            "ko",
        ),
        DiscoveredLink(
            "https://www.example.co.kr/news/2025/01/06/nk-workers",
            "북한 노동자 러시아 파견",
            datetime(2025, 1, 6, 3, tzinfo=UTC),
            "ko",
        ),
        DiscoveredLink("https://paper.example.net/a/7", "Redirect style", None, "ko"),
        DiscoveredLink(opaque, "Opaque", None, "ko", via=opaque),
    )
    assert result.notes and "1 of 4 items kept as news.google.com links" in result.notes[0]


def test_google_news_bad_input() -> None:
    assert parse_google_news_rss(b"<html><body>consent</body></html>", GN_URL).error_code == (
        "not-a-feed"
    )
    empty = parse_google_news_rss(b"<rss><channel></channel></rss>", GN_URL)
    assert empty.error_code == "empty"
    assert parse_google_news_rss(b"<rss><channel><item>", GN_URL).error_code == "malformed-xml"


def test_google_news_search_url() -> None:
    url = google_news_search_url('"North Korean workers" Russia', "en", "us")
    parts = urlsplit(url)
    assert parts.netloc == "news.google.com" and parts.path == "/rss/search"
    assert parse_qs(parts.query) == {
        "q": ['"North Korean workers" Russia'],
        "hl": ["en-US"],
        "gl": ["US"],
        "ceid": ["US:en"],
    }
    assert "ceid=KR%3Ako" in google_news_search_url("북한 노동자", "ko", "KR")
    assert "ceid=CN%3Azh-Hans" in google_news_search_url("朝鲜工人", "zh", "CN")


GDELT = {
    "articles": [
        {
            "url": "https://ru.example.ru/news/1",
            "url_mobile": "",
            "title": "Северокорейские рабочие",
            "seendate": "20250106T101500Z",
            "socialimage": "",
            "domain": "ru.example.ru",
            "language": "Russian",
            "sourcecountry": "Russia",
        },
        {
            "url": "https://kr.example.kr/a/2",
            "title": "북한 노동자",
            "seendate": "20250107T000000Z",
            "language": "Korean",
        },
        {"url": "https://kr.example.kr/a/2", "title": "duplicate", "seendate": "20250101T000000Z"},
        {"url": "", "title": "no url"},
        {"url": "https://x.example.com/3", "language": "Klingon", "seendate": "garbage"},
    ]
}


def test_gdelt_artlist() -> None:
    url = gdelt_query_url('"north korean workers"')
    result = parse_gdelt_artlist(json.dumps(GDELT).encode(), url)
    assert result.kind == "gdelt" and result.error is None
    assert result.links == (
        DiscoveredLink(
            "https://kr.example.kr/a/2", "북한 노동자", datetime(2025, 1, 7, tzinfo=UTC), "ko"
        ),
        DiscoveredLink(
            "https://ru.example.ru/news/1",
            "Северокорейские рабочие",
            datetime(2025, 1, 6, 10, 15, tzinfo=UTC),
            "ru",
        ),
        DiscoveredLink("https://x.example.com/3"),
    )
    assert result.skipped == 1
    # The same JSON given to the generic feed parser is recognised.
    assert parse_feed(json.dumps(GDELT).encode(), url).links == result.links


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"{}", "empty", "no articles"),
        (b'{"articles": []}', "empty", "no articles"),
        (b"", "empty", "empty"),
        (b"Your search contained a keyword that was too short.", "gdelt-error", "too short"),
        (b"<!DOCTYPE html><html></html>", "not-a-feed", "HTML"),
        (b'{"articles": "x"}', "not-a-feed", "not a list"),
        (b"[1, 2]", "not-a-feed", "no articles object"),
        (b'{"articles": [{"title": "x"}]}', "no-links", "none"),
    ],
)
def test_gdelt_bad_input(body: bytes, code: str, words: str) -> None:
    result = parse_gdelt_artlist(body, gdelt_query_url("x"))
    assert result.error_code == code
    assert result.error is not None and words in result.error


def test_gdelt_query_url_and_languages() -> None:
    url = gdelt_query_url("(북한 OR 朝鲜) 노동자", timespan="24h", max_records=1000)
    query = parse_qs(urlsplit(url).query)
    assert query["query"] == ["(북한 OR 朝鲜) 노동자"]
    assert query["mode"] == ["artlist"] and query["format"] == ["json"]
    assert query["maxrecords"] == ["250"] and query["timespan"] == ["24h"]
    with pytest.raises(ValueError, match="timespan"):
        gdelt_query_url("x", timespan="yesterday")
    assert gdelt_language("Korean") == "ko"
    assert gdelt_language("chinese") == "zh"
    assert gdelt_language("Klingon") is None
