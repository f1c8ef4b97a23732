"""Feeds: RSS 0.9x/1.0/2.0, Atom and JSON Feed, told apart by content, not by URL or
Content-Type (servers mislabel both)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from monitor.discovery_common import (
    Collector,
    DiscoveredLink,
    ParseFailure,
    ParseResult,
    TooLong,
    clean_text,
    normalise_language,
    parse_date,
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


def parse_feed(
    body: bytes,
    url: str,
    max_items: int = 500,
    *,
    charset: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParseResult:
    """Links from a feed, newest first (document order when undated), duplicates dropped,
    at most max_items. `charset` is the HTTP Content-Type charset, used when the document's
    own is missing or wrong. Never raises: problems come back in error/error_code."""
    try:
        return _parse_feed(body, url, max_items, charset, max_bytes)
    except ParseFailure as failure:
        return ParseResult(kind="unknown", error=failure.message, error_code=failure.code)
    except Exception as exc:  # a parser bug must cost one source, not the crawl
        return ParseResult(
            kind="unknown",
            error=f"parser error: {type(exc).__name__}: {exc}"[:300],
            error_code="parser-bug",
        )


def _parse_feed(
    body: bytes, url: str, max_items: int, charset: str | None, max_bytes: int
) -> ParseResult:
    if body[:2] == GZIP_MAGIC:
        body = gunzip_bounded(body, max_bytes)
    elif len(body) > max_bytes:
        raise ParseFailure("too-large", f"the document is over {max_bytes} bytes; refused")
    head = strip_leading_junk(body[:64])
    if head.startswith((b"{", b"[")):
        return parse_json_feed(body, url, max_items)
    result = parse_xml(body, url, max_items, charset)
    if result.kind == "html":
        return _html_instead_of_feed(result, body, url)
    return result


def _html_instead_of_feed(result: ParseResult, body: bytes, url: str) -> ParseResult:
    """Name the feeds an HTML page advertises: the likely fix for a source that points
    at a page instead of its feed."""
    from monitor.discovery_html import discover_feeds_in_html

    feeds = discover_feeds_in_html(body, url)
    if not feeds:
        return result
    shown = ", ".join(feeds[:3])
    return replace(result, error=f"{result.error} (it advertises the feed {shown})")


def parse_json_feed(body: bytes, url: str, max_items: int = 500) -> ParseResult:
    """JSON Feed 1.0/1.1 (jsonfeed.org)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return ParseResult(
            kind="jsonfeed", error=f"malformed JSON: {exc}"[:300], error_code="malformed-json"
        )
    if isinstance(data, dict) and isinstance(data.get("articles"), list) and "items" not in data:
        from monitor.discovery_search import parse_gdelt_artlist  # GDELT JSON given as a feed

        return parse_gdelt_artlist(body, url, max_items)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return ParseResult(
            kind="json",
            error="not a feed: the JSON document is not a JSON Feed (no items list)",
            error_code="not-a-feed",
        )
    feed_language = normalise_language(_string(data.get("language")))
    base = resolve_url(_string(data.get("feed_url")), url) or url
    collector = Collector(max_items)
    for item in data["items"]:
        collector.add(_json_item(item, base) if isinstance(item, dict) else None)
    return collector.result("jsonfeed", "the feed has no items", language=feed_language)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_item(item: dict[str, Any], base: str) -> DiscoveredLink | TooLong | None:
    candidates = (_string(item.get("url")), _string(item.get("external_url")))
    url = resolve_url(candidates[0], base) or resolve_url(candidates[1], base)
    item_id = _string(item.get("id")) or ""
    if not item_id.startswith(("http:", "https:")):
        item_id = ""
    if url is None and item_id:
        url = resolve_url(item_id, base)
    if url is None:
        return too_long(base, *candidates, item_id)
    published = parse_date(_string(item.get("date_published"))) or parse_date(
        _string(item.get("date_modified"))
    )
    return DiscoveredLink(
        url=url,
        title=clean_text(_string(item.get("title"))),
        published=published,
        language=normalise_language(_string(item.get("language"))),
    )
