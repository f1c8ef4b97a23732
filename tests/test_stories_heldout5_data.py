"""The fifth held-out story set is well formed, dated, apart from the others and hard.

tests/data/stories/heldout5.jsonl labels real 2016-2026 North Korea events (workers abroad
and the sanctions on them, the Gulf and Chinese enforcement, IT workers under false
identities, the troops and workers sent to Russia, and the diplomacy and border incidents
around them), labelled blind, without looking at the clustering or the benchmark. It leans
on chains of events a few days apart that share every name (an expulsion, the envoy's
departure, then the exit bans; a report, then the denial; one day's shelling, then the
next day's), each development its own event, and on same-language retellings in ru, zh,
ko, ja and en. Every line carries the date its own page or URL shows. The texts live
outside the repository, in CACHE, keyed by the sha1 of the URL exactly as written.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests import test_stories_heldout2_data as heldout2
from tests import test_stories_heldout3_data as heldout3
from tests import test_stories_heldout4_data as heldout4
from tests.test_relevance_heldout_data import _records
from tests.test_stories_heldout_data import DEV, HELDOUT

HELDOUT5 = DEV.parent / "heldout5.jsonl"
CACHE = Path("/work/relevance-cache/stories_heldout5")
# The languages this set leans on: each has its own retellings and its own look-alikes.
LEANED_ON = ("en", "ru", "zh", "ko", "ja")
# Follow-ups labelled apart from what they follow, in the order they happened: a clustering
# that merges by shared names and a few days' distance merges each chain into one story.
CHAINS = (
    (
        "malaysia-expels-nk-ambassador-kang-chol-2017",
        "kang-chol-leaves-malaysia-2017",
        "nk-malaysia-exit-bans-2017",
    ),
    ("nk-fm-rejects-resolution-2375-2017", "nk-fm-spokesman-slams-unsc-press-statement-2017"),
    ("nk-train-in-beijing-speculation-2018", "kim-first-beijing-visit-confirmed-2018"),
    (
        "sk-suspends-cma-no-fly-clause-2023",
        "nk-scraps-military-agreement-2023",
        "mnd-no-further-suspension-steps-needed-2023",
    ),
    (
        "nk-200-shells-evacuation-jan5-2024",
        "nk-60-shells-near-yeonpyeong-jan6-2024",
        "nk-90-shells-third-day-jan7-2024",
    ),
    (
        "peskov-contradictory-info-nk-troops-2024",
        "putin-brics-snimki-nk-troops-2024",
        "nk-vice-fm-troops-would-be-lawful-2024",
    ),
    ("lavrov-arrives-wonsan-2025", "kim-receives-lavrov-wonsan-2025", "lavrov-leaves-wonsan-2025"),
    (
        "sk-starts-removing-loudspeakers-2025",
        "nk-seen-removing-loudspeakers-2025",
        "kim-yo-jong-denies-loudspeaker-removal-2025",
    ),
    ("lavrov-choe-moscow-talks-oct-2025", "putin-receives-choe-kremlin-2025"),
)
# The development set and the four earlier held-out sets.
OTHER_SETS = (DEV, HELDOUT, heldout2.HELDOUT2, heldout3.HELDOUT3, heldout4.HELDOUT4)
# A chain's next development comes at most this many days after the one before it.
MAX_CHAIN_STEP_DAYS = 7


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(HELDOUT5)


@pytest.fixture(scope="module")
def others() -> list[dict[str, Any]]:
    """The development and the four earlier held-out sets: what this one shares nothing with."""
    return [r for path in OTHER_SETS for r in _records(path)]


def _first_days(records: list[dict[str, Any]]) -> dict[str, date]:
    """Each event's earliest publication date."""
    first: dict[str, date] = {}
    for r in records:
        day = date.fromisoformat(r["published"])
        first[r["group"]] = min(first.get(r["group"], day), day)
    return first


def test_every_record_is_well_formed(records: list[dict[str, Any]]) -> None:
    """The third set's checks: its languages (ja, zh and uk included), kinds, slugs, dates."""
    bad = {r.get("url", "?"): p for r in records if (p := heldout3._problems_here(r))}
    assert bad == {}


def test_every_record_is_dated_within_2016_to_2026(records: list[dict[str, Any]]) -> None:
    """No line may be undated, nor outside the third set's years: the third set's check."""
    heldout3.test_every_record_is_dated_within_2016_to_2026(records)


def test_shares_no_page_and_no_label_with_the_other_sets(
    records: list[dict[str, Any]], others: list[dict[str, Any]]
) -> None:
    """The second set's checks of uniqueness and separation, on this set and the five others:
    no page twice (even up to scheme, www and final slash), none of the others' pages or event
    labels, and only the kinds they use."""
    heldout2.test_urls_are_unique_even_up_to_scheme_www_and_slash(records)
    heldout2.test_no_url_is_shared_with_the_other_sets(records, others)
    heldout2.test_no_event_label_is_shared_with_the_other_sets(records, others)
    heldout2.test_kinds_are_the_other_sets_vocabulary(records, others)


def test_enough_stories_told_twice_in_one_language_and_lone_look_alikes(
    records: list[dict[str, Any]],
) -> None:
    """The brief's sizes: 100-140 lines, 25 events with two articles in one language (only
    those pairs are measured), 12 lone look-alikes, no event told more than 6 times."""
    sizes = Counter(r["group"] for r in records).values()
    per_language = Counter((r["group"], r["language"]) for r in records)
    told_twice = {group for (group, _), n in per_language.items() if n >= 2}
    assert 100 <= len(records) <= 140
    assert len(told_twice) >= 25
    assert sum(n == 1 for n in sizes) >= 12  # distractors: must not merge
    assert max(sizes) <= 6


def test_an_events_articles_are_published_within_days_of_each_other(
    records: list[dict[str, Any]],
) -> None:
    """Copies and rewrites of one event come out together: the fourth set's check."""
    heldout4.test_an_events_articles_are_published_within_days_of_each_other(records)


def test_the_chains_are_in_the_set_in_order_and_days_apart(
    records: list[dict[str, Any]],
) -> None:
    """Each chain's developments are labelled apart, happened in order, and follow each other
    within a week: the cases where shared names and dates alone would merge them."""
    first = _first_days(records)
    assert len(CHAINS) >= 8
    assert {g for chain in CHAINS for g in chain} <= set(first)
    steps = [(a, b, (first[b] - first[a]).days) for chain in CHAINS for a, b in pairwise(chain)]
    assert [(a, b, gap) for a, b, gap in steps if not 0 <= gap <= MAX_CHAIN_STEP_DAYS] == []


def test_several_languages_have_their_own_rewrites(records: list[dict[str, Any]]) -> None:
    """Retellings in the outlet's own words, not only copies, in each language leaned on."""
    rewrites = Counter(r["language"] for r in records if r["kind"] == "rewrite")
    assert {language: rewrites[language] for language in LEANED_ON if rewrites[language] < 10} == {}


@pytest.mark.parametrize(
    ("language", "events"), [("ru", 4), ("zh", 4), ("en", 5), ("ko", 6), ("ja", 6)]
)
def test_a_language_has_several_events_told_twice_in_it(
    records: list[dict[str, Any]], language: str, events: int
) -> None:
    """Only same-language pairs are measured, so each of these needs its own pairs."""
    heldout4.test_a_language_has_several_events_told_twice_in_it(records, language, events)


def test_different_events_close_in_time_share_a_language(records: list[dict[str, Any]]) -> None:
    """Follow-ups and same-week look-alikes that a date window alone would merge, 10 pairs at
    least, in each of ru, zh, ja, ko and en: the fourth set's check."""
    heldout4.test_different_events_close_in_time_share_a_language(records)


def test_cached_texts_are_usable_when_present(records: list[dict[str, Any]]) -> None:
    """Where the texts are: built with the set, or rebuilt from stored copies (on
    2026-11-27, session 6: 103 of 138)."""
    heldout2.check_cache(CACHE, records)
