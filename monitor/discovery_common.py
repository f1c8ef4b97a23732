"""Shared pieces of the discovery parsers: result types, URL and date normalisation, and a
safe streaming XML reader.

Pure: no Scrapy, no storage, no I/O. Every parser built on this returns a ParseResult and
never raises on any input, because a broken feed must cost one recorded reason, not a crawl.
"""

from __future__ import annotations

import codecs
import html
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from charset_normalizer import from_bytes
from lxml import etree

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


# --- Safe XML -----------------------------------------------------------------------------

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*encoding=[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
_ENCODING_ERRORS = ("encoding", "utf-8", "utf-16", "input is not proper", "char 0x", "bytes:")


def check_xml_safety(body: bytes) -> None:
    """Refuse documents declaring entities (the XXE and billion-laughs vectors), as
    defusedxml does. The parser options would neutralise them anyway; refusing gives
    the user a clear reason instead of a half-parsed document."""
    head = body[:65536]
    doctype = _DOCTYPE.search(head)
    if doctype is not None and _ENTITY_DECL.search(body, doctype.start()):
        raise ParseFailure(
            "unsafe-xml",
            "refused: the document declares XML entities (possible XXE or entity-expansion attack)",
        )


def _iterparse(
    source: bytes, recover: bool, tags: tuple[str, ...] | None, events: tuple[str, ...]
) -> Any:
    # resolve_entities=False: no external entity is ever read (XXE); no_network: no DTD or
    # entity is fetched; load_dtd=False; huge_tree=False keeps libxml2's depth and size
    # limits, and libxml2's amplification guard stops entity bombs.
    return etree.iterparse(
        io.BytesIO(source),
        events=events,
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=recover,
        remove_comments=True,
        remove_pis=True,
    )


def iter_xml(
    source: bytes,
    tags: tuple[str, ...] | None,
    recover: bool = False,
    events: tuple[str, ...] = ("end",),
) -> Iterator[tuple[str, Any]]:
    """(event, element) pairs for the given tags (lxml "{*}name" patterns; None for all).

    Raises ParseFailure("malformed-xml") on a syntax error in strict mode."""
    try:
        yield from _iterparse(source, recover, tags, events)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or (exc.position[0] if exc.position else 0)
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc).split(", line ")[0]
        raise ParseFailure("malformed-xml", f"malformed XML at line {line}: {message}") from exc
    except (ValueError, LookupError, MemoryError) as exc:
        raise ParseFailure("malformed-xml", f"unreadable XML: {exc}") from exc


def root_name(source: bytes, recover: bool = False) -> str | None:
    """Local name of the root element, reading no further than its start tag."""
    for _, elem in iter_xml(source, None, recover=recover, events=("start",)):
        return local_name(elem.tag) or None
    return None


def is_encoding_problem(failure: ParseFailure) -> bool:
    text = failure.message.lower()
    return any(marker in text for marker in _ENCODING_ERRORS)


def transcode_to_utf8(body: bytes, charset: str | None) -> bytes:
    """Re-encode a document whose declared or missing charset is wrong as UTF-8 with the
    XML declaration removed. Tries the HTTP charset, the declared one, UTF-8, then a guess
    (charset-normalizer, else cp1252 which decodes any byte)."""
    candidates: list[str] = []
    if charset:
        candidates.append(charset)
    declared = _DECL_ENCODING.match(body.lstrip()[:200])
    if declared:
        candidates.append(declared.group(1).decode("ascii"))
    candidates.append("utf-8")
    text: str | None = None
    for name in candidates:
        try:
            codecs.lookup(name)
            text = body.decode(name)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    if text is None:
        text = _guess_decode(body)
    text = _XML_DECL.sub("", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8", errors="replace")


def _guess_decode(body: bytes) -> str:
    best = from_bytes(body[:200_000]).best()
    if best is not None:
        try:
            return body.decode(best.encoding, errors="replace")
        except LookupError:
            pass
    return body.decode("cp1252", errors="replace")


def local_name(tag: object) -> str:
    """Tag without its namespace; "" for comments and other non-element nodes."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(tag: object) -> str:
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].partition("}")[0]


def element_text(elem: Any) -> str | None:
    """All text inside an element (CDATA included), or None when empty."""
    if len(elem) == 0:
        text = elem.text
        return text if text and not text.isspace() else None
    try:
        text = "".join(elem.itertext())
    except (ValueError, TypeError):
        return None
    return text if text.strip() else None


def release(elem: Any) -> None:
    """Free an element already processed, and its processed siblings, so a streamed
    100k-item document keeps memory flat."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def strip_leading_junk(body: bytes) -> bytes:
    """Drop whitespace before the first '<' (a fatal error for XML parsers but common)."""
    if body[:3] == codecs.BOM_UTF8:
        body = body[3:]
    stripped = body.lstrip(b" \t\r\n\x00")
    return stripped


def sniff_html(body: bytes) -> bool:
    """True when the document is evidently an HTML page, not XML or JSON."""
    head = strip_leading_junk(body[:2048]).lower()
    while head.startswith(b"<!--"):
        end = head.find(b"-->")
        if end < 0:
            break
        head = head[end + 3 :].lstrip()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip() if b"?>" in head else head
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


# --- gzip ---------------------------------------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_BYTES = 50_000_000
"""Sitemaps may be 50 MB uncompressed (sitemaps.org); anything past that is refused."""


def gunzip_bounded(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Decompress a gzip body (all members) without ever holding more than max_bytes of
    output, so a few-KB gzip bomb is refused instead of inflating to gigabytes."""
    out = bytearray()
    data = body
    try:
        while data[:2] == GZIP_MAGIC:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = data
            while chunk and not inflater.eof:
                room = max_bytes + 1 - len(out)
                out += inflater.decompress(chunk, room)
                if len(out) > max_bytes:
                    raise ParseFailure(
                        "too-large", f"the gzip body inflates past {max_bytes} bytes; refused"
                    )
                chunk = inflater.unconsumed_tail
            if not inflater.eof:
                raise ParseFailure("bad-gzip", "truncated gzip data: the body ends mid-stream")
            data = inflater.unused_data
    except zlib.error as exc:
        raise ParseFailure("bad-gzip", f"corrupt gzip data: {exc}") from exc
    return bytes(out)
