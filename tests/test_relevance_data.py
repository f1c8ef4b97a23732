"""The labelled relevance set for the default topic is well formed and big enough."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.relevance import (
    Counts,
    Document,
    LabelledItem,
    baseline_alert,
    cache_path,
    evaluate,
    format_error_summary,
    format_table,
    load_documents,
    load_items,
)

DATA = Path(__file__).parent / "data" / "relevance" / "nk_workers.jsonl"
FIELDS = {"url", "language", "label", "kind", "title"}
LANGUAGES = {"en", "ko", "ru", "ja", "zh", "de", "fr", "uk"}
KINDS = {
    "on-topic",
    "troops",
    "central-asian-migrants",
    "other-workers",
    "student-visa",
    "crypto-theft",
    "nk-general",
    "other",
}


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_record_has_exactly_the_documented_fields(records: list[dict[str, Any]]) -> None:
    for record in records:
        assert set(record) == FIELDS, record
        assert all(isinstance(record[f], str) and record[f].strip() for f in FIELDS), record


def test_labels_kinds_and_languages_are_from_the_vocabulary(
    records: list[dict[str, Any]],
) -> None:
    for record in records:
        assert record["language"] in LANGUAGES, record
        assert record["kind"] in KINDS, record
        expected = "relevant" if record["kind"] == "on-topic" else "irrelevant"
        assert record["label"] == expected, record


def test_urls_are_absolute_http_and_unique(records: list[dict[str, Any]]) -> None:
    urls = [r["url"] for r in records]
    assert len(urls) == len(set(urls))
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in {"http", "https"} and parts.netloc, url


def test_at_least_150_items_per_label(records: list[dict[str, Any]]) -> None:
    labels = Counter(r["label"] for r in records)
    assert labels["relevant"] >= 150
    assert labels["irrelevant"] >= 150


def test_every_language_has_relevant_items(records: list[dict[str, Any]]) -> None:
    relevant = Counter(r["language"] for r in records if r["label"] == "relevant")
    assert set(relevant) == LANGUAGES


def test_no_article_text_is_committed(records: list[dict[str, Any]]) -> None:
    """Titles are short facts; anything longer smells of copied body text."""
    for record in records:
        assert len(record["title"]) <= 200, record["url"]


def test_loader_reads_the_set() -> None:
    items = load_items(DATA)
    assert len(items) >= 300
    assert {i.label for i in items} == {"relevant", "irrelevant"}


def test_loader_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    good = json.dumps(
        {
            "url": "https://a.example/1",
            "language": "en",
            "label": "relevant",
            "kind": "on-topic",
            "title": "t",
        }
    )
    bad.write_text(good + "\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_items(bad)


def test_cache_path_is_the_sha1_of_the_url(tmp_path: Path) -> None:
    path = cache_path(tmp_path, "https://example.org/a")
    assert path.parent == tmp_path
    assert path.name == hashlib.sha1(b"https://example.org/a").hexdigest() + ".json"


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("North Korean workers in Russia", "", True),
        ("", "Labourers from NORTH KOREA arrive", True),
        ("North Korea fires a missile", "troops and shells", False),
        ("Workers strike in Seoul", "South Korea", False),
    ],
)
def test_baseline_alert_is_a_case_insensitive_substring_test(
    title: str, text: str, expected: bool
) -> None:
    assert baseline_alert(title, text) is expected


def test_counts_give_precision_and_recall() -> None:
    counts = Counts()
    for truth, predicted in [(True, True), (True, False), (False, True), (False, False)]:
        counts.add(truth, predicted)
    assert counts.precision == 0.5
    assert counts.recall == 0.5
    assert Counts().precision is None


def _document(url: str, language: str, kind: str, text: str) -> Document:
    label = "relevant" if kind == "on-topic" else "irrelevant"
    return Document(LabelledItem(url, language, label, kind, "t"), "t", text)


def test_evaluate_tallies_per_language_and_lists_errors() -> None:
    docs = [
        _document("https://a.example/1", "en", "on-topic", "hit"),
        _document("https://a.example/2", "en", "troops", "hit"),
        _document("https://a.example/3", "ko", "on-topic", "miss"),
        _document("https://a.example/4", "ko", "crypto-theft", "miss"),
    ]
    result = evaluate("toy", lambda _title, text: text == "hit", docs)
    assert (result.overall.tp, result.overall.fp, result.overall.fn, result.overall.tn) == (
        1,
        1,
        1,
        1,
    )
    assert result.by_language["en"].precision == 0.5
    assert result.by_language["ko"].recall == 0.0
    errors = {(doc.item.url, predicted) for doc, predicted in result.errors}
    assert errors == {("https://a.example/2", True), ("https://a.example/3", False)}
    assert "FN on-topic" in format_error_summary(result)
    assert "| **all** | 2 | 2 |" in format_table([result])


def test_load_documents_keeps_items_without_cached_text_apart(tmp_path: Path) -> None:
    kept = LabelledItem("https://a.example/1", "en", "relevant", "on-topic", "title")
    absent = LabelledItem("https://a.example/2", "en", "irrelevant", "troops", "title")
    cache_path(tmp_path, kept.url).write_text(
        json.dumps({"url": kept.url, "title": "cached title", "text": "body"}), encoding="utf-8"
    )
    documents, missing = load_documents([kept, absent], tmp_path)
    assert [d.title for d in documents] == ["cached title"]
    assert missing == [absent]
