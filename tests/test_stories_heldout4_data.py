"""The fourth held-out story set is well formed, dated, apart from the others and hard.

tests/data/stories/heldout4.jsonl labels real 2017-2025 North Korea events (ship seizures
and their aftermath, sanctions votes and designations, crypto thefts, defectors, missile
launches and the diplomacy around them), labelled blind, without looking at the clustering
or the benchmark. It leans on where the method was weakest: Russian and Chinese stories of
their own, and chains of events a few days apart that share every name (a seizure, then the
release; a launch, then the veto; a collision, then the demand for compensation), each
development its own event. Every line carries the date its own page or URL shows. The texts
live outside the repository, in CACHE, keyed by the sha1 of the URL exactly as written.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests import test_stories_heldout2_data as heldout2
from tests import test_stories_heldout3_data as heldout3
from tests.test_relevance_heldout_data import _records
from tests.test_stories_heldout_data import DEV, HELDOUT

HELDOUT4 = DEV.parent / "heldout4.jsonl"
CACHE = Path("/work/relevance-cache/stories_heldout4")
# Copies and rewrites of one event appear within this many days of each other; a wider
# spread inside one label means a follow-up was filed with the event it follows.
MAX_EVENT_SPREAD_DAYS = 4


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(HELDOUT4)


@pytest.fixture(scope="module")
def others() -> list[dict[str, Any]]:
    """The development and the three earlier held-out sets: what this one shares nothing with."""
    return (
        _records(DEV)
        + _records(HELDOUT)
        + _records(heldout2.HELDOUT2)
        + _records(heldout3.HELDOUT3)
    )


def test_every_record_is_well_formed(records: list[dict[str, Any]]) -> None:
    """The third set's checks: its languages (ja, zh and uk included), kinds, slugs, dates."""
    bad = {r.get("url", "?"): p for r in records if (p := heldout3._problems_here(r))}
    assert bad == {}


# No line may be undated, nor outside the third set's years: the third set's check.
test_every_record_is_dated_within_2016_to_2026 = (
    heldout3.test_every_record_is_dated_within_2016_to_2026
)


# The second held-out set's checks of uniqueness and separation, run here on this module's
# fixtures: `records` is this set, `others` the four sets it must share nothing with.
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
    """The brief's sizes: 100-140 lines, 20 events told 2-6 times, 10 lone look-alikes."""
    sizes = Counter(r["group"] for r in records).values()
    assert 100 <= len(records) <= 140
    assert sum(n >= 2 for n in sizes) >= 20
    assert sum(n == 1 for n in sizes) >= 10  # distractors: must not merge
    assert max(sizes) <= 6


def test_an_events_articles_are_published_within_days_of_each_other(
    records: list[dict[str, Any]],
) -> None:
    """Copies and rewrites of one event come out together; a follow-up days later is its own."""
    days: dict[str, list[date]] = {}
    for r in records:
        days.setdefault(r["group"], []).append(date.fromisoformat(r["published"]))
    spread = {g: (max(d) - min(d)).days for g, d in days.items()}
    assert {g: s for g, s in spread.items() if s > MAX_EVENT_SPREAD_DAYS} == {}


def test_several_languages_have_their_own_rewrites(records: list[dict[str, Any]]) -> None:
    """Retellings in the outlet's own words, not only copies, in each language leaned on."""
    rewrites = Counter(r["language"] for r in records if r["kind"] == "rewrite")
    for language in ("en", "ru", "zh", "ko", "ja", "fr"):
        assert rewrites[language] >= 5, language


@pytest.mark.parametrize(
    ("language", "events"), [("ru", 4), ("zh", 4), ("en", 3), ("ko", 3), ("ja", 3)]
)
def test_a_language_has_several_events_told_twice_in_it(
    records: list[dict[str, Any]], language: str, events: int
) -> None:
    """Only same-language pairs are measured, so each of these needs its own pairs."""
    per_event = Counter(r["group"] for r in records if r["language"] == language)
    assert sum(1 for n in per_event.values() if n >= 2) >= events


def test_different_events_close_in_time_share_a_language(records: list[dict[str, Any]]) -> None:
    """Follow-ups and same-week look-alikes: pairs a date window alone would merge, found in
    each of the languages this set leans on."""
    near = {
        (tuple(sorted((a["group"], b["group"]))), a["language"])
        for a, b in combinations(records, 2)
        if a["group"] != b["group"]
        and a["language"] == b["language"]
        and abs((date.fromisoformat(a["published"]) - date.fromisoformat(b["published"])).days)
        <= heldout3.NEAR_DAYS
    }
    assert len({pair for pair, _ in near}) >= 10
    assert {"ru", "zh", "ja", "ko", "en"} <= {language for _, language in near}


def test_cached_texts_are_usable_when_present(records: list[dict[str, Any]]) -> None:
    """Where the texts are: built with the set, or rebuilt from stored copies (on
    2026-11-27, session 6: 83 of 127)."""
    heldout2.check_cache(CACHE, records)
