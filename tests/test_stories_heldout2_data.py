"""The second held-out story set is well formed, dated, older and apart from the other two.

tests/data/stories/heldout2.jsonl labels real 2016-2022 events (copies, rewrites and
look-alike events that must stay apart), years before the 2023-2026 events of pairs.jsonl
and heldout.jsonl: the clustering was tuned on neither its pages nor its era. Every line
carries the date its own page shows, so the time rule is measured on all of it. The texts
live outside the repository, in CACHE, keyed by the sha1 of the URL exactly as written.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.test_relevance_heldout_data import _records, _same_page
from tests.test_stories_heldout_data import DEV, HELDOUT, MIN_TEXT, _problems
from tests.test_stories_heldout_data import (
    test_several_languages_have_their_own_rewrites as _rewrites_in_five_languages,
)

HELDOUT2 = DEV.parent / "heldout2.jsonl"
CACHE = Path("/work/relevance-cache/stories_heldout2")
EARLIEST, LATEST = date(2016, 1, 1), date(2022, 12, 31)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(HELDOUT2)


@pytest.fixture(scope="module")
def others() -> list[dict[str, Any]]:
    """The development and first held-out sets: what this one must not share anything with."""
    return _records(DEV) + _records(HELDOUT)


def test_every_record_is_well_formed(records: list[dict[str, Any]]) -> None:
    bad = {r.get("url", "?"): p for r in records if (p := _problems(r))}
    assert bad == {}


def test_every_record_is_dated_within_2016_to_2022(records: list[dict[str, Any]]) -> None:
    """Unlike the other sets, no line may be undated: each date came from its own page."""
    bad = [
        r["url"]
        for r in records
        if r.get("published") is None
        or not EARLIEST <= date.fromisoformat(r["published"]) <= LATEST
    ]
    assert bad == []


def test_urls_are_unique_even_up_to_scheme_www_and_slash(records: list[dict[str, Any]]) -> None:
    urls = [r["url"] for r in records]
    assert len({_same_page(u) for u in urls}) == len(urls)


def test_no_url_is_shared_with_the_other_sets(
    records: list[dict[str, Any]], others: list[dict[str, Any]]
) -> None:
    seen = {_same_page(o["url"]) for o in others}
    assert [r["url"] for r in records if _same_page(r["url"]) in seen] == []


def test_no_event_label_is_shared_with_the_other_sets(
    records: list[dict[str, Any]], others: list[dict[str, Any]]
) -> None:
    assert {r["group"] for r in records} & {o["group"] for o in others} == set()


def test_kinds_are_the_other_sets_vocabulary(
    records: list[dict[str, Any]], others: list[dict[str, Any]]
) -> None:
    assert {r["kind"] for r in records} <= {o["kind"] for o in others}


def test_enough_stories_of_several_outlets_and_lone_look_alikes(
    records: list[dict[str, Any]],
) -> None:
    sizes = Counter(r["group"] for r in records)
    assert len(records) >= 60
    assert sum(1 for n in sizes.values() if n >= 2) >= 15
    assert sum(1 for n in sizes.values() if n == 1) >= 8  # distractors: must not merge
    assert max(sizes.values()) <= 6


def test_several_languages_have_their_own_rewrites(records: list[dict[str, Any]]) -> None:
    _rewrites_in_five_languages(records)


def cache_problem(cache: Path, record: dict[str, Any]) -> str | None:
    """Why the cached text of one line in ``cache`` is unusable, or None when it is there
    and long enough (every story set's cache check)."""
    path = cache / f"{hashlib.sha1(record['url'].encode('utf-8')).hexdigest()}.json"
    if not path.is_file():
        return "missing"
    cached = json.loads(path.read_text(encoding="utf-8"))
    if cached.get("url") != record["url"]:
        return "cached under another url"
    return "short text" if len(cached.get("text", "")) < MIN_TEXT else None


def check_cache(cache: Path, records: list[dict[str, Any]]) -> None:
    """Every story set's cache test: skipped where the texts are not on the machine;
    else each cached text is filed under its own URL. How many lines
    have a text is not asserted: a cache rebuilt from stored copies misses the pages
    they lack, and a rebuild may be under way; the benchmark reports how many it
    scored."""
    if not cache.is_dir():
        pytest.skip(f"{cache} is not on this machine")
    problems = {r["url"]: problem for r in records if (problem := cache_problem(cache, r))}
    # a short text is skipped by the benchmark like a missing one
    assert {u: p for u, p in problems.items() if p not in {"missing", "short text"}} == {}


def test_cached_texts_are_usable_when_present(records: list[dict[str, Any]]) -> None:
    """Rebuilt from stored copies on 2026-11-27: 77 of 105 found."""
    check_cache(CACHE, records)
