"""What each source kind fetches first and how its listing documents are read.

Plain functions over the pure discovery parsers, shared by the news spider and
`newsmon sources check`: the first request's URL per kind, the parser per kind, which
child sitemaps of an index to visit, and which discovered links are worth fetching.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.discovery import (
    DiscoveredLink,
    ParseResult,
    filter_links,
    parse_feed,
    parse_gdelt_artlist,
    parse_google_news_rss,
    parse_sitemap,
)
from monitor.discovery_sitemaps import DEFAULT_SITEMAP_ITEMS
from monitor.source_config import SourceConfig

CONDITIONAL_KINDS = frozenset({"feed", "sitemap"})
"""Listing documents fetched with If-None-Match / If-Modified-Since."""


def first_url(source: SourceConfig) -> str:
    """The URL a source's crawl starts from."""
    return source.robots_url() if source.kind == "robots" else source.url


def first_kind(source: SourceConfig) -> str:
    """What the first document is: feed | sitemap | robots | section (search kinds are
    feeds of their own shape)."""
    return "feed" if source.kind in ("google_news", "gdelt") else source.kind


def max_items(source: SourceConfig, per_feed: int) -> int:
    if source.max_items is not None:
        return source.max_items
    return DEFAULT_SITEMAP_ITEMS if source.kind in ("sitemap", "robots") else per_feed


def parse_listing(
    source: SourceConfig,
    body: bytes,
    url: str,
    *,
    items: int,
    max_bytes: int,
    charset: str | None = None,
) -> ParseResult:
    """Parse one feed-like document of ``source`` with its kind's parser. Never raises."""
    if source.kind == "google_news":
        return parse_google_news_rss(body, url, items)
    if source.kind == "gdelt":
        return parse_gdelt_artlist(body, url, items)
    if source.kind in ("sitemap", "robots"):
        return parse_sitemap(body, url, items, max_bytes=max_bytes, charset=charset)
    return parse_feed(body, url, items, charset=charset, max_bytes=max_bytes)


@dataclass(frozen=True)
class Cutoffs:
    """How old an item may be, and which languages are wanted, for one source."""

    max_age_days: float | None
    since: datetime | None
    languages: tuple[str, ...]

    def oldest(self, now: datetime) -> datetime | None:
        cutoff = now - timedelta(days=self.max_age_days) if self.max_age_days else None
        if self.since is not None and (cutoff is None or self.since > cutoff):
            cutoff = self.since
        return cutoff


def cutoffs_for(
    source: SourceConfig, default_max_age: float | None, since: datetime | None
) -> Cutoffs:
    """A backfill (``since``) replaces the maximum age for the run."""
    max_age = None if since is not None else (source.max_age_days or default_max_age)
    return Cutoffs(max_age, since, tuple(source.wanted_languages))


@dataclass(frozen=True)
class ChildPlan:
    """The child sitemaps of an index to visit now, and what was left out."""

    visit: tuple[str, ...]
    too_old: int = 0
    seen: int = 0
    over_limit: int = 0


def plan_children(
    result: ParseResult,
    *,
    oldest: datetime | None,
    seen: Collection[str],
    budget: int,
) -> ChildPlan:
    """Children not visited yet in this crawl, not older than ``oldest`` by lastmod,
    newest first (undated ones after the dated, in index order), at most ``budget``."""
    children = result.children or tuple(DiscoveredLink(u) for u in result.sitemaps)
    fresh: list[DiscoveredLink] = []
    too_old = already = 0
    names: set[str] = set()
    for child in children:
        if child.url in seen or child.url in names:
            already += 1
        elif oldest is not None and child.published is not None and child.published < oldest:
            too_old += 1
        else:
            names.add(child.url)
            fresh.append(child)
    dated = sorted(
        (c for c in fresh if c.published is not None),
        key=lambda c: c.published.timestamp() if c.published else 0.0,
        reverse=True,
    )
    ordered = dated + [c for c in fresh if c.published is None]
    budget = max(budget, 0)
    visit = tuple(c.url for c in ordered[:budget])
    return ChildPlan(visit, too_old, already, max(0, len(ordered) - budget))


@dataclass(frozen=True)
class LinkPlan:
    kept: tuple[DiscoveredLink, ...]
    too_old: int
    other_language: int


def plan_links(links: Collection[DiscoveredLink], cutoffs: Cutoffs, now: datetime) -> LinkPlan:
    """Links not too old and in a wanted language (the storage lookup comes after)."""
    filtered = filter_links(
        links,
        now=now,
        max_age_days=cutoffs.max_age_days,
        since=cutoffs.since,
        languages=cutoffs.languages or None,
    )
    return LinkPlan(filtered.kept, filtered.too_old, filtered.other_language)
