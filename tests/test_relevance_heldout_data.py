"""The held-out relevance set is well formed, big enough and disjoint from the development set.

The held-out set measures the default topic on articles it was never tuned on, so its worth
depends on staying apart from tests/data/relevance/nk_workers.jsonl (the set the query was
fitted to): no shared URL, not even one differing only in scheme, "www." or a final slash.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.relevance import DEFAULT_CACHE, cache_path, load_items

DATA_DIR = Path(__file__).parent / "data" / "relevance"
HELDOUT = DATA_DIR / "nk_workers_heldout.jsonl"
DEV = DATA_DIR / "nk_workers.jsonl"
HELDOUT_CACHE = DEFAULT_CACHE.parent / "nk_workers_heldout"
FIELDS = {"url", "language", "label", "kind", "title"}
MAIN_LANGUAGES = {"en", "ko", "ru", "ja", "zh", "de", "fr", "uk"}
LANGUAGES = MAIN_LANGUAGES | {"bg", "pl"}
NEAR_MISSES = "troops central-asian-migrants other-workers student-visa crypto-theft nk-general"
KINDS = {"on-topic", *NEAR_MISSES.split()}


def _records(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _same_page(url: str) -> str:
    """A URL without scheme, leading "www." and final slash: how a dev URL's copy could differ."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    rest = url.split(parts.netloc, 1)[1].rstrip("/")
    return host + rest


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records(HELDOUT)


def _problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with one line of the set (empty when nothing is)."""
    problems = []
    if set(record) != FIELDS or not all(isinstance(record.get(f), str) for f in FIELDS):
        return [f"fields {sorted(record)} are not the string fields {sorted(FIELDS)}"]
    if not all(record[f].strip() for f in FIELDS):
        problems.append("an empty field")
    if record["language"] not in LANGUAGES:
        problems.append(f"language {record['language']!r}")
    if record["kind"] not in KINDS:
        problems.append(f"kind {record['kind']!r}")
    if record["label"] != ("relevant" if record["kind"] == "on-topic" else "irrelevant"):
        problems.append(f"label {record['label']!r} does not follow kind {record['kind']!r}")
    parts = urlsplit(record["url"])
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        problems.append("not an absolute http(s) URL")
    if len(record["title"]) > 200:  # titles are short facts, never copied body text
        problems.append("title longer than 200 characters")
    return problems


def test_every_record_is_well_formed(records: list[dict[str, Any]]) -> None:
    bad = {r.get("url", "?"): p for r in records if (p := _problems(r))}
    assert bad == {}


def test_the_checks_catch_a_bad_record() -> None:
    good = {
        "url": "https://a.example/1",
        "language": "de",
        "label": "relevant",
        "kind": "on-topic",
        "title": "t",
    }
    assert _problems(good) == []
    assert _problems({**good, "label": "irrelevant"}) != []
    assert _problems({**good, "url": "a.example/1"}) != []
    assert _problems({**good, "language": "xx", "kind": "rumour"}) != []
    assert _problems({"url": "https://a.example/1"}) != []


def test_urls_are_unique_even_up_to_scheme_www_and_slash(records: list[dict[str, Any]]) -> None:
    urls = [r["url"] for r in records]
    assert len({_same_page(u) for u in urls}) == len(urls)


def test_no_url_is_shared_with_the_development_set(records: list[dict[str, Any]]) -> None:
    dev = {_same_page(r["url"]) for r in _records(DEV)}
    shared = [r["url"] for r in records if _same_page(r["url"]) in dev]
    assert shared == []


def test_at_least_80_items_per_label(records: list[dict[str, Any]]) -> None:
    labels = Counter(r["label"] for r in records)
    assert labels["relevant"] >= 80
    assert labels["irrelevant"] >= 80


def test_every_main_language_has_both_labels(records: list[dict[str, Any]]) -> None:
    counts = Counter((r["language"], r["label"]) for r in records)
    for language in MAIN_LANGUAGES:
        assert counts[(language, "relevant")] >= 5, language
        assert counts[(language, "irrelevant")] >= 5, language


def test_every_near_miss_kind_is_represented(records: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in records)
    for kind in KINDS - {"on-topic"}:
        assert kinds[kind] >= 5, kind


def test_the_bench_loader_reads_the_set() -> None:
    items = load_items(HELDOUT)
    assert {i.label for i in items} == {"relevant", "irrelevant"}
    assert len(items) == len(_records(HELDOUT))


def test_cached_texts_cover_the_set_when_present(records: list[dict[str, Any]]) -> None:
    """The texts live outside the repository; on a machine that has them, none is missing."""
    if not HELDOUT_CACHE.is_dir():
        pytest.skip(f"{HELDOUT_CACHE} is not on this machine")
    missing = [r["url"] for r in records if not cache_path(HELDOUT_CACHE, r["url"]).is_file()]
    assert missing == []
