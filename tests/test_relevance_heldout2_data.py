"""The second held-out relevance set is sound and shares no page with the other two sets.

It was collected and labelled while the topic query was being edited, without sight of the
query, so it can only measure the query if no URL of it also sits in the development set
(tests/data/relevance/nk_workers.jsonl) or the first held-out set; copies that differ only in
scheme, a leading "www." or a trailing slash count as the same page.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.relevance import DEFAULT_CACHE, cache_path, load_items
from tests.test_relevance_heldout_data import _records as read_lines
from tests.test_relevance_heldout_data import _same_page as page_key

DATA_DIR = Path(__file__).parent / "data" / "relevance"
SECOND = DATA_DIR / "nk_workers_heldout2.jsonl"
EARLIER_SETS = (DATA_DIR / "nk_workers.jsonl", DATA_DIR / "nk_workers_heldout.jsonl")
SECOND_CACHE = DEFAULT_CACHE.parent / "nk_workers_heldout2"
REQUIRED = ("url", "language", "label", "kind", "title")
MAIN_LANGUAGES = frozenset({"en", "ko", "ru", "ja", "zh", "de", "fr", "uk"})
ALL_LANGUAGES = MAIN_LANGUAGES | {"bg", "pl"}
OTHER_LABOUR_AND_WAR = {"troops", "central-asian-migrants", "other-workers"}
NEAR_MISS_KINDS = frozenset(OTHER_LABOUR_AND_WAR | {"student-visa", "crypto-theft", "nk-general"})
MIN_PER_LABEL = 80
MIN_PER_LANGUAGE_AND_LABEL = 5


def defects(record: dict[str, Any]) -> list[str]:
    """Why one line of the set is unusable; an empty list when it is fine."""
    if sorted(record) != sorted(REQUIRED):
        return [f"keys {sorted(record)}"]
    if not all(isinstance(record[key], str) and record[key].strip() for key in REQUIRED):
        return ["a field is not a non-empty string"]
    found = []
    if record["language"] not in ALL_LANGUAGES:
        found.append(f"unknown language {record['language']!r}")
    expected_label = "relevant" if record["kind"] == "on-topic" else "irrelevant"
    if record["kind"] != "on-topic" and record["kind"] not in NEAR_MISS_KINDS:
        found.append(f"unknown kind {record['kind']!r}")
    elif record["label"] != expected_label:
        found.append(f"label {record['label']!r} contradicts kind {record['kind']!r}")
    parts = urlsplit(record["url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        found.append("url is not absolute http(s)")
    if len(record["title"]) > 200:  # a title, not a copied paragraph
        found.append("title over 200 characters")
    return found


@pytest.fixture(scope="module")
def second() -> list[dict[str, Any]]:
    return read_lines(SECOND)


def test_each_line_is_a_usable_record(second: list[dict[str, Any]]) -> None:
    assert {r.get("url", "?"): d for r in second if (d := defects(r))} == {}


def test_defects_flags_what_it_should() -> None:
    fine = {
        "url": "https://news.example/a",
        "language": "uk",
        "label": "irrelevant",
        "kind": "troops",
        "title": "x",
    }
    assert defects(fine) == []
    assert defects({**fine, "label": "relevant"})
    assert defects({**fine, "kind": "weather"})
    assert defects({**fine, "language": "it"})
    assert defects({**fine, "url": "ftp://news.example/a"})
    assert defects({**fine, "title": "t" * 201})
    assert defects({"url": fine["url"]})


def test_page_key_ignores_scheme_www_and_final_slash() -> None:
    assert page_key("http://www.A.example/x/") == page_key("https://a.example/x")
    assert page_key("https://a.example/x") != page_key("https://a.example/y")


def test_no_page_appears_twice(second: list[dict[str, Any]]) -> None:
    keys = Counter(page_key(r["url"]) for r in second)
    assert [k for k, n in keys.items() if n > 1] == []


@pytest.mark.parametrize("earlier", EARLIER_SETS, ids=lambda p: p.name)
def test_no_page_is_shared_with_an_earlier_set(second: list[dict[str, Any]], earlier: Path) -> None:
    taken = {page_key(r["url"]) for r in read_lines(earlier)}
    assert [r["url"] for r in second if page_key(r["url"]) in taken] == []


def test_each_label_has_at_least_80_items(second: list[dict[str, Any]]) -> None:
    labels = Counter(r["label"] for r in second)
    assert labels["relevant"] >= MIN_PER_LABEL
    assert labels["irrelevant"] >= MIN_PER_LABEL


def test_each_main_language_has_both_labels(second: list[dict[str, Any]]) -> None:
    pairs = Counter((r["language"], r["label"]) for r in second)
    thin = {
        (lang, label): pairs[(lang, label)]
        for lang in MAIN_LANGUAGES
        for label in ("relevant", "irrelevant")
        if pairs[(lang, label)] < MIN_PER_LANGUAGE_AND_LABEL
    }
    assert thin == {}


def test_each_near_miss_kind_is_present(second: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in second)
    assert {k: kinds[k] for k in NEAR_MISS_KINDS if kinds[k] < 5} == {}


def test_the_bench_reads_the_set(second: list[dict[str, Any]]) -> None:
    items = load_items(SECOND)
    assert len(items) == len(second)
    assert sum(i.relevant for i in items) == sum(r["label"] == "relevant" for r in second)


def test_every_item_has_its_cached_text_when_the_cache_exists(
    second: list[dict[str, Any]],
) -> None:
    """The texts stay outside the repository; where they are present, none may be missing."""
    if not SECOND_CACHE.is_dir():
        pytest.skip(f"no {SECOND_CACHE} on this machine")
    assert [r["url"] for r in second if not cache_path(SECOND_CACHE, r["url"]).is_file()] == []
