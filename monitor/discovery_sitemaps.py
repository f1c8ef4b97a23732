"""Sitemaps (urlset, sitemap index, Google News, gzip, plain-text) and robots.txt."""

from __future__ import annotations

from monitor.discovery_common import (
    Collector,
    DiscoveredLink,
    ParseFailure,
    ParseResult,
    resolve_url,
    too_long,
)
from monitor.discovery_safexml import (
    DEFAULT_MAX_BYTES,
    GZIP_MAGIC,
    gunzip_bounded,
    strip_leading_junk,
)
from monitor.discovery_xml import parse_xml

DEFAULT_SITEMAP_ITEMS = 50_000
"""The sitemaps.org limit of URLs per sitemap file."""


def parse_sitemap(
    body: bytes,
    url: str,
    max_items: int = DEFAULT_SITEMAP_ITEMS,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    charset: str | None = None,
) -> ParseResult:
    """Article links of a urlset (kind "sitemap") or child sitemaps of an index (kind
    "sitemapindex", in `sitemaps`; an index naming itself is reported as is: the caller
    dedups). Gzip bodies are recognised by their magic bytes and inflated to at most
    max_bytes. Google News tags give title, date and language; image and video
    extensions are ignored. RSS/Atom feeds and plain-text URL lists (both allowed as
    sitemaps by sitemaps.org) are read too. Never raises."""
    try:
        return _parse_sitemap(body, url, max_items, max_bytes, charset)
    except ParseFailure as failure:
        return ParseResult(kind="sitemap", error=failure.message, error_code=failure.code)
    except Exception as exc:  # a parser bug must cost one source, not the crawl
        return ParseResult(
            kind="sitemap",
            error=f"parser error: {type(exc).__name__}: {exc}"[:300],
            error_code="parser-bug",
        )


def _parse_sitemap(
    body: bytes, url: str, max_items: int, max_bytes: int, charset: str | None
) -> ParseResult:
    if body[:2] == GZIP_MAGIC:
        body = gunzip_checked(body, max_bytes)
    else:
        if len(body) > max_bytes:
            raise ParseFailure("too-large", f"the sitemap is over {max_bytes} bytes; refused")
        head = strip_leading_junk(body[:512])
        looks_textual = head[:1] == b"<" or head[:4].lower() == b"http"
        if _names_gzip(url) and head and not looks_textual:
            raise ParseFailure(
                "bad-gzip",
                "gzip that is not gzip: the URL names a .gz file but the body is "
                "neither gzip data nor XML",
            )
    if strip_leading_junk(body[:16]).lower().startswith((b"http://", b"https://")):
        return parse_text_sitemap(body, url, max_items)
    result = parse_xml(body, url, max_items, charset)
    if result.error_code == "not-a-feed":
        message = (result.error or "").replace("not a feed", "not a sitemap")
        return ParseResult(kind=result.kind, error=message, error_code="not-a-sitemap")
    return result


def gunzip_checked(body: bytes, max_bytes: int) -> bytes:
    inflated = gunzip_bounded(body, max_bytes)
    if not inflated.strip():
        raise ParseFailure("empty", "the gzip body inflates to nothing")
    return inflated


def _names_gzip(url: str) -> bool:
    path = url.partition("?")[0].partition("#")[0].lower()
    return path.endswith((".gz", ".gzip"))


def parse_text_sitemap(
    body: bytes, url: str, max_items: int = DEFAULT_SITEMAP_ITEMS
) -> ParseResult:
    """A plain-text sitemap: one absolute URL per line, UTF-8."""
    collector = Collector(max_items)
    text = body.decode("utf-8", errors="replace")
    for line in text.splitlines():
        line = line.strip()
        if line:
            if not line.lower().startswith("http"):
                collector.add(None)
            elif resolved := resolve_url(line, url):
                collector.add(DiscoveredLink(resolved))
            else:
                collector.add(too_long(url, line))
    return collector.result("sitemap-text", "the sitemap has no URLs", noun="URLs")


def sitemaps_from_robots(body: str | bytes, url: str) -> list[str]:
    """Sitemap URLs named in a robots.txt (`Sitemap:` lines, any case, anywhere in the
    file), resolved against the robots.txt URL, duplicates dropped, in file order."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    found: list[str] = []
    seen: set[str] = set()
    for raw in body.splitlines()[:100_000]:
        name, colon, value = raw.partition(":")
        if not colon or name.strip().lower() not in ("sitemap", "site-map"):
            continue
        value = value.split(" #", 1)[0].strip()
        resolved = resolve_url(value, url)
        if resolved and resolved not in seen:
            seen.add(resolved)
            found.append(resolved)
    return found
