"""Normalisation: the same words in different spellings become the same text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.matching import normalize, normalize_document
from monitor.matching.normalize import normalize_term


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("North-Korean", "north korean"),  # hyphen = space
        ("North‑Korean", "NORTH KOREAN"),  # non-breaking hyphen
        ("«Ёлка»", '"елка"'),  # ё = е, typographic quotes are punctuation like "
        ("Straße", "STRASSE"),  # casefold
        ("ＡＢＣ１２３", "abc123"),  # NFKC full-width
        ("ﬁsh", "fish"),  # NFKC ligature
        ("Coréen", "coreen"),  # diacritics folded
        ("Północna", "polnocna"),  # ł has no decomposition; folded explicitly
        ("main-d’œuvre", "main-d'oeuvre"),
        ("Norður", "nordur"),
        ("soft\u00adhyphen", "softhyphen"),  # invisible characters vanish
        ("zero\u200bwidth", "zerowidth"),
        ("e\u0301te", "été"),  # decomposed accents are composed first
    ],
)
def test_spellings_normalise_alike(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_exact_form_keeps_diacritics_but_not_case() -> None:
    assert normalize("Coréen", fold=False) == "coréen"
    assert normalize("Ёж", fold=False) == "еж"


def test_punctuation_becomes_space_one_for_one() -> None:
    assert normalize("Korea's workers, (2397).") == "korea s workers   2397  "


def test_cjk_and_hangul_are_kept() -> None:
    assert normalize("북한 노동자들이 北朝鮮") == "북한 노동자들이 北朝鮮"
    assert normalize("ｷﾀﾁｮｳｾﾝ") == "キタチョウセン"  # half-width katakana widened


def test_term_collapses_whitespace_but_not_punctuation_spaces() -> None:
    assert normalize_term("  Workers'  Party ") == "workers  party"


def test_document_is_padded_and_maps_back() -> None:
    doc = normalize_document("Straße – Nord")
    assert doc.text == " strasse   nord "
    start = doc.text.index("nord")
    assert doc.span_to_original(start, start + 4) == (9, 13)
    s = doc.text.index("strasse")
    assert doc.span_to_original(s, s + 7) == (0, 6)


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list("ßﬁ\u00adé\u0301ёЁ-–—’“北한 ")),
    ),
    max_size=60,
)


@pytest.mark.parametrize("fold", [True, False])
def test_every_character_normalises_to_a_fixed_point(fold: bool) -> None:
    """NFKC expands some characters into ones that map on their own (U+FB2A, shin with
    its dot; U+0958, Devanagari qa): a term normalised once must equal itself normalised
    again, or a document and a query would disagree. 89 characters did not, folded."""
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        once = normalize(chr(code), fold=fold)
        assert normalize(once, fold=fold) == once, hex(code)


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    exact = normalize(text, fold=False)
    assert normalize(exact, fold=False) == exact


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_folding_after_exact_is_folding(text: str) -> None:
    assert normalize(normalize(text, fold=False)) == normalize(text)


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_document_form_matches_short_form_and_offsets_stay_in_range(text: str) -> None:
    doc = normalize_document(text)
    assert doc.text == f" {normalize(text)} "
    n = len(doc.original)
    for pos in range(len(doc.text)):
        assert 0 <= doc.to_original(pos) <= n
    starts = [doc.to_original(p) for p in range(1, len(doc.text) - 1)]
    assert starts == sorted(starts)  # monotonic: spans never turn inside out


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
@settings(max_examples=200, deadline=None)
def test_ascii_maps_one_to_one(text: str) -> None:
    doc = normalize_document(text)
    assert len(doc.text) == len(text) + 2
    for pos in range(1, len(doc.text) - 1):
        assert doc.to_original(pos) == pos - 1


@given(_TEXT.filter(lambda t: all(ord(c) <= 0xFFFF for c in t)))
@settings(max_examples=300, deadline=None)
def test_case_and_compatibility_forms_do_not_matter(text: str) -> None:
    """In the BMP, that is: characters beyond it are kept as they are (documented)."""
    nfkc = unicodedata.normalize("NFKC", text)
    assert normalize(nfkc) == normalize(text)
    assert normalize(nfkc.casefold()) == normalize(text)
