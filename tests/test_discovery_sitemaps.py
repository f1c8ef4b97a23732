"""parse_sitemap and sitemaps_from_robots: urlsets, indexes, Google News, gzip, bad input."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime
from pathlib import Path

from monitor.discovery import DiscoveredLink, parse_sitemap, sitemaps_from_robots

SITE = "https://www.example.org"

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
  <url><loc>https://www.example.org/a/old</loc><lastmod>2024-06-01</lastmod></url>
  <url>
    <loc> https://www.example.org/a/new </loc>
    <lastmod>2025-01-02T10:00:00+00:00</lastmod>
    <image:image><image:loc>https://img.example.org/pic.jpg</image:loc></image:image>
    <video:video><video:content_loc>https://img.example.org/v.mp4</video:content_loc>
      <video:title>Not an article</video:title></video:video>
  </url>
  <url><loc>/a/relative</loc></url>
  <url><loc>https://www.example.org/a/new</loc></url>
  <url><loc>ftp://www.example.org/file</loc></url>
</urlset>
"""


def test_urlset_newest_first_images_and_videos_ignored() -> None:
    result = parse_sitemap(URLSET, f"{SITE}/sitemap.xml")
    assert result.kind == "sitemap"
    assert result.error is None
    assert result.links == (
        DiscoveredLink(
            "https://www.example.org/a/new", published=datetime(2025, 1, 2, 10, tzinfo=UTC)
        ),
        DiscoveredLink("https://www.example.org/a/old", published=datetime(2024, 6, 1, tzinfo=UTC)),
        DiscoveredLink("https://www.example.org/a/relative"),
    )
    assert result.skipped == 1


NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://kr.example.org/news/1</loc>
    <news:news>
      <news:publication><news:name>KR Daily</news:name><news:language>ko</news:language>
      </news:publication>
      <news:publication_date>2025-01-05T09:00:00+09:00</news:publication_date>
      <news:title>북한 노동자 기사</news:title>
    </news:news>
    <lastmod>2025-01-06T00:00:00Z</lastmod>
  </url>
  <url>
    <loc>https://kr.example.org/news/2</loc>
    <news:news><news:publication><news:language>zh-cn</news:language></news:publication>
      <news:publication_date>2025-01-04</news:publication_date>
      <news:title>Second</news:title></news:news>
  </url>
</urlset>
""".encode()


def test_google_news_sitemap_title_date_language() -> None:
    result = parse_sitemap(NEWS, "https://kr.example.org/news-sitemap.xml")
    assert result.links == (
        DiscoveredLink(
            "https://kr.example.org/news/1",
            "북한 노동자 기사",
            datetime(2025, 1, 5, 0, 0, tzinfo=UTC),
            "ko",
        ),
        DiscoveredLink(
            "https://kr.example.org/news/2", "Second", datetime(2025, 1, 4, tzinfo=UTC), "zh-cn"
        ),
    )


INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.example.org/sitemap-index.xml</loc></sitemap>
  <sitemap><loc>https://www.example.org/sitemap-2025-01.xml.gz</loc>
    <lastmod>2025-01-31</lastmod></sitemap>
  <sitemap><loc>sitemap-2024-12.xml</loc><lastmod>2024-12-31</lastmod></sitemap>
  <sitemap><loc>https://www.example.org/sitemap-2025-01.xml.gz</loc></sitemap>
</sitemapindex>
"""


def test_index_that_names_itself_just_reports_its_children() -> None:
    result = parse_sitemap(INDEX, f"{SITE}/sitemap-index.xml")
    assert result.kind == "sitemapindex"
    assert result.error is None
    assert result.links == ()
    assert result.sitemaps == (
        "https://www.example.org/sitemap-2025-01.xml.gz",
        "https://www.example.org/sitemap-2024-12.xml",
        "https://www.example.org/sitemap-index.xml",
    )
    assert [child.published for child in result.children] == [
        datetime(2025, 1, 31, tzinfo=UTC),
        datetime(2024, 12, 31, tzinfo=UTC),
        None,
    ]


def test_gzip_sitemap_and_gzip_that_is_not_gzip() -> None:
    url = f"{SITE}/sitemap.xml.gz"
    assert len(parse_sitemap(gzip.compress(URLSET), url).links) == 3
    # A server that already decompressed (Content-Encoding) sends plain XML: accepted.
    assert len(parse_sitemap(URLSET, url).links) == 3
    garbage = parse_sitemap(b"\x00\x01\x02 this is not gzip", url)
    assert garbage.error_code == "bad-gzip"
    assert garbage.error is not None and "not gzip" in garbage.error
    corrupt = parse_sitemap(b"\x1f\x8b\x08\x00" + b"\xff" * 40, url)
    assert corrupt.error_code == "bad-gzip"
    truncated = parse_sitemap(gzip.compress(URLSET)[:-30], url)
    assert truncated.error_code == "bad-gzip"


def test_gzip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"<urlset>" + b"\n" * 200_000_000, compresslevel=9)
    assert len(bomb) < 1_000_000
    started = time.perf_counter()
    result = parse_sitemap(bomb, f"{SITE}/s.xml.gz", max_bytes=5_000_000)
    assert result.error_code == "too-large"
    assert time.perf_counter() - started < 2.0


def test_text_sitemap_and_not_a_sitemap() -> None:
    text = b"https://www.example.org/a/1\n\nhttps://www.example.org/a/2\nnot a url\n"
    result = parse_sitemap(text, f"{SITE}/sitemap.txt")
    assert [link.url for link in result.links] == [
        "https://www.example.org/a/1",
        "https://www.example.org/a/2",
    ]
    assert result.skipped == 1
    html = parse_sitemap(b"<!doctype html><html><body>404</body></html>", f"{SITE}/s.xml")
    assert html.error_code == "not-a-sitemap"
    assert parse_sitemap(b"", f"{SITE}/s.xml").error_code == "empty"
    assert parse_sitemap(b'<urlset xmlns="x"/>', f"{SITE}/s.xml").error_code == "empty"


def test_malformed_sitemap_reports_line() -> None:
    body = b"<urlset>\n<url><loc>https://www.example.org/a/1</loc></url>\n<url><loc>x</url>"
    result = parse_sitemap(body, f"{SITE}/s.xml")
    assert result.error_code == "malformed-xml"
    assert result.error is not None and "line 3" in result.error
    assert "https://www.example.org/a/1" in [link.url for link in result.links]


def test_rss_is_accepted_as_a_sitemap() -> None:
    body = b"<rss><channel><item><link>https://www.example.org/a/1</link></item></channel></rss>"
    result = parse_sitemap(body, f"{SITE}/feed")
    assert result.kind == "rss"
    assert len(result.links) == 1


def test_max_items_bounds_a_big_sitemap() -> None:
    body = (
        b"<urlset>"
        + b"".join(b"<url><loc>https://www.example.org/a/%d</loc></url>" % i for i in range(60_000))
        + b"</urlset>"
    )
    result = parse_sitemap(body, f"{SITE}/s.xml", max_items=50_000)
    assert len(result.links) == 50_000
    assert result.truncated and result.error_code == "too-many-items"
    assert result.links[0].url == "https://www.example.org/a/0"  # undated: document order


def test_sitemaps_from_robots() -> None:
    robots = (
        "User-agent: *\nDisallow: /private\n"
        "Sitemap: https://www.example.org/sitemap.xml\n"
        "sitemap:/news-sitemap.xml # relative, and a comment\n"
        "SITEMAP:  //cdn.example.org/s.xml  \n"
        "Sitemap: https://www.example.org/sitemap.xml\n"
        "Sitemap: javascript:alert(1)\n"
        "Crawl-delay: 5\n"
    )
    assert sitemaps_from_robots(robots, f"{SITE}/robots.txt") == [
        "https://www.example.org/sitemap.xml",
        "https://www.example.org/news-sitemap.xml",
        "https://cdn.example.org/s.xml",
    ]
    assert sitemaps_from_robots(b"\xff\xfe garbage", f"{SITE}/robots.txt") == []


def test_sitemap_xxe_and_entity_bomb_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<urlset><url><loc>https://www.example.org/&x;</loc></url></urlset>"
    ).encode()
    result = parse_sitemap(xxe, f"{SITE}/s.xml")
    assert result.error_code == "unsafe-xml"
    assert "TOP-SECRET" not in repr(result)
    levels = "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 12))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY e0 "aaaaaaaaaa">{levels}]>'
        "<urlset><url><loc>https://www.example.org/&e11;</loc></url></urlset>"
    ).encode()
    started = time.perf_counter()
    assert parse_sitemap(gzip.compress(bomb), f"{SITE}/s.xml.gz").error_code == "unsafe-xml"
    assert time.perf_counter() - started < 1.0
