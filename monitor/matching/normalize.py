"""Text normalisation shared by queries and documents.

Both sides go through the same per-character table so that a term and the text it
should match end up identical: NFKC, casefold, Cyrillic ё = е, every punctuation mark,
symbol, quote, dash and whitespace character turned into a plain space (so "North-Korean"
= "North Korean" and a word is always delimited by spaces), invisible characters (soft
hyphen, zero-width joiners) removed, and in the *folded* form diacritics of Latin, Greek
and Cyrillic letters removed. Documents are normalised once per match and keep a compact
map back to original character offsets, so hits can be reported and highlighted in the
text the user sees.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
"""Characters treated as a hyphen or dash (they become spaces like all punctuation)."""

_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_FOLDED_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
# Letters with a diacritic-like stroke or ligature that Unicode does not decompose.
_FOLD_EXTRA = {"ł": "l", "đ": "d", "ð": "d", "ø": "o", "ħ": "h", "ı": "i", "œ": "oe", "æ": "ae"}


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x1100 <= o <= 0x11FF  # Hangul jamo
        or 0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, CJK unified ideographs
        or 0xA960 <= o <= 0xA97F
        or 0xAC00 <= o <= 0xD7FF  # Hangul syllables
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFFDC  # half-width kana and Hangul
        or 0x20000 <= o <= 0x3FFFF
        or 0x0E00 <= o <= 0x0EFF  # Thai, Lao: no spaces between words either
        or 0x1780 <= o <= 0x17FF  # Khmer
        or 0x1000 <= o <= 0x109F  # Myanmar
    )


def is_cjk(ch: str) -> bool:
    """True for characters of scripts written without spaces between words."""
    return _is_cjk(ch)


def is_word_char(ch: str) -> bool:
    """A character that would continue a word of an alphabetic script (not CJK)."""
    return ch.isalnum() and not _is_cjk(ch)


def _strip_marks(s: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFD", s):
        if unicodedata.combining(ch):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _is_space_like(ch: str) -> bool:
    """Whitespace, punctuation and symbols all separate words: they become a space."""
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"


def _map_char(ch: str, fold: bool) -> str:
    """The image of one character, mapped again until it no longer changes: NFKC can
    expand a character into ones that map on their own (U+FB2A, shin with its dot, into
    shin and a dot that folding drops), and normalising twice must equal once."""
    mapped = _map_char_once(ch, fold)
    for _ in range(3):
        if mapped == ch or len(mapped) == 0:
            return mapped
        again = "".join(_map_char_once(c, fold) for c in mapped)
        if again == mapped:
            return mapped
        ch, mapped = mapped, again
    return mapped


def _map_char_once(ch: str, fold: bool) -> str:
    if ch in _INVISIBLE or unicodedata.category(ch) == "Cf":
        return ""
    s = unicodedata.normalize("NFKC", ch).casefold()
    s = s.replace("ё", "е")
    if fold and s:
        name = unicodedata.name(s[0], "")
        if name.startswith(_FOLDED_SCRIPTS) or unicodedata.combining(s[0]):
            s = "".join(_FOLD_EXTRA.get(c, c) for c in _strip_marks(s))
        s = "".join(c for c in s if not 0x300 <= ord(c) <= 0x36F)
    return "".join(" " if _is_space_like(c) else c for c in s)


class _Table(dict[int, str]):
    """Translation table for str.translate, filled for the BMP and lazily beyond."""

    def __init__(self, fold: bool) -> None:
        super().__init__()
        self.fold = fold

    def __missing__(self, key: int) -> str:
        return chr(key)  # beyond the BMP characters are kept as they are


@lru_cache(maxsize=2)
def _tables(fold: bool) -> tuple[_Table, str]:
    """The table and a regex class of characters whose mapping is not one character."""
    table = _Table(fold)
    irregular: list[str] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        mapped = _map_char(ch, fold)
        table[code] = mapped
        if len(mapped) != 1:
            irregular.append(ch)
    return table, _char_class(irregular)


def _char_class(chars: list[str]) -> str:
    ranges: list[str] = []
    codes = sorted(ord(c) for c in chars)
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        ranges.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "".join(ranges)


@lru_cache(maxsize=2)
def _irregular_re(fold: bool) -> re.Pattern[str]:
    """Characters that expand (ß -> ss) or vanish (soft hyphen, folded combining marks)."""
    _, cls = _tables(fold)
    return re.compile(f"[{cls}]")


@lru_cache(maxsize=2)
def _lookup(fold: bool) -> tuple[Any, Any] | None:
    """The one-to-one part of the table as a numpy array indexed by code point, and a
    mask of the characters that need the slow path, if numpy is available: mapping a
    whole document through them is ~10x faster than str.translate."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency; keep working without
        return None
    table, _ = _tables(fold)
    lut = np.arange(0x110000, dtype=np.uint32)
    special = np.zeros(0x110000, dtype=np.bool_)
    for code, mapped in table.items():
        if len(mapped) == 1:
            lut[code] = ord(mapped)
        else:
            special[code] = True
    for lo, hi in ((0x300, 0x36F), (0x1100, 0x11FF), (0x3099, 0x309A)):
        special[lo : hi + 1] = True  # decomposed forms: compose first
    return lut, special


def _translate(doc: str, fold: bool, *, only_if_regular: bool = False) -> str | None:
    """Map every character that has a one-character image (others stay as they are).

    With ``only_if_regular``, return None instead when the document holds characters
    that expand, vanish or need composing (checked in the same pass).
    """
    arrays = _lookup(fold)
    if arrays is None:
        if only_if_regular and _special_re(fold).search(doc):
            return None
        return doc.translate(_tables(fold)[0])
    import numpy as np

    lut, special = arrays
    codes = np.frombuffer(doc.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if only_if_regular and special[codes].any():
        return None
    mapped: str = lut[codes].tobytes().decode("utf-32-le", "surrogatepass")
    return mapped


_DECOMPOSED = re.compile("[\u0300-\u036f\u1100-\u11ff\u3099\u309a]")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised document and the way back to offsets in the original.

    ``text`` starts and ends with a space so that every word is enclosed in spaces;
    offsets in ``text`` are therefore one more than in the unpadded form.
    """

    text: str
    original: str
    _norm_starts: tuple[int, ...] = ()  # where each irregular replacement begins
    _norm_ends: tuple[int, ...] = ()
    _orig_starts: tuple[int, ...] = ()
    _deltas: tuple[int, ...] = ()  # orig - norm after each replacement

    def is_one_to_one(self) -> bool:
        """Every original character became exactly one normalised character."""
        return not self._norm_starts and len(self.text) == len(self.original) + 2

    def to_original(self, pos: int) -> int:
        """Original offset of the normalised character at ``pos``."""
        pos -= 1
        if not self._norm_starts:
            return min(max(pos, 0), len(self.original))
        i = bisect_right(self._norm_starts, pos) - 1
        if i < 0:
            orig = pos
        elif pos < self._norm_ends[i]:
            orig = self._orig_starts[i]
        else:
            orig = pos + self._deltas[i]
        return min(max(orig, 0), len(self.original))

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of the normalised span [start, end)."""
        if end <= start:
            o = self.to_original(start)
            return o, o
        return self.to_original(start), self.to_original(end - 1) + 1


@lru_cache(maxsize=2)
def _special_re(fold: bool) -> re.Pattern[str]:
    """Irregular or decomposed characters: their absence allows the fast path."""
    _, cls = _tables(fold)
    return re.compile(f"[{cls}{_DECOMPOSED.pattern[1:-1]}]")


def _compose(text: str) -> str:
    return unicodedata.normalize("NFC", text) if _DECOMPOSED.search(text) else text


def normalize_document(doc: str, *, fold: bool = True) -> NormalizedText:
    """Normalise ``doc`` once, keeping a map back to its original offsets.

    Almost every character maps to exactly one, so the common case is one table lookup
    per character; the few that expand or vanish are spliced in one by one.
    """
    fast = _translate(doc, fold, only_if_regular=True)
    if fast is not None:  # the common case: one lookup per character
        return NormalizedText(f" {fast} ", doc)
    doc = _compose(doc)
    table, _ = _tables(fold)
    irregular = _irregular_re(fold)
    mapped = _translate(doc, fold) or ""
    if irregular.search(doc) is None:
        return NormalizedText(f" {mapped} ", doc)
    parts: list[str] = [" "]
    norm_starts: list[int] = []
    norm_ends: list[int] = []
    orig_starts: list[int] = []
    deltas: list[int] = []
    npos = 0
    last = 0
    for m in irregular.finditer(doc):
        parts.append(mapped[last : m.start()])
        npos += m.start() - last
        rep = m.group().translate(table)
        parts.append(rep)
        norm_starts.append(npos)
        orig_starts.append(m.start())
        npos += len(rep)
        norm_ends.append(npos)
        deltas.append(m.end() - npos)
        last = m.end()
    parts.append(mapped[last:])
    parts.append(" ")
    return NormalizedText(
        "".join(parts),
        doc,
        tuple(norm_starts),
        tuple(norm_ends),
        tuple(orig_starts),
        tuple(deltas),
    )


def normalize(text: str, *, fold: bool = True) -> str:
    """Normalised form of a short string (a term, a title), same length rules, no padding."""
    return _compose(text).translate(_tables(fold)[0])


def normalize_term(text: str, *, fold: bool = True) -> str:
    """A query term: runs of whitespace become one space, then normalised and trimmed.

    Punctuation keeps its space, as in documents: "workers' party" becomes
    "workers  party" and so finds the same words with the same apostrophe.
    """
    return normalize(" ".join(text.split()), fold=fold).strip(" ")


def normalize_pattern(text: str, *, fold: bool = True) -> str:
    """A query term with its ``*`` wildcards kept (``*`` is punctuation to normalize)."""
    parts = " ".join(text.split()).split("*")
    return "*".join(normalize(p, fold=fold) for p in parts).strip(" ")
