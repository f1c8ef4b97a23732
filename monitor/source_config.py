"""One [[source]] table of sources.toml: where to look for articles and how.

Kinds: ``feed`` (RSS, Atom, JSON Feed), ``sitemap`` (a sitemap or sitemap index, Google
News sitemaps included), ``robots`` (the sitemaps a site names in its robots.txt),
``section`` (HTML listing pages), ``google_news`` (a Google News RSS search) and ``gdelt``
(a GDELT DOC 2.0 artlist query). Search kinds take ``query`` and derive ``url`` from it,
so every source has a URL (the address guard and the summaries rely on it).

No Scrapy import: the CLI validates this before anything runs.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.discovery import compile_patterns, gdelt_query_url, google_news_search_url

SourceKind = Literal["feed", "sitemap", "robots", "section", "google_news", "gdelt"]
SEARCH_KINDS = frozenset({"google_news", "gdelt"})
LISTING_KINDS = frozenset({"feed", "google_news", "gdelt"})
"""Kinds whose one document lists the articles (parsed in one step)."""

DEFAULT_MAX_DEPTH = {"sitemap": 2, "robots": 2, "section": 1}
"""Sitemap kinds: index nesting followed below the first sitemap. Section: levels of
sub-section listings followed (through `follow` patterns)."""
GDELT_MIN_DELAY = 5.0
"""GDELT asks for at most one request every five seconds."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class SourceConfig(BaseModel):
    """One place to look for articles: a [[source]] table of sources.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique short name: letters, digits, '.', '_' and '-'.")
    kind: SourceKind = Field(
        "feed",
        description="feed | sitemap | robots | section | google_news | gdelt.",
    )
    url: str = Field(
        description="http(s) URL: the feed, the sitemap (index), the site (robots), the "
        "listing page (section); derived from `query` for google_news and gdelt."
    )
    group: str = Field("default", description="Sources of one group are crawled together.")
    enabled: bool = True
    language: str | None = Field(None, description="Expected language (ISO 639-1), a hint.")
    languages: list[str] = Field(
        default_factory=list,
        description="Fetch only items whose feed/sitemap/search language is one of these "
        "(items without a language are kept). Search kinds default to [language].",
    )
    max_age_days: float | None = Field(None, gt=0, description="Overrides crawl.max_age_days.")
    allow_private: bool = Field(
        False, description="Allow this source to reach loopback/private addresses."
    )
    query: str | None = Field(None, description="google_news, gdelt: the search query.")
    country: str = Field("US", description="google_news: the edition's country (e.g. KR).")
    timespan: str = Field("1d", description="gdelt: how far back to search (15min, 24h, 1w).")
    max_items: int | None = Field(
        None, ge=1, description="Items read per feed/sitemap (overrides crawl.max_items_per_feed)."
    )
    allow: list[str] = Field(
        default_factory=list, description="Article URL regexes to keep (all when empty)."
    )
    deny: list[str] = Field(default_factory=list, description="Article URL regexes to drop.")
    follow: list[str] = Field(
        default_factory=list,
        description="section: URL regexes of sub-section listings to read too.",
    )
    max_depth: int | None = Field(
        None,
        ge=0,
        le=5,
        description="sitemap/robots: index levels followed (default 2); section: "
        "sub-section levels followed (default 1).",
    )
    max_pages: int = Field(
        3, ge=1, le=100, description="section: listing pages read per run (pagination)."
    )
    max_sitemaps: int = Field(
        50, ge=1, le=5000, description="sitemap/robots: child sitemaps read per run."
    )
    min_delay: float | None = Field(
        None,
        ge=0,
        le=600,
        description="Minimum seconds between requests to this source's host (gdelt: 5 by default).",
    )

    @model_validator(mode="before")
    @classmethod
    def _search_url(cls, data: Any) -> Any:
        """Search kinds: build `url` from `query` unless a URL is given."""
        if not isinstance(data, dict) or data.get("kind") not in SEARCH_KINDS:
            return data
        if data.get("url"):
            return data
        query = data.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"kind {data['kind']!r} needs a query (or an explicit url)")
        data = dict(data)
        if data["kind"] == "gdelt":
            timespan = str(data.get("timespan", "1d"))
            data["url"] = gdelt_query_url(query, timespan, int(data.get("max_items") or 250))
        else:
            language = str(data.get("language") or "en")
            data["url"] = google_news_search_url(query, language, str(data.get("country", "US")))
        return data

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use 1-100 letters, digits, '.', '_' or '-', starting alphanumeric")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {value!r}")
        if any(c.isspace() for c in parts.netloc):
            raise ValueError(f"not an http(s) URL: white space in the host: {value!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError on a port out of range
        except ValueError:
            raise ValueError(f"not an http(s) URL: bad port: {value!r}") from None
        return value

    @field_validator("allow", "deny", "follow")
    @classmethod
    def _check_patterns(cls, value: list[str]) -> list[str]:
        compile_patterns(value)  # raises ValueError naming the bad pattern
        return value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not _LANG.match(tag):
                raise ValueError(f"not a language code: {tag!r} (use ISO 639-1, e.g. 'ko')")
        return [tag.lower() for tag in value]

    @model_validator(mode="after")
    def _kind_fields(self) -> SourceConfig:
        if self.kind != "section" and (self.follow or self.max_pages != 3):
            raise ValueError(f"follow and max_pages are for kind 'section', not {self.kind!r}")
        return self

    @property
    def wanted_languages(self) -> list[str]:
        """The language filter: `languages`, or [language] for search kinds."""
        if self.languages:
            return self.languages
        if self.kind in SEARCH_KINDS and self.language:
            return [self.language.lower()]
        return []

    @property
    def depth_limit(self) -> int:
        return self.max_depth if self.max_depth is not None else DEFAULT_MAX_DEPTH.get(self.kind, 0)

    @property
    def delay(self) -> float:
        """Minimum seconds between requests to this source's host (0: none)."""
        if self.min_delay is not None:
            return self.min_delay
        return GDELT_MIN_DELAY if self.kind == "gdelt" else 0.0

    def robots_url(self) -> str:
        parts = urlsplit(self.url)
        if parts.path.endswith("/robots.txt"):
            return self.url
        return f"{parts.scheme}://{parts.netloc}/robots.txt"
