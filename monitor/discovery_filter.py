"""Skip links before fetching them: too old by their feed/sitemap date, in a language
nobody watches, or already stored. Cheap checks first; `known` (a storage lookup) last."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.discovery_common import DiscoveredLink


@dataclass(frozen=True)
class FilteredLinks:
    """The links worth fetching, and how many were skipped for each reason."""

    kept: tuple[DiscoveredLink, ...]
    too_old: int = 0
    other_language: int = 0
    known: int = 0


def _primary(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def filter_links(
    links: Iterable[DiscoveredLink],
    *,
    now: datetime,
    max_age_days: float | None = None,
    since: datetime | None = None,
    languages: Collection[str] | None = None,
    known: Callable[[str], bool] | None = None,
) -> FilteredLinks:
    """Keep links newer than max_age_days before `now` (and not before `since`), in one of
    `languages` (by primary subtag: "zh" accepts "zh-cn"), and for which `known(url)` is
    false. Undated links and links of unknown language are kept: absence of evidence is
    no reason to miss an article."""
    cutoff: datetime | None = None
    if max_age_days is not None:
        cutoff = now - timedelta(days=max_age_days)
    if since is not None and (cutoff is None or since > cutoff):
        cutoff = since
    wanted = {_primary(tag) for tag in languages} if languages else None
    kept: list[DiscoveredLink] = []
    too_old = other_language = already = 0
    for link in links:
        if cutoff is not None and link.published is not None and link.published < cutoff:
            too_old += 1
        elif wanted is not None and link.language and _primary(link.language) not in wanted:
            other_language += 1
        elif known is not None and known(link.url):
            already += 1
        else:
            kept.append(link)
    return FilteredLinks(tuple(kept), too_old, other_language, already)
