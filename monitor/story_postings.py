"""Rare-feature posting lists of the story index (pure): feature -> ids holding it.

Posting lists are append-only and cleaned lazily: removed ids are skipped when read
and swept out once as many have been removed as are indexed, so expiry costs
amortised O(features) per article. A list is never read once it holds more than
MAX_POSTINGS ids, so it keeps at most the newest MAX_POSTINGS + 1 live ones (trimmed
when it reaches twice that): memory per feature is bounded whatever the window. As
articles expire oldest first, a trimmed list that falls back under the cap still
holds every live id of its feature.

The lists are a plain dict owned by monitor.story_index (which also bulk-builds them
with monitor.story_tables.postings_and_df); ``live`` is its set of indexed ids.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

MAX_POSTINGS = 256

Postings = dict[int, list[int]]


def list_article(
    postings: Postings, features: Iterable[int], article_id: int, live: Container[int]
) -> None:
    """List an article under each of its features, trimming lists grown past twice the cap."""
    cap = 2 * MAX_POSTINGS
    for f in features:
        plist = postings.get(f)
        if plist is None:
            postings[f] = [article_id]
        else:
            plist.append(article_id)
            if len(plist) > cap:
                live_ids(postings, f, plist, live)


def live_ids(postings: Postings, feature: int, plist: list[int], live: Container[int]) -> list[int]:
    """Drop removed ids from one posting list (keeping its newest MAX_POSTINGS + 1)."""
    kept = [a for a in plist if a in live][-(MAX_POSTINGS + 1) :]
    postings[feature] = kept
    return kept


def sweep(postings: Postings, live: Container[int]) -> None:
    """Drop removed ids from all posting lists (amortised O(1) per removal)."""
    for f, plist in list(postings.items()):
        kept = [a for a in plist if a in live]
        if kept:
            postings[f] = kept
        else:
            del postings[f]


def readable(
    postings: Postings, feature: int, df: int, stale: int, live: Container[int]
) -> list[int] | None:
    """A feature's list if it holds at most MAX_POSTINGS ids, else None (too common).

    ``df``: independent texts holding the feature; when that is under the cap and
    removed articles may still be listed (``stale``), a long list is cleaned first.
    """
    plist = postings.get(feature, [])
    if len(plist) > MAX_POSTINGS and df <= MAX_POSTINGS and stale:
        plist = live_ids(postings, feature, plist, live)  # may be long only with removed ids
    return plist if len(plist) <= MAX_POSTINGS else None
