"""One streaming pass over an XML feed or sitemap: RSS 0.9x/1.0/2.0, Atom, urlset and
sitemapindex are told apart by their root element and read item by item, so a 100k-item
document costs time proportional to its size and memory proportional to max_items.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.discovery_common import (
    Collector,
    DiscoveredLink,
    ParseFailure,
    ParseResult,
    TooLong,
    clean_text,
    no_links_message,
    normalise_language,
    parse_date,
    resolve_url,
    too_long,
)
from monitor.discovery_safexml import (
    check_xml_safety,
    element_text,
    is_encoding_problem,
    iter_xml,
    local_name,
    release,
    root_name,
    sniff_html,
    strip_leading_junk,
    transcode_to_utf8,
)

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_ROOT_KINDS = {
    "rss": "rss",
    "RDF": "rss",
    "feed": "atom",
    "urlset": "sitemap",
    "sitemapindex": "sitemapindex",
}
_ITEM_TAGS = {"rss": "item", "atom": "entry", "sitemap": "url", "sitemapindex": "sitemap"}
_TAGS = (
    "{*}rss",
    "{*}RDF",
    "{*}feed",
    "{*}urlset",
    "{*}sitemapindex",
    "{*}item",
    "{*}entry",
    "{*}url",
    "{*}sitemap",
    "{*}language",
)
_RSS_WANTED = frozenset(
    ("link", "guid", "origLink", "title", "language", "pubDate", "date", "published",
     "issued", "updated", "modified")
)  # fmt: skip
ItemReader = Callable[[Any, str], DiscoveredLink | TooLong | None]
_DATE_TAGS = ("pubDate", "published", "issued", "date", "updated", "modified", "lastmod")


@dataclass
class _Pass:
    url: str
    max_items: int
    rss_item: ItemReader | None = None
    kind: str | None = None
    root_tag: str | None = None
    base: str = ""
    language: str | None = None
    items: Collector = field(init=False)
    children: Collector = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.url
        self.items = Collector(self.max_items)
        self.children = Collector(self.max_items)


def parse_xml(
    body: bytes,
    url: str,
    max_items: int,
    charset: str | None = None,
    rss_item: ItemReader | None = None,
) -> ParseResult:
    """Parse any XML feed or sitemap. Recovers what it can from malformed documents and
    says so in `error`. `rss_item` replaces the reader of RSS items (search feeds)."""
    body = strip_leading_junk(body)
    if not body.strip():
        return ParseResult(kind="unknown", error="the document is empty", error_code="empty")
    if sniff_html(body):
        return ParseResult(
            kind="html", error="not a feed: the document is HTML", error_code="not-a-feed"
        )
    if not body.startswith(b"<") and body[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        start = body[:20].decode("utf-8", errors="replace")
        return ParseResult(
            kind="unknown",
            error=f"not a feed: the document is not XML (it starts with {start!r})",
            error_code="not-a-feed",
        )
    try:
        check_xml_safety(body)
    except ParseFailure as failure:
        return ParseResult(kind="unknown", error=failure.message, error_code=failure.code)

    state = _Pass(url, max_items, rss_item)
    try:
        _run(body, state, recover=False)
        return _finish(state)
    except ParseFailure as failure:
        first_failure = failure
    if first_failure.code == "malformed-xml" and is_encoding_problem(first_failure):
        transcoded = transcode_to_utf8(body, charset)
        state = _Pass(url, max_items, rss_item)
        try:
            _run(transcoded, state, recover=False)
            return _finish(state)
        except ParseFailure as failure:  # the charset was one problem; here is the next
            body, first_failure = transcoded, failure
    if first_failure.code != "malformed-xml":
        return _finish(state, first_failure)
    salvage = _Pass(url, max_items, rss_item)
    with contextlib.suppress(ParseFailure):
        _run(body, salvage, recover=True)
    better = (
        salvage
        if salvage.items.unique + salvage.children.unique
        > (state.items.unique + state.children.unique)
        else state
    )
    return _finish(better, first_failure)


def _finish(state: _Pass, failure: ParseFailure | None = None) -> ParseResult:
    kind = state.kind or "unknown"
    links = state.items.links(state.language)
    children = state.children.links()
    truncated = state.items.truncated or state.children.truncated
    common: dict[str, Any] = {
        "kind": kind,
        "links": links,
        "sitemaps": tuple(link.url for link in children),
        "children": children,
        "truncated": truncated,
        "skipped": state.items.skipped + state.children.skipped,
        "long_links": state.items.long.result() or state.children.long.result(),
    }
    if failure is not None:
        return ParseResult(**common, error=failure.message, error_code=failure.code)
    if not links and not children:
        if state.items.skipped or state.children.skipped:
            count = state.items.skipped + state.children.skipped
            return ParseResult(
                **common,
                error=no_links_message(count, "items", common["long_links"]),
                error_code="no-links",
            )
        what = "sitemap" if kind.startswith("sitemap") else "feed"
        return ParseResult(**common, error=f"the {what} has no items", error_code="empty")
    if truncated:
        total = state.items.unique + state.children.unique
        return ParseResult(
            **common,
            error=f"{total} items, only the newest {state.max_items} kept",
            error_code="too-many-items",
        )
    return ParseResult(**common)


def _run(source: bytes, state: _Pass, recover: bool) -> None:
    root = root_name(source, recover=recover)
    if root is None:
        raise ParseFailure("malformed-xml", "malformed XML: no root element")
    _check_root(root)
    kind: str | None = None
    for _, elem in iter_xml(source, _TAGS, recover=recover):
        if kind is None:
            kind = _start_root(state, elem.getroottree().getroot())
        name = local_name(elem.tag)
        if name == _ITEM_TAGS[kind]:
            _take_item(state, elem)
            release(elem)
        elif name == "language" and kind == "rss":
            parent = elem.getparent()
            if parent is not None and local_name(parent.tag) in ("channel", "RDF", "rss"):
                state.language = normalise_language(element_text(elem))


def _check_root(name: str) -> None:
    if name not in _ROOT_KINDS:
        if name.lower() == "html":
            raise ParseFailure("not-a-feed", "not a feed: the document is HTML")
        raise ParseFailure("not-a-feed", f"not a feed: the XML root element is <{name[:40]}>")


def _start_root(state: _Pass, elem: Any) -> str:
    name = local_name(elem.tag)
    _check_root(name)
    state.root_tag = name
    kind = _ROOT_KINDS[name]
    state.kind = kind
    if kind == "atom":
        state.language = normalise_language(elem.get(_XML_LANG))
        base = resolve_url(elem.get(_XML_BASE), state.url)
        if base:
            state.base = base
    return kind


def _take_item(state: _Pass, elem: Any) -> None:
    if state.kind == "rss":
        state.items.add((state.rss_item or rss_item)(elem, state.base))
    elif state.kind == "atom":
        state.items.add(_atom_entry(elem, state.base))
    elif state.kind == "sitemap":
        state.items.add(_sitemap_url(elem, state.base))
    else:
        state.children.add(_sitemap_child(elem, state.base))


def _first_date(found: dict[str, str]) -> datetime | None:
    for tag in _DATE_TAGS:
        value = found.get(tag)
        if value:
            parsed = parse_date(value)
            if parsed is not None:
                return parsed
    return None


def rss_item(elem: Any, base: str) -> DiscoveredLink | TooLong | None:
    """The standard reader of one RSS item element."""
    found: dict[str, str] = {}
    permalink_guid: str | None = None
    atom_link: str | None = None
    for child in elem:
        name = local_name(child.tag)
        if not name:
            continue
        if name == "link" and child.get("href") is not None:
            if child.get("rel", "alternate") == "alternate":
                atom_link = atom_link or child.get("href")
            continue
        if name not in _RSS_WANTED or name in found:
            continue
        text = element_text(child)
        if text is None:
            continue
        if name == "guid":
            if child.get("isPermaLink", "true").strip().lower() != "false":
                permalink_guid = text
        elif name not in found:
            found[name] = text
    candidates = (found.get("origLink"), found.get("link"), atom_link, permalink_guid)
    url = None
    for candidate in candidates:
        url = resolve_url(candidate, base)
        if url:
            break
    about = elem.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
    if url is None:
        url = resolve_url(about, base)
    if url is None:
        return too_long(base, *candidates, about)
    return DiscoveredLink(
        url=url,
        title=clean_text(found.get("title")),
        published=_first_date(found),
        language=normalise_language(found.get("language")),
    )


def _atom_entry(elem: Any, base: str) -> DiscoveredLink | TooLong | None:
    entry_base = resolve_url(elem.get(_XML_BASE), base) or base
    found: dict[str, str] = {}
    best: tuple[int, str] | None = None
    for child in elem:
        name = local_name(child.tag)
        if name == "link":
            href = child.get("href")
            if href is None:
                continue
            rel = (child.get("rel") or "alternate").strip().lower()
            kind = (child.get("type") or "").lower()
            rank = 3 if rel == "alternate" and "html" in kind else 2 if rel == "alternate" else 0
            if rel in ("self", "edit", "replies", "enclosure", "license"):
                rank = -1
            if rank >= 0 and (best is None or rank > best[0]):
                best = (rank, href)
        elif name and name not in found:
            text = element_text(child)
            if text is not None:
                found[name] = text
    url = resolve_url(best[1], entry_base) if best else None
    entry_id = found.get("id", "")
    if not entry_id.startswith(("http://", "https://")):
        entry_id = ""
    if url is None and entry_id:
        url = resolve_url(entry_id, entry_base)
    if url is None:
        return too_long(entry_base, best[1] if best else None, entry_id)
    return DiscoveredLink(
        url=url,
        title=clean_text(found.get("title")),
        published=_first_date(found),
        language=normalise_language(elem.get(_XML_LANG)),
    )


def _sitemap_url(elem: Any, base: str) -> DiscoveredLink | TooLong | None:
    loc: str | None = None
    lastmod: str | None = None
    news: dict[str, str] = {}
    for child in elem:
        name = local_name(child.tag)
        if name == "loc":
            loc = element_text(child)
        elif name == "lastmod":
            lastmod = element_text(child)
        elif name == "news":
            for part in child.iter():
                part_name = local_name(part.tag)
                if part_name in ("publication_date", "title", "language") and part.text:
                    news[part_name] = part.text
    url = resolve_url(loc, base)
    if url is None:
        return too_long(base, loc)
    published = parse_date(news.get("publication_date")) or parse_date(lastmod)
    return DiscoveredLink(
        url=url,
        title=clean_text(news.get("title")),
        published=published,
        language=normalise_language(news.get("language")),
    )


def _sitemap_child(elem: Any, base: str) -> DiscoveredLink | TooLong | None:
    loc: str | None = None
    lastmod: str | None = None
    for child in elem:
        name = local_name(child.tag)
        if name == "loc":
            loc = element_text(child)
        elif name == "lastmod":
            lastmod = element_text(child)
    url = resolve_url(loc, base)
    return DiscoveredLink(url=url, published=parse_date(lastmod)) if url else too_long(base, loc)
