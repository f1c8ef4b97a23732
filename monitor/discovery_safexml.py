"""Bytes to XML events, safely: entity declarations refused, no network, no external
entities, libxml2's size and amplification limits kept; mislabelled charsets repaired;
gzip inflated within a byte budget. Pure: no I/O beyond the bytes given.
"""

from __future__ import annotations

import codecs
import io
import re
import zlib
from collections.abc import Iterator
from typing import Any

from charset_normalizer import from_bytes
from lxml import etree

from monitor.discovery_common import ParseFailure

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
