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
"""Longer URLs are dropped: no real article needs one, and hostile feeds use them. The
parsers count the items dropped for it (ParseResult.long_links) so the crawl can say so."""

SHOWN_URL_LENGTH = 100
"""How much of a refused over-long URL a message shows."""

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
class TooLong:
    """What an item reader returns for an item whose link was refused only for its length:
    the item is skipped like one without a link, but counted apart, since a user would
    otherwise never learn that the listing named links newsmon did not follow."""

    url: str


@dataclass(frozen=True)
class LongLinks:
    """The links of one listing refused for being longer than MAX_URL_LENGTH: how many,
    and the first one (shortened, with its real length) for the message."""

    count: int
    first: str
    first_length: int

    def message(self) -> str:
        """One sentence for run_errors: what was skipped, how many, and an example."""
        many = self.count != 1
        return (
            f"{self.count:,} link{'s' if many else ''} longer than {MAX_URL_LENGTH} characters "
            f"{'were' if many else 'was'} skipped "
            f"(first: {self.first} ({self.first_length:,} chars))"
        )


@dataclass
class LongLinkTally:
    """Counts over-long links while a listing is read; memory stays bounded whatever the
    listing holds (a hash per distinct link, the first one shortened)."""

    count: int = 0
    first: str = ""
    first_length: int = 0
    seen: set[int] = field(default_factory=set)

    def note(self, url: str) -> None:
        key = hash(url)
        if key in self.seen:
            return
        self.seen.add(key)
        if not self.count:
            self.first, self.first_length = shorten_url(url), len(url)
        self.count += 1

    def result(self) -> LongLinks | None:
        return LongLinks(self.count, self.first, self.first_length) if self.count else None


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
    long_links: LongLinks | None = None
    """Items skipped because their link was longer than MAX_URL_LENGTH (also in `skipped`)."""

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
    long: LongLinkTally = field(default_factory=LongLinkTally)

    def add(self, link: DiscoveredLink | TooLong | None) -> None:
        if not isinstance(link, DiscoveredLink):
            self.skipped += 1
            if link is not None:
                self.long.note(link.url)
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
        long_links = self.long.result()
        if not links and self.skipped:
            return ParseResult(
                kind=kind,
                skipped=self.skipped,
                error=no_links_message(self.skipped, noun, long_links),
                error_code="no-links",
                long_links=long_links,
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
                long_links=long_links,
            )
        return ParseResult(kind=kind, links=links, skipped=self.skipped, long_links=long_links)


def no_links_message(skipped: int, noun: str, long_links: LongLinks | None) -> str:
    """The "no-links" error, saying how many of the items were refused for length."""
    message = f"no usable links: {skipped} {noun}, none with an http(s) URL"
    if long_links is not None:
        message += f" ({long_links.count} longer than {MAX_URL_LENGTH} characters)"
    return message


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
    href = _clean_href(href)
    if not href or len(href) > MAX_URL_LENGTH:
        return None
    plain = _PLAIN_ABSOLUTE.fullmatch(href)
    if plain is not None and (":" not in href[8:].split("/", 1)[0] or _port_ok(href)):
        return href
    absolute = _absolute_http(href, base)
    return absolute if absolute is not None and len(absolute) <= MAX_URL_LENGTH else None


def refused_for_length(href: str | None, base: str) -> str | None:
    """The absolute http(s) URL `href` names when resolve_url refused it only for being
    longer than MAX_URL_LENGTH, else None. Meant for the (rare) path where resolve_url
    returned None: it resolves the long text that resolve_url would not."""
    if not href:
        return None
    absolute = _absolute_http(_clean_href(href), base)
    return absolute if absolute is not None and len(absolute) > MAX_URL_LENGTH else None


def _clean_href(href: str) -> str:
    if "\t" in href or "\n" in href or "\r" in href:
        href = _URL_STRIP.sub("", href)
    return href.strip().strip("\x00")


def _absolute_http(href: str, base: str) -> str | None:
    """`href` made absolute against `base` when that gives an http(s) URL with a host
    and a valid port (spaces escaped), whatever its length; else None."""
    if not href:
        return None
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
    return absolute


def too_long(base: str, *hrefs: str | None) -> TooLong | None:
    """For an item reader that found no usable link among `hrefs`: TooLong for the first
    one refused only for its length, else None (the item had no http(s) link at all)."""
    for href in hrefs:
        if href and (url := refused_for_length(href, base)):
            return TooLong(url)
    return None


def shorten_url(url: str, keep: int = SHOWN_URL_LENGTH) -> str:
    """`url` cut to `keep` characters for a message ("..." marks the cut)."""
    return url if len(url) <= keep else url[:keep] + "..."


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
