"""HTML -> Article: main text and metadata with trafilatura, language, canonical URL.

Pure: no I/O, no Scrapy, no storage. The same function serves the crawler, `ingest`
and the benchmarks, so what they measure is what runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import lxml.html
import py3langid
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.settings import Document

MIN_TEXT_CHARS = 80
_LANG_CODE = re.compile(r"^[a-zA-Z]{2,3}")


@dataclass(frozen=True)
class ExtractedArticle:
    """What newsmon keeps of a page: text and the metadata digests and dedup rely on."""

    text: str
    title: str = ""
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    description: str = ""
    tags: tuple[str, ...] = field(default=())


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601 (any precision) as aware UTC; naive values are taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _head_metadata(
    tree: lxml.html.HtmlElement, base_url: str | None
) -> tuple[str | None, str | None, str | None]:
    """rel=canonical / og:url, <html lang> / og:locale and the precise publication time.

    trafilatura returns dates at day precision; article:published_time and JSON-LD keep
    the time, which matters for "first published" ordering across outlets.
    """
    canonical: str | None = None
    for href in tree.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content'):
        href = str(href).strip()
        if href:
            absolute = urljoin(base_url or "", href)
            if urlsplit(absolute).scheme in ("http", "https"):
                canonical = absolute
                break
    lang: str | None = None
    for value in tree.xpath(
        "/html/@lang | //meta[@property='og:locale']/@content"
        " | //meta[@http-equiv='content-language']/@content"
    ):
        m = _LANG_CODE.match(str(value).strip())
        if m:
            lang = m.group(0).lower()
            break
    published: str | None = None
    for value in tree.xpath(
        "//meta[@property='article:published_time']/@content"
        " | //meta[@name='pubdate']/@content | //meta[@itemprop='datePublished']/@content"
    ):
        if str(value).strip():
            published = str(value).strip()
            break
    if published is None:
        m = re.search(
            r'"datePublished"\s*:\s*"([^"]+)"',
            " ".join(str(s) for s in tree.xpath("//script[@type='application/ld+json']/text()")),
        )
        if m:
            published = m.group(1)
    return canonical, lang, published


def detect_language(text: str) -> str | None:
    """Guess the language from the text (py3langid ships its own model: no download)."""
    sample = text[:2000]
    if len(sample.strip()) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return str(code)


@dataclass(frozen=True)
class ExtractOptions:
    """trafilatura switches newsmon exposes; `python -m bench extraction` measures them.

    ``fast`` skips trafilatura's fallback extractors (readability, jusText), the larger
    part of its cost; ``favor_precision`` trims more boilerplate at some loss of text.
    """

    fast: bool = False
    favor_precision: bool = False
    include_comments: bool = False


DEFAULT_OPTIONS = ExtractOptions()


def extract_article(
    html: str | bytes, url: str | None = None, options: ExtractOptions = DEFAULT_OPTIONS
) -> ExtractedArticle | None:
    """Extract the main text and metadata, or None when the page holds no article text."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return None
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    canonical, lang, precise_date = _head_metadata(tree, url)
    doc = bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=options.include_comments,
        deduplicate=False,
        favor_precision=options.favor_precision,
        fast=options.fast,
    )
    if not isinstance(doc, Document):
        return None
    text = (doc.text or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    published = _parse_date(precise_date) or _parse_date(doc.date)
    authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    title = (doc.title or "").strip()
    language = lang or detect_language(title + "\n" + text)
    return ExtractedArticle(
        text=text,
        title=title,
        published=published,
        authors=authors,
        language=language,
        canonical_url=canonical,
        site_name=(doc.sitename or None),
        description=(doc.description or "").strip(),
        tags=tuple(t for t in (doc.tags or []) if t),
    )
