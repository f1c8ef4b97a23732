"""The third held-out story set is well formed, dated, apart from the others and hard.

tests/data/stories/heldout3.jsonl labels real 2016-2026 North Korea events (workers abroad,
sanctions, IT workers, defectors, troops in Russia and the diplomacy around them) that
were labelled blind, without looking at the clustering: copies and rewrites of one event,
next-day follow-ups and same-week look-alikes that must stay apart. Unlike the other sets
it has Japanese and Chinese stories of their own, so the languages accepted here are the
other sets' plus ja, zh, uk and pl. Every line carries the date its own page shows. The
texts live outside the repository, in CACHE, keyed by the sha1 of the URL exactly as
written.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests import test_stories_heldout2_data as heldout2
from tests.test_relevance_heldout_data import _records
from tests.test_stories_heldout_data import DEV, HELDOUT, LANGUAGES, _problems
from tests.test_stories_heldout_data import (
    test_several_languages_have_their_own_rewrites as _rewrites_in_five_languages,
)

HELDOUT3 = DEV.parent / "heldout3.jsonl"
CACHE = Path("/work/relevance-cache/stories_heldout3")
EARLIEST, LATEST = date(2016, 1, 1), date(2026, 12, 31)
# Languages this set adds to the other sets' vocabulary.
EXTRA_LANGUAGES = {"ja", "zh", "uk", "pl"}
# Same-language pairs of different events at most this many days apart: the traps a
# clustering that merges by topic and date alone falls into.
NEAR_DAYS = 3


def _problems_here(
    record: dict[str, Any], extra_languages: frozenset[str] | set[str] = EXTRA_LANGUAGES
) -> list[str]:
    """The other sets' checks, with this set's extra languages accepted and no others."""
    if record.get("language") in extra_languages:
        return _problems({**record, "language": next(iter(sorted(LANGUAGES)))})
    return _problems(record)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(HELDOUT3)


@pytest.fixture(scope="module")
def others() -> list[dict[str, Any]]:
    """The development and both earlier held-out sets: what this one shares nothing with."""
    return _records(DEV) + _records(HELDOUT) + _records(heldout2.HELDOUT2)


def test_every_record_is_well_formed(records: list[dict[str, Any]]) -> None:
    bad = {r.get("url", "?"): p for r in records if (p := _problems_here(r))}
    assert bad == {}


def test_the_language_check_widens_only_to_the_extra_languages() -> None:
    good = {
        "url": "https://a.example/1",
        "language": "ja",
        "group": "some-event-2025",
        "kind": "rewrite",
        "title": "t",
        "published": "2025-04-28",
    }
    assert _problems_here(good) == []
    assert _problems_here({**good, "language": "zh"}) == []
    assert _problems_here({**good, "language": "xx"}) != []
    assert _problems_here({**good, "kind": "rumour"}) != []
    assert _problems_here({**good, "published": "28.04.2025"}) != []


def test_every_record_is_dated_within_2016_to_2026(records: list[dict[str, Any]]) -> None:
    """No line may be undated: each date came from its own page or its URL."""
    bad = [
        r["url"]
        for r in records
        if r.get("published") is None
        or not EARLIEST <= date.fromisoformat(r["published"]) <= LATEST
    ]
    assert bad == []


# The second held-out set's checks of uniqueness and separation, run here on this module's
# fixtures: `records` is this set, `others` the three sets it must share nothing with.
test_urls_are_unique_even_up_to_scheme_www_and_slash = (
    heldout2.test_urls_are_unique_even_up_to_scheme_www_and_slash
)
test_no_url_is_shared_with_the_other_sets = heldout2.test_no_url_is_shared_with_the_other_sets
test_no_event_label_is_shared_with_the_other_sets = (
    heldout2.test_no_event_label_is_shared_with_the_other_sets
)
test_kinds_are_the_other_sets_vocabulary = heldout2.test_kinds_are_the_other_sets_vocabulary


def test_enough_stories_of_several_outlets_and_lone_look_alikes(
    records: list[dict[str, Any]],
) -> None:
    sizes = Counter(r["group"] for r in records)
    assert 90 <= len(records) <= 130
    assert sum(1 for n in sizes.values() if n >= 2) >= 18
    assert sum(1 for n in sizes.values() if n == 1) >= 8  # distractors: must not merge
    assert max(sizes.values()) <= 6


def test_several_languages_have_their_own_rewrites(records: list[dict[str, Any]]) -> None:
    _rewrites_in_five_languages(records)
    rewrites = Counter(r["language"] for r in records if r["kind"] == "rewrite")
    for language in ("ja", "zh"):
        assert rewrites[language] >= 5, language


@pytest.mark.parametrize("language", ["ja", "zh", "ko", "en"])
def test_a_language_has_several_events_told_twice_in_it(
    records: list[dict[str, Any]], language: str
) -> None:
    """Only same-language pairs are measured, so each of these needs its own pairs."""
    per_event = Counter(r["group"] for r in records if r["language"] == language)
    assert sum(1 for n in per_event.values() if n >= 2) >= 3


def test_different_events_close_in_time_share_a_language(records: list[dict[str, Any]]) -> None:
    """Follow-ups and same-week look-alikes: pairs a date window alone would merge."""
    near = {
        tuple(sorted((a["group"], b["group"])))
        for a, b in combinations(records, 2)
        if a["group"] != b["group"]
        and a["language"] == b["language"]
        and abs((date.fromisoformat(a["published"]) - date.fromisoformat(b["published"])).days)
        <= NEAR_DAYS
    }
    assert len(near) >= 10


def test_cached_texts_are_usable_when_present(records: list[dict[str, Any]]) -> None:
    """Where the texts are (rebuilt from stored copies on 2026-11-27: 105 of 121)."""
    heldout2.check_cache(CACHE, records)
