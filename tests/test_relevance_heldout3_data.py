"""The third held-out relevance set is sound, meets its per-language quotas and is disjoint.

It was gathered from published pages and labelled blind (from each page's title and opening
only, without sight of the topic query or any score), so it can only measure the query if it
shares no page with the development set or either earlier held-out set; copies differing only
in scheme, a leading "www." or a trailing slash count as the same page.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.relevance import DEFAULT_CACHE, cache_path, load_items
from tests.test_relevance_heldout2_data import NEAR_MISS_KINDS, defects
from tests.test_relevance_heldout_data import _records as read_lines
from tests.test_relevance_heldout_data import _same_page as page_key

DATA_DIR = Path(__file__).parent / "data" / "relevance"
THIRD = DATA_DIR / "nk_workers_heldout3.jsonl"
EARLIER_SETS = (
    DATA_DIR / "nk_workers.jsonl",
    DATA_DIR / "nk_workers_heldout.jsonl",
    DATA_DIR / "nk_workers_heldout2.jsonl",
)
THIRD_CACHE = DEFAULT_CACHE.parent / "nk_workers_heldout3"
LANGUAGES = frozenset({"en", "ko", "ru", "ja", "zh", "de", "fr", "uk", "pl"})
MIN_RELEVANT = 12
MIN_IRRELEVANT = 10
MIN_RELEVANT_FOR = {"ru": 25, "pl": 12}  # Russian covers camps, Kursk, visas, seafood...


@pytest.fixture(scope="module")
def third() -> list[dict[str, Any]]:
    return read_lines(THIRD)


def test_each_line_is_a_usable_record(third: list[dict[str, Any]]) -> None:
    assert {r.get("url", "?"): d for r in third if (d := defects(r))} == {}


def test_only_the_nine_collected_languages_occur(third: list[dict[str, Any]]) -> None:
    assert {r["language"] for r in third} == LANGUAGES


def test_labels_follow_kinds(third: list[dict[str, Any]]) -> None:
    wrong = [
        r["url"]
        for r in third
        if (r["label"] == "relevant") != (r["kind"] == "on-topic")
        or (r["kind"] != "on-topic" and r["kind"] not in NEAR_MISS_KINDS)
    ]
    assert wrong == []


def test_every_page_is_new_to_this_set_and_to_the_earlier_ones(
    third: list[dict[str, Any]],
) -> None:
    seen: dict[str, str] = {}
    for earlier in EARLIER_SETS:
        seen.update({page_key(r["url"]): earlier.name for r in read_lines(earlier)})
    clashes = {}
    for record in third:
        key = page_key(record["url"])
        if key in seen:
            clashes[record["url"]] = seen[key]
        seen[key] = THIRD.name
    assert clashes == {}


def test_every_language_meets_its_quotas(third: list[dict[str, Any]]) -> None:
    pairs = Counter((r["language"], r["label"]) for r in third)
    short = {}
    for lang in sorted(LANGUAGES):
        wanted = {
            "relevant": MIN_RELEVANT_FOR.get(lang, MIN_RELEVANT),
            "irrelevant": MIN_IRRELEVANT,
        }
        for label, least in wanted.items():
            if pairs[(lang, label)] < least:
                short[(lang, label)] = pairs[(lang, label)]
    assert short == {}


def test_each_near_miss_kind_is_present(third: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in third)
    assert {k: kinds[k] for k in NEAR_MISS_KINDS if kinds[k] < 5} == {}


def test_the_bench_reads_every_line_as_written(third: list[dict[str, Any]]) -> None:
    read = [(i.url, i.language, i.relevant) for i in load_items(THIRD)]
    assert read == [(r["url"], r["language"], r["label"] == "relevant") for r in third]


def test_cached_texts_match_their_lines_when_the_cache_exists(
    third: list[dict[str, Any]],
) -> None:
    """Texts stay outside the repository; where present, each must be the page labelled."""
    if not THIRD_CACHE.is_dir():
        pytest.skip(f"no {THIRD_CACHE} on this machine")
    mismatched = []
    for record in third:
        path = cache_path(THIRD_CACHE, record["url"])
        cached = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if cached.get("url") != record["url"] or not str(cached.get("text", "")).strip():
            mismatched.append(record["url"])
    assert mismatched == []
