"""Shared pieces of the discovery parsers: result types, URL, date, text and language
normalisation. (Reading XML safely is monitor/discovery_safexml.py.)

Pure: no Scrapy, no storage, no I/O. Every parser built on this returns a ParseResult and
never raises on any input, because a broken feed must cost one recorded reason, not a crawl.
"""

from __future__ import annotations

import heapq
import html
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

MAX_URL_LENGTH = 4096
"""Longer URLs are dropped: no real article needs one, and hostile feeds use them."""

MAX_TITLE_LENGTH = 1000


@dataclass(frozen=True)
class DiscoveredLink:
    """One article link found by discovery, with what the source said about it."""

    url: str
    title: str | None = None
    published: datetime | None = None
    language: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """What a discovery parser found. `error` set with links present means a warning
    (e.g. a malformed feed whose first items were still readable)."""

    kind: str
    links: tuple[DiscoveredLink, ...] = ()
    sitemaps: tuple[str, ...] = ()
    error: str | None = None
    error_code: str | None = None
    truncated: bool = False
    skipped: int = 0
    """Items dropped because they had no usable http(s) link."""
    children: tuple[DiscoveredLink, ...] = ()
    """The child sitemaps of an index with their lastmod (same order as `sitemaps`), so a
    caller can skip children unchanged since its last visit or older than a backfill."""
    notes: tuple[str, ...] = ()
    """Things the user should know that are not errors (e.g. unresolved aggregator links)."""

    @property
    def ok(self) -> bool:
        return self.error is None


class ParseFailure(Exception):
    """Raised inside the parsers and turned into ParseResult(error=...) at their boundary."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Collector:
    """Keeps the max_items newest unique links (document order when undated)."""

    max_items: int
    heap: list[tuple[tuple[int, float, int], DiscoveredLink]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    unique: int = 0
    skipped: int = 0

    def add(self, link: DiscoveredLink | None) -> None:
        if link is None:
            self.skipped += 1
            return
        key_url = link.url.partition("#")[0]
        if key_url in self.seen:
            return
        self.seen.add(key_url)
        self.unique += 1
        stamp = link.published.timestamp() if link.published else 0.0
        key = (1 if link.published else 0, stamp, -self.unique)
        if self.max_items <= 0:
            return
        if len(self.heap) < self.max_items:
            heapq.heappush(self.heap, (key, link))
        else:
            heapq.heappushpop(self.heap, (key, link))

    def links(self, default_language: str | None = None) -> tuple[DiscoveredLink, ...]:
        ordered = [link for _, link in sorted(self.heap, key=lambda pair: pair[0], reverse=True)]
        if default_language:
            ordered = [
                link if link.language else replace(link, language=default_language)
                for link in ordered
            ]
        return tuple(ordered)

    @property
    def truncated(self) -> bool:
        return self.unique > self.max_items

    def result(
        self, kind: str, empty: str, noun: str = "items", language: str | None = None
    ) -> ParseResult:
        """The ParseResult for what was collected: "empty" when nothing was there,
        "no-links" when items had no usable URL, "too-many-items" when cut to max_items."""
        links = self.links(language)
        if not links and self.skipped:
            return ParseResult(
                kind=kind,
                skipped=self.skipped,
                error=f"no usable links: {self.skipped} {noun}, none with an http(s) URL",
                error_code="no-links",
            )
        if not links:
            return ParseResult(kind=kind, error=empty, error_code="empty")
        if self.truncated:
            return ParseResult(
                kind=kind,
                links=links,
                skipped=self.skipped,
                truncated=True,
                error=f"{self.unique} {noun}, only {self.max_items} kept",
                error_code="too-many-items",
            )
        return ParseResult(kind=kind, links=links, skipped=self.skipped)


# --- URLs ---------------------------------------------------------------------------------

_URL_STRIP = re.compile(r"[\t\n\r]")
# An absolute http(s) URL whose authority is plainly valid: the common case, checked
# without urljoin/urlsplit (which cost most of the time on a 100k-item feed).
_PLAIN_ABSOLUTE = re.compile(
    r"https?://(?:[^/?#@\s\\]+@)?[A-Za-z0-9.-]*[A-Za-z0-9](?::\d{1,5})?(?:[/?#][^\s\\]*)?",
    re.IGNORECASE,
)


def resolve_url(href: str | None, base: str) -> str | None:
    """Absolute http(s) URL for `href` found in a document at `base`, or None.

    Handles relative and protocol-relative links; strips surrounding whitespace and the
    tabs/newlines browsers ignore inside URLs; rejects other schemes (javascript:, mailto:,
    data:) and absurdly long URLs.
    """
    if not href:
        return None
    if "\t" in href or "\n" in href or "\r" in href:
        href = _URL_STRIP.sub("", href)
    href = href.strip().strip("\x00")
    if not href or len(href) > MAX_URL_LENGTH:
        return None
    plain = _PLAIN_ABSOLUTE.fullmatch(href)
    if plain is not None and (":" not in href[8:].split("/", 1)[0] or _port_ok(href)):
        return href
    try:
        absolute = urljoin(base, href) if base else href
        parts = urlsplit(absolute)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if " " in absolute:
        absolute = absolute.replace(" ", "%20")
    return absolute if len(absolute) <= MAX_URL_LENGTH else None


def _port_ok(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return True


# --- Dates --------------------------------------------------------------------------------

_MIN_YEAR, _MAX_YEAR = 1990, 2200
_TZ_NAMES = {"UT": "+0000", "UTC": "+0000", "GMT": "+0000", "Z": "+0000"}
_SPACES = re.compile(r"\s+")


def parse_date(value: str | None) -> datetime | None:
    """A timezone-aware UTC datetime from an RFC 822, ISO 8601 or GDELT-style date, or
    None when the text is not a plausible date. Naive dates are taken as UTC."""
    if not value:
        return None
    text = _SPACES.sub(" ", value).strip()
    if not text or len(text) > 80:
        return None
    if text[0].isdigit():
        parsed = _parse_iso(text) or _parse_rfc822(text) or _parse_loose(text)
    else:
        parsed = _parse_rfc822(text) or _parse_loose(text) or _parse_iso(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    return parsed


def _parse_iso(text: str) -> datetime | None:
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    if candidate.endswith(("z", "Z", "UTC", "GMT")):
        candidate = candidate.removesuffix("UTC").removesuffix("GMT").rstrip("zZ").rstrip()
        candidate += "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


_LOOSE_FORMATS = ("%d %b %Y", "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%Y/%m/%d", "%Y/%m/%d %H:%M")


def _parse_loose(text: str) -> datetime | None:
    """Date-only forms some feeds use ("06 Jan 2025", "January 6, 2025")."""
    text = text.split(", ", 1)[1] if re.match(r"^[A-Za-z]{3}, \d", text) else text
    for pattern in _LOOSE_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _parse_rfc822(text: str) -> datetime | None:
    # Common deviations: a trailing zone name parsedate does not know, a missing comma.
    parts = text.split(" ")
    if parts and parts[-1].upper() in _TZ_NAMES:
        parts[-1] = _TZ_NAMES[parts[-1].upper()]
        text = " ".join(parts)
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# --- Text ---------------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]{0,2000}>")


def clean_text(value: str | None) -> str | None:
    """Plain one-line text from a title that may carry escaped markup or entities."""
    if not value:
        return None
    if "<" in value:
        value = _TAGS.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    value = _SPACES.sub(" ", value).strip()
    if not value:
        return None
    return value[:MAX_TITLE_LENGTH]


_LANG_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")


def normalise_language(value: str | None) -> str | None:
    """A lower-case BCP 47-ish tag ("en", "ko", "zh-cn") or None when it is not one."""
    if not value:
        return None
    value = value.strip()
    if not _LANG_CODE.match(value):
        return None
    return value.replace("_", "-").lower()
