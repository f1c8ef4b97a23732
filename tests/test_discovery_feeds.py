"""parse_feed: RSS 0.9x/1.0/2.0, Atom, JSON Feed, and the bad inputs of issues 2, 7 and 9."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.discovery import DiscoveredLink, parse_feed
from monitor.discovery_common import (
    ParseFailure,
)
from monitor.discovery_safexml import (
    element_text,
    iter_xml,
)

FEED_URL = "https://news.example.org/section/feed.xml"

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel>
  <title>Example news</title>
  <language>en-GB</language>
  <image><url>https://news.example.org/logo.png</url></image>
  <item>
    <title>Workers &amp; visas</title>
    <link>
       /2025/01/06/workers.html
    </link>
    <pubDate>Mon, 06 Jan 2025 10:00:00 +0900</pubDate>
  </item>
  <item>
    <title><![CDATA[<b>Second</b> story]]></title>
    <link>//cdn.example.org/2025/01/07/second.html</link>
    <pubDate>Tue, 07 Jan 2025 10:00:00 GMT</pubDate>
    <dc:language>ru</dc:language>
  </item>
  <item>
    <title>Duplicate of the first</title>
    <link>https://news.example.org/2025/01/06/workers.html#comments</link>
  </item>
  <item><title>No link at all</title><description>text only</description></item>
  <item>
    <title>Permalink guid only</title>
    <guid isPermaLink="true">https://news.example.org/2025/01/05/guid.html</guid>
    <dc:date>2025-01-05T08:00:00Z</dc:date>
  </item>
  <item>
    <title>Feedburner</title>
    <link>https://feeds.feedburner.com/~r/x/~3/abc/</link>
    <feedburner:origLink>https://news.example.org/2025/01/04/orig.html</feedburner:origLink>
    <pubDate>Sat, 04 Jan 2025 10:00:00 GMT</pubDate>
  </item>
  <item><title>Script</title><link>javascript:alert(1)</link></item>
</channel>
</rss>
"""


def test_rss2_links_resolved_deduplicated_newest_first() -> None:
    result = parse_feed(RSS2, FEED_URL)
    assert result.kind == "rss"
    assert result.error is None
    assert [link.url for link in result.links] == [
        "https://cdn.example.org/2025/01/07/second.html",
        "https://news.example.org/2025/01/06/workers.html",
        "https://news.example.org/2025/01/05/guid.html",
        "https://news.example.org/2025/01/04/orig.html",
    ]
    second, first = result.links[0], result.links[1]
    assert second.title == "Second story"
    assert second.language == "ru"
    assert first.title == "Workers & visas"
    assert first.language == "en-gb"  # the channel's language fills in
    assert first.published == datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    assert result.skipped == 2  # no link; javascript: link


RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://jp.example.org/"><title>JP</title><dc:language>ja</dc:language></channel>
  <item rdf:about="http://jp.example.org/a/1"><title>One</title>
    <link>http://jp.example.org/a/1</link><dc:date>2025-02-01T09:00:00+09:00</dc:date></item>
  <item rdf:about="http://jp.example.org/a/2"><title>Two</title></item>
</rdf:RDF>
"""


def test_rss1_rdf() -> None:
    result = parse_feed(RSS1, "http://jp.example.org/index.rdf")
    assert result.kind == "rss"
    assert [link.url for link in result.links] == [
        "http://jp.example.org/a/1",
        "http://jp.example.org/a/2",
    ]
    assert result.links[0].published == datetime(2025, 2, 1, 0, 0, tzinfo=UTC)
    assert {link.language for link in result.links} == {"ja"}


RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="0.91"><channel><title>Old</title><link>http://old.example.org/</link>
<item><title>Caf\xe9</title><link>http://old.example.org/cafe.html</link></item>
</channel></rss>"""


def test_rss091_latin1() -> None:
    result = parse_feed(RSS091, "http://old.example.org/rss.xml")
    assert result.links == (DiscoveredLink("http://old.example.org/cafe.html", "Café"),)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ko" xml:base="https://kr.example.org/news/">
  <title>KR</title>
  <entry>
    <title type="html">&lt;i&gt;Atom&lt;/i&gt; entry</title>
    <link rel="self" href="/api/entries/1"/>
    <link rel="alternate" type="text/html" href="2025/01/one"/>
    <id>tag:kr.example.org,2025:1</id>
    <updated>2025-01-02T00:00:00Z</updated>
    <published>2025-01-01T00:00:00+09:00</published>
  </entry>
  <entry xml:lang="en">
    <title>Id only</title>
    <id>https://kr.example.org/news/2025/01/two</id>
    <updated>2025-01-03T00:00:00Z</updated>
  </entry>
  <entry><title>Nothing usable</title><id>urn:uuid:1234</id></entry>
</feed>
"""


def test_atom_base_alternate_published() -> None:
    result = parse_feed(ATOM, "https://kr.example.org/feed")
    assert result.kind == "atom"
    assert result.links == (
        DiscoveredLink(
            "https://kr.example.org/news/2025/01/two",
            "Id only",
            datetime(2025, 1, 3, tzinfo=UTC),
            "en",
        ),
        DiscoveredLink(
            "https://kr.example.org/news/2025/01/one",
            "Atom entry",
            datetime(2024, 12, 31, 15, 0, tzinfo=UTC),
            "ko",
        ),
    )
    assert result.skipped == 1


def test_json_feed() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "language": "de",
        "items": [
            {
                "id": "1",
                "url": "/p/1",
                "title": "Eins",
                "date_published": "2025-01-01T10:00:00+01:00",
            },
            {"id": "2", "external_url": "https://elsewhere.example.com/x", "title": "Zwei"},
            {"id": "https://json.example.org/p/3", "title": "Drei", "language": "fr"},
            {"id": "4", "url": "/p/1", "title": "duplicate"},
            "not an object",
        ],
    }
    result = parse_feed(json.dumps(doc).encode(), "https://json.example.org/feed.json")
    assert result.kind == "jsonfeed"
    assert [(link.url, link.language) for link in result.links] == [
        ("https://json.example.org/p/1", "de"),
        ("https://elsewhere.example.com/x", "de"),
        ("https://json.example.org/p/3", "fr"),
    ]
    assert result.links[0].published == datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    assert result.skipped == 1


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"<!DOCTYPE html><html><head><title>x</title></head></html>", "not-a-feed", "HTML"),
        (b"\n\n  <html><body>Moved</body></html>", "not-a-feed", "HTML"),
        (
            b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"/>',
            "not-a-feed",
            "HTML",
        ),
        (b"<note><to>x</to></note>", "not-a-feed", "<note>"),
        (b"%PDF-1.4 binary", "not-a-feed", "not XML"),
        (b"", "empty", "empty"),
        (b"   \n\t", "empty", "empty"),
        (b"<rss><channel><title>t</title></channel></rss>", "empty", "no items"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"/>', "empty", "no items"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": []}', "empty", "no items"),
        (b'{"version": 1, "items": [', "malformed-json", "malformed JSON"),
        (b'{"hello": "world"}', "not-a-feed", "JSON Feed"),
        (b"<rss><channel><item><title>x</title></item></channel></rss>", "no-links", "none"),
        (b"<rss><channel><item><link>http://a.example/1</link>", "malformed-xml", "line 1"),
    ],
)
def test_bad_documents_give_a_specific_reason(body: bytes, code: str, words: str) -> None:
    result = parse_feed(body, FEED_URL)
    assert result.error_code == code
    assert result.error is not None and words in result.error


def test_html_page_served_as_feed_names_its_feed() -> None:
    page = b"""<!DOCTYPE html><html><head><link rel="alternate"
        type="application/rss+xml" href="/rss/asia.xml"></head><body>Asia</body></html>"""
    result = parse_feed(page, "https://news.example.org/asia/")
    assert result.error_code == "not-a-feed"
    assert result.error == (
        "not a feed: the document is HTML (it advertises the feed "
        "https://news.example.org/rss/asia.xml)"
    )


def test_utf16_feed() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><rss><channel><item><title>日本語</title>'
    body += "<link>https://jp.example.org/1</link></item></channel></rss>"
    result = parse_feed(body.encode("utf-16"), FEED_URL)
    assert result.links == (DiscoveredLink("https://jp.example.org/1", "日本語"),)


def test_malformed_feed_keeps_items_before_the_error() -> None:
    body = (
        b"<rss><channel>\n<item><link>http://a.example/1</link></item>\n"
        b"<item><link>http://a.example/2</link></item>\n<item><title>broken & bad</title>"
        b"<link>http://a.example/3</link></item></channel></rss>"
    )
    result = parse_feed(body, FEED_URL)
    assert result.error_code == "malformed-xml"
    assert result.error is not None and "line 4" in result.error
    assert [link.url for link in result.links][:2] == ["http://a.example/1", "http://a.example/2"]


def test_wrong_declared_charset_is_recovered() -> None:
    title = "Северокорейские рабочие прибыли по студенческим визам"
    items = "".join(
        f"<item><title>{title}</title><link>http://ru.example/{i}</link></item>" for i in range(3)
    )
    body = f'<?xml version="1.0" encoding="utf-8"?><rss><channel>{items}</channel></rss>'
    result = parse_feed(body.encode("cp1251"), FEED_URL)
    assert result.error is None
    assert result.links[0].title == title
    no_declaration = f"<rss><channel>{items}</channel></rss>".encode("koi8-r")
    assert parse_feed(no_declaration, FEED_URL, charset="koi8-r").links[0].title == title


def test_leading_whitespace_and_bom_tolerated() -> None:
    body = b"\xef\xbb\xbf\n  " + RSS2
    assert len(parse_feed(body, FEED_URL).links) == 4


def test_gzipped_feed_and_gzip_bomb() -> None:
    assert len(parse_feed(gzip.compress(RSS2), FEED_URL).links) == 4
    bomb = gzip.compress(b"<rss>" + b" " * 20_000_000)
    assert len(bomb) < 100_000
    result = parse_feed(bomb, FEED_URL, max_bytes=1_000_000)
    assert result.error_code == "too-large"


def _xxe_document(secret_file: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
        "<rss><channel><item><title>&xxe;</title><link>http://a.example/&xxe;</link>"
        "</item></channel></rss>"
    ).encode()


def test_xxe_is_refused_and_never_reads_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    result = parse_feed(_xxe_document(secret), FEED_URL)
    assert result.error_code == "unsafe-xml"
    assert "TOP-SECRET" not in repr(result)
    # Even without the up-front refusal the parser options never read the file.
    texts = [element_text(elem) or "" for _, elem in iter_xml(_xxe_document(secret), ("{*}title",))]
    assert not any("TOP-SECRET" in text for text in texts)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">'.encode()
        for n in range(2, 10)
    )
    + b"]><rss><channel><item><title>&lol9;</title><link>http://a.example/1</link></item>"
    b"</channel></rss>"
)


def test_billion_laughs_refused_fast() -> None:
    started = time.perf_counter()
    result = parse_feed(BILLION_LAUGHS, FEED_URL)
    assert time.perf_counter() - started < 1.0
    assert result.error_code == "unsafe-xml"
    # The parser on its own stops the expansion too.
    with pytest.raises(ParseFailure):
        for _ in iter_xml(BILLION_LAUGHS, ("{*}title",)):
            pass


def test_100k_item_feed_bounded_and_fast() -> None:
    items = b"".join(
        b"<item><title>Item %d</title><link>https://big.example.org/a/%d</link>"
        b"<pubDate>Mon, 06 Jan 2025 %02d:%02d:00 GMT</pubDate></item>"
        % (i, i, i // 60 % 24, i % 60)
        for i in range(100_000)
    )
    body = b"<rss><channel>" + items + b"</channel></rss>"
    started = time.perf_counter()
    result = parse_feed(body, FEED_URL, max_items=500)
    elapsed = time.perf_counter() - started
    assert len(result.links) == 500
    assert result.truncated
    assert result.error_code == "too-many-items"
    assert result.links[0].published is not None
    dates = [link.published for link in result.links]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert elapsed < 15.0


def test_overlong_and_non_http_links_are_skipped_not_fatal() -> None:
    long_link = "https://a.example/" + "x" * 5000
    body = (
        f"<rss><channel><item><link>{long_link}</link></item>"
        "<item><link>data:text/html,hi</link></item>"
        "<item><link>https://a.example/ok</link></item></channel></rss>"
    ).encode()
    result = parse_feed(body, FEED_URL)
    assert [link.url for link in result.links] == ["https://a.example/ok"]
    assert result.skipped == 2


def test_wrong_charset_and_malformed_reports_the_syntax_error() -> None:
    body = "<rss><channel><item><title>Привет мир, рабочие</title><link>http://a.example/1</link>"
    body += "</item>\n<item><title>x</title></wrong></channel></rss>"
    result = parse_feed(body.encode("cp1251"), FEED_URL)
    assert result.error_code == "malformed-xml"
    assert result.error is not None and "line 2" in result.error
    assert result.links[0].title == "Привет мир, рабочие"
