"""Search feeds: Google News RSS search and the GDELT DOC 2.0 API (artlist, JSON).

Both name articles on other sites. Google News wraps them in its own links: each item is
resolved to the publisher's URL when the feed carries it, and otherwise kept as the
news.google.com link with `via` set, so the caller knows a redirect must be followed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from monitor.discovery_common import (
    Collector,
    DiscoveredLink,
    ParseResult,
    TooLong,
    clean_text,
    normalise_language,
    parse_date,
    resolve_url,
    too_long,
)
from monitor.discovery_safexml import (
    element_text,
    local_name,
    strip_leading_junk,
)
from monitor.discovery_xml import parse_xml

GDELT_DOC_API = "https://api.gdeltproject.org/api/v2/doc/doc"
GDELT_MAX_RECORDS = 250
GOOGLE_NEWS_SEARCH = "https://news.google.com/rss/search"
_GOOGLE_HOSTS = re.compile(r"(^|\.)(google\.[a-z.]+|googleusercontent\.com|gstatic\.com)$")
_HREF = re.compile(r"""href\s*=\s*["']([^"'<>\s]+)["']""", re.IGNORECASE)
_TIMESPAN = re.compile(r"^\d+(min|h|d|w|m)?$", re.IGNORECASE)

# GDELT reports languages by English name; these are the ones it uses, as ISO 639-1.
GDELT_LANGUAGES = {
    "afrikaans": "af", "albanian": "sq", "arabic": "ar", "armenian": "hy", "azerbaijani": "az",
    "basque": "eu", "belarusian": "be", "bengali": "bn", "bosnian": "bs", "bulgarian": "bg",
    "catalan": "ca", "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da",
    "dutch": "nl", "english": "en", "estonian": "et", "finnish": "fi", "french": "fr",
    "galician": "gl", "georgian": "ka", "german": "de", "greek": "el", "gujarati": "gu",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is", "indonesian": "id",
    "italian": "it", "japanese": "ja", "kannada": "kn", "kazakh": "kk", "korean": "ko",
    "latvian": "lv", "lithuanian": "lt", "macedonian": "mk", "malay": "ms",
    "malayalam": "ml", "marathi": "mr", "mongolian": "mn", "nepali": "ne", "norwegian": "no",
    "persian": "fa", "polish": "pl", "portuguese": "pt", "punjabi": "pa", "romanian": "ro",
    "russian": "ru", "serbian": "sr", "sinhalese": "si", "slovak": "sk", "slovenian": "sl",
    "somali": "so", "spanish": "es", "swahili": "sw", "swedish": "sv", "tagalog": "tl",
    "tamil": "ta", "telugu": "te", "thai": "th", "turkish": "tr", "ukrainian": "uk",
    "urdu": "ur", "uzbek": "uz", "vietnamese": "vi", "welsh": "cy",
}  # fmt: skip

# Google News editions whose ceid needs a script or region, not just the language.
_GOOGLE_EDITIONS = {
    ("zh", "CN"): ("zh-CN", "CN:zh-Hans"),
    ("zh", "TW"): ("zh-TW", "TW:zh-Hant"),
    ("zh", "HK"): ("zh-HK", "HK:zh-Hant"),
    ("en", "US"): ("en-US", "US:en"),
    ("en", "GB"): ("en-GB", "GB:en"),
    ("pt", "BR"): ("pt-BR", "BR:pt-419"),
    ("es", "US"): ("es-419", "US:es-419"),
}


def gdelt_query_url(query: str, timespan: str = "1d", max_records: int = GDELT_MAX_RECORDS) -> str:
    """The GDELT DOC 2.0 artlist URL for a query, newest first. max_records is clamped to
    GDELT's 1..250; timespan is GDELT's ("15min", "24h", "1d", "1w", "3m")."""
    if not _TIMESPAN.match(timespan):
        raise ValueError(f"bad GDELT timespan {timespan!r}: use e.g. 15min, 24h, 1d, 1w")
    params = {
        "query": query,
        "mode": "artlist",
        "format": "json",
        "timespan": timespan,
        "maxrecords": str(max(1, min(GDELT_MAX_RECORDS, max_records))),
        "sort": "datedesc",
    }
    return f"{GDELT_DOC_API}?{urlencode(params, quote_via=quote_plus)}"


def google_news_search_url(query: str, language: str = "en", country: str = "US") -> str:
    """A Google News RSS search URL for one language edition (e.g. "ko", "KR")."""
    lang = language.strip().split("-")[0].lower()
    region = country.strip().upper()
    hl, ceid = _GOOGLE_EDITIONS.get((lang, region), (lang, f"{region}:{lang}"))
    params = {"q": query, "hl": hl, "gl": region, "ceid": ceid}
    return f"{GOOGLE_NEWS_SEARCH}?{urlencode(params, quote_via=quote_plus)}"


def is_google_news(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return bool(_GOOGLE_HOSTS.search(host))


def parse_google_news_rss(body: bytes, url: str, max_items: int = 500) -> ParseResult:
    """Items of a Google News RSS search, each resolved to the publisher's URL when the
    feed carries it (a url= parameter, an older article id that embeds it, a link in the
    description, a deep <source url>); otherwise the news.google.com link is kept in `url`
    and in `via`, and a note says how many. Titles lose their " - Publisher" suffix."""
    try:
        result = parse_xml(body, url, max_items, rss_item=_google_item)
    except Exception as exc:  # a parser bug must cost one source, not the crawl
        return ParseResult(
            kind="google-news",
            error=f"parser error: {type(exc).__name__}: {exc}"[:300],
            error_code="parser-bug",
        )
    if result.kind not in ("rss", "unknown"):
        return replace(
            result,
            error=f"not a Google News RSS feed: the document is {result.kind}",
            error_code="not-a-feed",
        )
    links = result.links
    fallback = _edition_language(url)
    if fallback:
        links = tuple(link if link.language else replace(link, language=fallback) for link in links)
    unresolved = sum(1 for link in links if link.via)
    notes = result.notes
    if unresolved:
        notes += (
            f"{unresolved} of {len(links)} items kept as news.google.com links: the feed "
            "does not carry the publisher's URL (follow the redirect to resolve them)",
        )
    return replace(result, kind="google-news", links=links, notes=notes)


def _edition_language(url: str) -> str | None:
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        return None
    return normalise_language((query.get("hl") or [""])[0])


def _google_item(elem: Any, base: str) -> DiscoveredLink | TooLong | None:
    found: dict[str, str] = {}
    source_url: str | None = None
    for child in elem:
        name = local_name(child.tag)
        if name == "source":
            source_url = child.get("url")
        text = element_text(child)
        if name and text is not None and name not in found:
            found[name] = text
    href = found.get("link") or found.get("guid")
    link = resolve_url(href, base)
    publisher = (
        _publisher(link)
        or _from_url_parameter(link)
        or _from_article_id(link)
        or _from_description(found.get("description"), base)
        or _deep_link(resolve_url(source_url, base))
    )
    if publisher is None and link is None:
        return too_long(base, href)
    title = clean_text(found.get("title"))
    source_name = clean_text(found.get("source"))
    if title and source_name and title.endswith(f" - {source_name}"):
        title = title.removesuffix(f" - {source_name}").rstrip() or title
    published = parse_date(found.get("pubDate"))
    if publisher is not None:
        return DiscoveredLink(url=publisher, title=title, published=published)
    assert link is not None
    via = link if is_google_news(link) else None
    return DiscoveredLink(url=link, title=title, published=published, via=via)


def _publisher(candidate: str | None) -> str | None:
    if candidate is None or is_google_news(candidate):
        return None
    return candidate


def _from_url_parameter(link: str | None) -> str | None:
    if not link:
        return None
    try:
        query = parse_qs(urlsplit(link).query)
    except ValueError:
        return None
    for key in ("url", "q", "u"):
        for value in query.get(key, []):
            if found := _publisher(resolve_url(value, "")):
                return found
    return None


def _from_article_id(link: str | None) -> str | None:
    """Older Google News article ids ("CBMi...") are base64 protobufs holding the URL."""
    if not link or not is_google_news(link):
        return None
    path = urlsplit(link).path
    article_id = path.rstrip("/").rpartition("/")[2]
    if "/articles/" not in path or len(article_id) < 8:
        return None
    try:
        raw = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    start = raw.find(b"http")
    if start < 1:
        return None
    length = raw[start - 1]
    if length >= 0x80 or start + length > len(raw):
        if start >= 2 and raw[start - 2] >= 0x80:
            length = (raw[start - 2] & 0x7F) | (raw[start - 1] << 7)
        else:
            match = re.match(rb"https?://[\x21-\x7e]+", raw[start:])
            length = len(match.group(0)) if match else 0
    candidate = raw[start : start + length]
    if not candidate or any(byte < 0x21 or byte > 0x7E for byte in candidate):
        return None
    return _publisher(resolve_url(candidate.decode("ascii"), ""))


def _from_description(description: str | None, base: str) -> str | None:
    if not description:
        return None
    for href in _HREF.findall(description)[:20]:
        if found := _publisher(resolve_url(href, base)):
            return found
    return None


def _deep_link(source: str | None) -> str | None:
    """A <source url> that names an article (a path), not just the outlet's home page."""
    if source is None or urlsplit(source).path.strip("/") == "":
        return None
    return _publisher(source)


def parse_gdelt_artlist(body: bytes, url: str, max_items: int = GDELT_MAX_RECORDS) -> ParseResult:
    """Articles of a GDELT DOC 2.0 artlist (format=json), newest first by seendate, with
    GDELT's language names mapped to ISO 639-1 codes. GDELT answers bad queries with a
    plain-text message: that message becomes the error."""
    head = strip_leading_junk(body[:64])
    if not head.strip():
        return ParseResult(kind="gdelt", error="the response is empty", error_code="empty")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        text = clean_text(body[:300].decode("utf-8", errors="replace")) or ""
        if head.lower().startswith((b"<!doctype", b"<html")):
            return ParseResult(
                kind="gdelt", error="not GDELT JSON: the response is HTML", error_code="not-a-feed"
            )
        return ParseResult(
            kind="gdelt", error=f"GDELT refused the query: {text[:200]}", error_code="gdelt-error"
        )
    if not isinstance(data, dict):
        return ParseResult(
            kind="gdelt", error="not GDELT JSON: no articles object", error_code="not-a-feed"
        )
    articles = data.get("articles", [])
    if not isinstance(articles, list):
        return ParseResult(
            kind="gdelt", error="not GDELT JSON: articles is not a list", error_code="not-a-feed"
        )
    collector = Collector(max_items)
    for article in articles:
        collector.add(_gdelt_article(article, url) if isinstance(article, dict) else None)
    return collector.result("gdelt", "no articles for this query", noun="articles")


def gdelt_language(name: str | None) -> str | None:
    """ISO 639-1 code for a GDELT language name ("Korean" -> "ko"); codes pass through."""
    if not name:
        return None
    key = name.strip().lower()
    return GDELT_LANGUAGES.get(key) or (normalise_language(key) if len(key) <= 3 else None)


def _gdelt_article(article: dict[str, Any], base: str) -> DiscoveredLink | TooLong | None:
    raw_url = article.get("url")
    href = raw_url if isinstance(raw_url, str) else None
    url = resolve_url(href, base)
    if url is None:
        return too_long(base, href)
    title, seen, language = (article.get(key) for key in ("title", "seendate", "language"))
    return DiscoveredLink(
        url=url,
        title=clean_text(title) if isinstance(title, str) else None,
        published=parse_date(seen) if isinstance(seen, str) else None,
        language=gdelt_language(language) if isinstance(language, str) else None,
    )
