"""HTML pages as discovery sources: feeds a page advertises, article links on section
(listing) pages, and the next page of a paginated listing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from monitor.discovery_common import (
    DiscoveredLink,
    LongLinkTally,
    clean_text,
    refused_for_length,
    resolve_url,
)

_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
)
_GENERIC_FEED_TYPES = ("application/xml", "text/xml", "application/json")
_FEEDISH = re.compile(r"rss|atom|feed|\.xml\b", re.IGNORECASE)
_STATIC = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|css|js|pdf|zip|gz|mp3|mp4|m4a|mov|avi|woff2?|ttf)$",
    re.IGNORECASE,
)
_NEXT_WORDS = {
    "next",
    "next page",
    "next »",
    "next ›",
    "older",
    "older posts",
    "older entries",
    "»",
    "›",
    ">",
    ">>",
    "→",
    "다음",
    "다음 페이지",
    "次へ",
    "次のページ",
    "下一页",
    "下一頁",
    "следующая",
    "далее",
    "вперед",
    "вперёд",
    "suivant",
    "weiter",
    "nächste",
    "siguiente",
}
_NEXT_HINT = re.compile(
    r"(?:^|[\s_-])(?:next|nextpage|pagination-next|page-next)(?:$|[\s_-])", re.I
)
_SECOND_LEVEL = {"co", "com", "ac", "or", "ne", "go", "org", "net", "gov", "edu", "gv", "nic"}


def parse_html(html: str | bytes) -> Any | None:
    """An lxml HTML tree, or None when there is nothing to parse. Never touches the
    network; comments and processing instructions are dropped."""
    if isinstance(html, str):
        data = html.encode("utf-8", errors="replace")
        parser = etree.HTMLParser(
            encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
        )
    else:
        data = html
        parser = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _base_url(root: Any, url: str) -> str:
    for base in root.iter("base"):
        resolved = resolve_url(base.get("href"), url)
        if resolved:
            return resolved
        break
    return url


def _rel_tokens(elem: Any) -> set[str]:
    return set((elem.get("rel") or "").lower().split())


def discover_feeds_in_html(html: str | bytes, url: str) -> list[str]:
    """Feeds a page advertises with <link rel="alternate" type="...rss+xml|atom+xml|
    feed+json">, absolute, deduplicated, in page order with comment feeds last."""
    root = parse_html(html)
    if root is None:
        return []
    base = _base_url(root, url)
    feeds: list[str] = []
    comment_feeds: list[str] = []
    for link in root.iter("link"):
        if "alternate" not in _rel_tokens(link):
            continue
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = link.get("href") or ""
        if kind not in _FEED_TYPES and not (kind in _GENERIC_FEED_TYPES and _FEEDISH.search(href)):
            continue
        resolved = resolve_url(href, base)
        if resolved is None or resolved in feeds or resolved in comment_feeds:
            continue
        title = (link.get("title") or "").lower()
        is_comments = "comment" in title or "/comments/" in resolved.lower()
        (comment_feeds if is_comments else feeds).append(resolved)
    return feeds + comment_feeds


def site_key(host: str) -> str:
    """The registrable part of a host, approximately ("news.bbc.co.uk" -> "bbc.co.uk"),
    without a public-suffix download: good enough to tell same-site links."""
    host = host.lower().rstrip(".")
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, other: str) -> bool:
    try:
        first, second = urlsplit(url).hostname, urlsplit(other).hostname
    except ValueError:
        return False
    return bool(first and second and site_key(first) == site_key(second))


def compile_patterns(patterns: Iterable[str | re.Pattern[str]]) -> list[re.Pattern[str]]:
    """Compile allow/deny regexes; raises ValueError naming the bad one (for config)."""
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        if isinstance(pattern, re.Pattern):
            compiled.append(pattern)
            continue
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"bad URL pattern {pattern!r}: {exc}") from exc
    return compiled


def extract_listing_links(
    html: str | bytes,
    url: str,
    allow: Sequence[str | re.Pattern[str]] = (),
    deny: Sequence[str | re.Pattern[str]] = (),
    *,
    same_site_only: bool = True,
    max_links: int = 2000,
    long_links: LongLinkTally | None = None,
) -> list[DiscoveredLink]:
    """Article links on a section page: every <a href> resolved against the page (and its
    <base>), fragments dropped, kept when some `allow` regex matches the absolute URL (all
    kept when allow is empty) and no `deny` regex does; same site by default; static files
    and the page itself skipped; the longest anchor text as title ("Read more" and
    "Comments" anchors lose to the headline); page order. Links these rules would keep
    but that are longer than MAX_URL_LENGTH are skipped and counted in `long_links`."""
    allowed, denied = compile_patterns(allow), compile_patterns(deny)
    root = parse_html(html)
    if root is None:
        return []
    base = _base_url(root, url)
    page = url.partition("#")[0]

    def wanted(resolved: str) -> bool:
        if resolved == page or _STATIC.search(urlsplit(resolved).path):
            return False
        if same_site_only and not same_site(resolved, url):
            return False
        if allowed and not any(p.search(resolved) for p in allowed):
            return False
        return not any(p.search(resolved) for p in denied)

    found: dict[str, DiscoveredLink] = {}
    for anchor in root.iter("a"):
        href = anchor.get("href")
        resolved = resolve_url(href, base)
        if resolved is None:
            refused = refused_for_length(href, base) if long_links is not None else None
            if refused and long_links is not None and wanted(refused.partition("#")[0]):
                long_links.note(refused)
            continue
        resolved = resolved.partition("#")[0]
        if not wanted(resolved):
            continue
        title = clean_text(_anchor_text(anchor))
        known = found.get(resolved)
        if known is None:
            found[resolved] = DiscoveredLink(url=resolved, title=title)
            if len(found) >= max_links:
                break
        elif title and len(title) > len(known.title or ""):
            found[resolved] = DiscoveredLink(url=resolved, title=title)
    return list(found.values())


def _anchor_text(anchor: Any) -> str | None:
    try:
        text = "".join(anchor.itertext())
    except (ValueError, TypeError):
        return None
    return text or anchor.get("title") or anchor.get("aria-label")


def find_next_page(html: str | bytes, url: str) -> str | None:
    """The next page of a paginated listing: <link rel=next>, <a rel=next>, then an anchor
    whose class, id or label says "next", then one whose text is a "next" word in a few
    languages. Only same-site http(s) URLs other than this page."""
    root = parse_html(html)
    if root is None:
        return None
    base = _base_url(root, url)
    page = url.partition("#")[0]

    def usable(href: str | None) -> str | None:
        resolved = resolve_url(href, base)
        if resolved is None:
            return None
        resolved = resolved.partition("#")[0]
        if resolved == page or not same_site(resolved, url):
            return None
        return resolved

    for elem in root.iter("link", "a"):
        if "next" in _rel_tokens(elem) and (found := usable(elem.get("href"))):
            return found
    anchors = list(root.iter("a"))
    for anchor in anchors:
        hint = " ".join(anchor.get(attr) or "" for attr in ("class", "id", "aria-label"))
        if _NEXT_HINT.search(hint) and (found := usable(anchor.get("href"))):
            return found
    for anchor in anchors:
        text = clean_text(_anchor_text(anchor))
        if text and text.lower() in _NEXT_WORDS and (found := usable(anchor.get("href"))):
            return found
    return None
