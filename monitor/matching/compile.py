"""Turn query terms into automaton keys and one Aho-Corasick automaton for all topics.

Normalised text has every word enclosed in spaces (punctuation becomes a space and the
document is padded), so a word boundary is part of the key itself: the term "korea"
becomes the key " korea ", a prefix "рабоч*" the key " рабоч". CJK edges get no space,
so 北朝鮮 is found inside 北朝鮮労働者 and 북한 inside 북한노동자들이. Most hits of the
automaton are therefore real hits; only wildcards inside a term and terms written with
diacritics need a second look.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick

from .normalize import HYPHENS, NormalizedText, is_cjk, normalize, normalize_pattern
from .query import Term

_HYPHEN_RUN = re.compile(f"[{re.escape(HYPHENS)}]+")
_MAX_JOIN_VARIANTS = 3  # hyphens per term whose "joined" spelling we also generate
_WORD_TAIL = r"[^\W_]*"


Hit = tuple[int, int]
"""A confirmed occurrence of an atom: [start, end) in normalised offsets."""


@dataclass(slots=True)
class Atom:
    """One distinct term text, shared by every topic that uses it."""

    id: int
    text: str
    keys: tuple[str, ...]
    regex: re.Pattern[str] | None  # confirms/extends an inner-wildcard match at the start
    prefix: bool  # ends with "*": extend the hit to the end of the word
    exact: re.Pattern[str] | None  # the term with its diacritics, checked on the original
    literal: str  # the term without wildcards, for full-text narrowing

    @property
    def simple(self) -> bool:
        """A key hit is a real hit as it stands (a prefix is extended only when shown)."""
        return self.regex is None and self.exact is None

    def confirm(self, doc: NormalizedText, start: int, end: int) -> int:
        """End of the occurrence starting at ``start``, or -1 if it is not one."""
        if self.regex is not None:
            m = self.regex.match(doc.text, start)
            if m is None:
                return -1
            end = m.end()
        if self.exact is not None:
            end = word_end(doc.text, end)
            o_start, o_end = doc.span_to_original(start, end)
            if not self.exact.fullmatch(normalize(doc.original[o_start:o_end], fold=False)):
                return -1
        return end


def _pattern(norm: str, optional: list[int], right_boundary: bool) -> str:
    """Regex for a normalised term: ``*`` is a word tail, some spaces are optional."""
    out: list[str] = []
    for i, ch in enumerate(norm):
        if ch == "*":
            out.append(_WORD_TAIL)
        elif ch == " ":
            out.append(" ?" if i in optional else " ")
        else:
            out.append(re.escape(ch))
    return "".join(out) + ("(?= )" if right_boundary else "")


def _optional_spaces(raw: str, fold: bool) -> tuple[str, list[int]]:
    """Normalised term and the indexes of spaces that may be left out.

    A hyphen written in the term may be a hyphen, a space or nothing (Nord-Korea,
    Nord Korea, Nordkorea); a space between two CJK characters may be absent.
    """
    parts = [normalize_pattern(p, fold=fold) for p in _HYPHEN_RUN.split(raw)]
    parts = [p for p in parts if p]
    norm = ""
    optional: list[int] = []
    for i, part in enumerate(parts):
        if i:
            optional.append(len(norm))
            norm += " "
        norm += part
    for i, ch in enumerate(norm):
        if ch == " " and 0 < i < len(norm) - 1 and is_cjk(norm[i - 1]) and is_cjk(norm[i + 1]):
            optional.append(i)
    return norm, sorted(set(optional))


def _variants(norm: str, optional: list[int]) -> list[str]:
    """All spellings of a literal term with its optional spaces kept or dropped."""
    joinable = optional[:_MAX_JOIN_VARIANTS]
    out = []
    for drop in itertools.product((False, True), repeat=len(joinable)):
        gone = {i for i, d in zip(joinable, drop, strict=True) if d}
        out.append("".join(ch for i, ch in enumerate(norm) if i not in gone))
    return out


def _bounded(ch: str) -> bool:
    return not is_cjk(ch)


def build_atom(atom_id: int, text: str) -> Atom:
    """Compile one term text (as written in the query) into its keys and checks."""
    norm, optional = _optional_spaces(text, fold=True)
    if not norm.replace("*", ""):
        raise ValueError(f"term {text!r} has no letters or digits")
    star = norm.find("*")
    head = norm if star == -1 else norm[:star]
    prefix = star == len(norm) - 1
    inner_wildcard = star != -1 and not prefix
    left = " " if _bounded(norm[0]) else ""
    right = " " if star == -1 and _bounded(norm[-1]) else ""
    head_optional = [i for i in optional if i < len(head)]
    keys = tuple(
        dict.fromkeys(left + k + right for k in _variants(head, head_optional) if k.strip())
    )
    regex = None
    if inner_wildcard or len(optional) > _MAX_JOIN_VARIANTS:
        bounded_end = not norm.endswith("*") and _bounded(norm[-1])
        regex = re.compile(_pattern(norm, optional, bounded_end))
    exact = None
    exact_norm, exact_optional = _optional_spaces(text, fold=False)
    if exact_norm != norm:
        exact = re.compile(_pattern(exact_norm, exact_optional, right_boundary=False))
    return Atom(
        id=atom_id,
        text=text,
        keys=keys,
        regex=regex,
        prefix=prefix,
        exact=exact,
        literal=_literal(text),
    )


def _literal(text: str) -> str:
    """The term as a full-text index would see it: up to and including its first ``*``."""
    norm = normalize_pattern(text, fold=False)
    star = norm.find("*")
    return norm if star == -1 else norm[: star + 1]


class _Entry(NamedTuple):
    """One key of one atom: how to turn the automaton's end index into a hit."""

    atom: int
    start_back: int  # start = last - start_back
    end_back: int  # end = last - end_back
    check: bool  # needs Atom.confirm


@dataclass
class AtomTable:
    """Distinct atoms of all topics and the automaton that finds their keys."""

    atoms: list[Atom] = field(default_factory=list)
    by_text: dict[str, int] = field(default_factory=dict)
    automaton: ahocorasick.Automaton | None = None
    entries: list[_Entry] = field(default_factory=list)
    key_entries: list[tuple[_Entry, ...]] = field(default_factory=list)  # automaton value ->

    def atom_for(self, term: Term) -> int:
        """Id of the atom for a term, creating it on first sight (fields are not part of it)."""
        key = term.text
        if key not in self.by_text:
            self.by_text[key] = len(self.atoms)
            self.atoms.append(build_atom(len(self.atoms), term.text))
        return self.by_text[key]

    def build(self) -> None:
        """Compile all keys into one automaton whose values are tuples of entry ids."""
        by_key: dict[str, list[int]] = {}
        self.entries = []
        for atom in self.atoms:
            for key in atom.keys:
                lead = int(key.startswith(" "))
                trail = int(key.endswith(" ") and len(key) > 1)
                self.entries.append(
                    _Entry(atom.id, len(key) - 1 - lead, trail - 1, not atom.simple)
                )
                by_key.setdefault(key, []).append(len(self.entries) - 1)
        self.automaton = None
        self.key_entries = [tuple(self.entries[i] for i in ids) for ids in by_key.values()]
        if by_key:
            automaton = ahocorasick.Automaton()
            for index, key in enumerate(by_key):
                automaton.add_word(key, index)
            automaton.make_automaton()
            self.automaton = automaton

    def scan(self, doc: NormalizedText) -> dict[int, list[Hit]]:
        """One pass over the document: confirmed hits per atom id, in text order.

        The loop over the automaton's output only records end offsets; turning them into
        spans and confirming the few terms that need it happens per key afterwards.
        """
        if self.automaton is None:
            return {}
        ends: defaultdict[int, list[int]] = defaultdict(list)
        for last, key in self.automaton.iter(doc.text):
            ends[key].append(last)
        hits: dict[int, list[Hit]] = {}
        key_entries = self.key_entries
        for key, lasts in ends.items():
            entries = key_entries[key]
            if len(entries) == 1 and not entries[0].check and entries[0].atom not in hits:
                atom, sb, eb, _ = entries[0]  # the common case, inlined
                hits[atom] = [(last - sb, last - eb) for last in lasts]
                continue
            for entry in entries:
                self._add_hits(doc, hits, entry, lasts)
        return hits

    def _add_hits(
        self, doc: NormalizedText, hits: dict[int, list[Hit]], entry: _Entry, lasts: list[int]
    ) -> None:
        """Turn one key's end offsets into (confirmed) hits of its atom."""
        sb, eb = entry.start_back, entry.end_back
        spans = [(last - sb, last - eb) for last in lasts]
        if entry.check:
            atom = self.atoms[entry.atom]
            checked = ((s, atom.confirm(doc, s, e)) for s, e in spans)
            spans = [(s, e) for s, e in checked if e >= 0]
            if not spans:
                return
        known = hits.get(entry.atom)
        if known is None:
            hits[entry.atom] = spans
        else:
            known.extend(spans)
            known.sort()


def word_end(text: str, end: int) -> int:
    """Extend a hit that ends inside a word (a prefix term) to the end of that word."""
    m = _TAIL.match(text, end)
    return m.end() if m else end


def iter_words(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """Word tokens between two offsets; each CJK character counts as a word."""
    return _WORDS.finditer(text, start, end)


_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(f"[{_CJK_CLASS}]|[^\\W{_CJK_CLASS}]+")
_TAIL = re.compile(f"[^\\W_{_CJK_CLASS}\uac00-\ud7a3]*")  # CJK words have no visible end
