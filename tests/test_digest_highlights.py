"""Snippets and highlights: whatever the matcher stored, the text is kept whole."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from monitor.digest import keyword_tags, snippet_with_highlights
from monitor.digest_model import Entry
from tests.digest_testdata import START


def entry(snippet: str, highlights: tuple[tuple[int, int], ...]) -> Entry:
    return Entry(
        article_id=1,
        title="",
        url="https://a.example/",
        source="s",
        site_name=None,
        published=None,
        first_seen=START,
        language=None,
        score=0.0,
        tags=(),
        snippet=snippet,
        highlights=highlights,
    )


def test_keyword_snippets_inside_the_match_snippet_are_shifted() -> None:
    snippet = "Before. North Korean workers went to Kursk. After."
    keywords = [
        {"tag": "nk", "count": 1, "snippet": "North Korean workers went", "highlights": [[0, 20]]},
        {"tag": "kursk", "count": 3, "snippet": "to Kursk.", "highlights": [[3, 8]]},
        {"tag": "elsewhere", "count": 1, "snippet": "not in it", "highlights": [[0, 3]]},
    ]
    text, spans = snippet_with_highlights(snippet, keywords)
    assert text == snippet
    assert [text[a:b] for a, b in spans] == ["North Korean workers", "Kursk"]
    assert keyword_tags(keywords) == ("kursk", "elsewhere", "nk")


def test_without_match_snippet_the_most_frequent_keyword_snippet_is_used() -> None:
    keywords = [
        {"tag": "a", "count": 1, "snippet": "one", "highlights": [[0, 3]]},
        {"tag": "b", "count": 5, "snippet": "five hits", "highlights": [[0, 4]]},
    ]
    assert snippet_with_highlights("", keywords) == ("five hits", ((0, 4),))


def test_malformed_keywords_are_ignored() -> None:
    keywords: list[Any] = [
        "x",
        None,
        {"tag": 3},
        {"snippet": "ab", "highlights": [[1, 0]]},
        {"snippet": "ab", "highlights": [[True, 2], [0, 9], "x", [0]]},
    ]
    assert snippet_with_highlights("ab", keywords) == ("ab", ())
    assert keyword_tags(keywords) == ()


def test_overlapping_spans_merge() -> None:
    keywords = [{"tag": "a", "snippet": "abcdef", "highlights": [[0, 3], [2, 5]]}]
    assert snippet_with_highlights("abcdef", keywords)[1] == ((0, 5),)


spans = st.lists(st.tuples(st.integers(-5, 60), st.integers(-5, 60)), max_size=8)


@given(st.text(max_size=50), spans)
def test_snippet_parts_rebuild_the_snippet(snippet: str, raw: list[tuple[int, int]]) -> None:
    parts = entry(snippet, tuple(raw)).snippet_parts()
    assert "".join(t for t, _ in parts) == snippet
    assert all(t for t, _ in parts)


@given(
    st.text(max_size=40),
    st.lists(
        st.fixed_dictionaries(
            {
                "tag": st.text(max_size=5),
                "count": st.integers(0, 5),
                "snippet": st.text(max_size=20),
                "highlights": st.lists(
                    st.lists(st.integers(-3, 25), min_size=2, max_size=2), max_size=4
                ),
            }
        ),
        max_size=4,
    ),
)
def test_highlights_always_inside_the_snippet(snippet: str, keywords: list[Any]) -> None:
    text, found = snippet_with_highlights(snippet, keywords)
    assert all(0 <= a < b <= len(text) for a, b in found)
    assert all(found[i][1] < found[i + 1][0] for i in range(len(found) - 1))
