"""Evaluate a query tree on the hits of one automaton pass.

Evaluation never looks at the text again except to count words between two hits for
NEAR; everything else is set logic over the hits already found.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .compile import Hit, iter_words, word_end
from .query import And, Near, Node, Not, Or, Term

_MAX_WORD_CHARS = 40  # a gap longer than this many characters per word cannot be near


Evidence = tuple[int, Hit]
"""A hit that supports a verdict: (atom id, hit)."""

Support = list[tuple[int, list[Hit]]]
"""Hits that support a verdict, grouped by atom: [(atom id, hits), ...]."""


class Evaluator:
    """Per-document evaluation of query trees against the atoms' hits."""

    def __init__(
        self,
        text: str,
        hits: Mapping[int, list[Hit]],
        atom_ids: Mapping[str, int],
        body_start: int = 0,
    ) -> None:
        self.text = text
        self.hits = hits
        self.atom_ids = atom_ids
        self.body_start = body_start  # hits starting before this are in the title

    def in_title(self, hit: Hit) -> bool:
        return hit[0] < self.body_start

    def term_hits(self, term: Term) -> list[Hit]:
        """Hits of a term, restricted to its field."""
        hits = self.hits.get(self.atom_ids[term.text], [])
        if term.field == "title":
            return [h for h in hits if h[0] < self.body_start]
        if term.field == "text":
            return [h for h in hits if h[0] >= self.body_start]
        return hits

    def positions(self, node: Node) -> list[Evidence]:
        """Hits of a positional node (a term or an OR-group of terms)."""
        if isinstance(node, Term):
            atom = self.atom_ids[node.text]
            return [(atom, h) for h in self.term_hits(node)]
        if isinstance(node, Or):
            return [e for c in node.children for e in self.positions(c)]
        return []

    def near_pairs(self, node: Near) -> list[tuple[Evidence, Evidence]]:
        """Pairs of left/right hits within the node's distance in words."""
        pairs: list[tuple[Evidence, Evidence]] = []
        left = self.positions(node.left)
        if not left:
            return pairs
        right = self.positions(node.right)
        if not right:
            return pairs
        limit = (node.distance + 1) * _MAX_WORD_CHARS
        for a in left:
            for b in right:
                first, second = (a[1], b[1]) if a[1][0] <= b[1][0] else (b[1], a[1])
                gap_start, gap_end = word_end(self.text, first[1]), second[0]
                if gap_end - gap_start > limit:
                    continue
                if gap_end <= gap_start or self._words_within(gap_start, gap_end, node.distance):
                    pairs.append((a, b))
        return pairs

    def _words_within(self, start: int, end: int, distance: int) -> bool:
        for count, _ in enumerate(iter_words(self.text, start, end), start=1):
            if count > distance:
                return False
        return True

    def near_ok(self, node: Near) -> bool:
        return bool(self.near_pairs(node))

    def value(self, node: Node) -> bool:
        """Does the document satisfy this (sub)query?"""
        if isinstance(node, Term):
            return bool(self.term_hits(node))
        if isinstance(node, And):
            return all(self.value(c) for c in node.children)
        if isinstance(node, Or):
            return any(self.value(c) for c in node.children)
        if isinstance(node, Not):
            return not self.value(node.child)
        return bool(self.near_pairs(node))

    def support(self, node: Node) -> Support | None:
        """Hits of the positive terms that make ``node`` true (maybe none, as for NOT),
        or None when ``node`` is false."""
        if isinstance(node, Term):
            hits = self.term_hits(node)
            return [(self.atom_ids[node.text], hits)] if hits else None
        if isinstance(node, Not):
            return None if self.support(node.child) is not None else []
        if isinstance(node, Near):
            pairs = self.near_pairs(node)
            return [(atom, [hit]) for pair in pairs for atom, hit in pair] if pairs else None
        found: Support = []
        any_true = False
        for child in node.children:
            part = self.support(child)
            if part is None:
                if isinstance(node, And):
                    return None
                continue
            any_true = True
            found.extend(part)
        return found if any_true else None


Predicate = Callable[[Evaluator, Mapping[int, list[Hit]]], bool]


def _any_title(hits: list[Hit] | None, body_start: int) -> bool:
    return hits is not None and hits[0][0] < body_start  # hits come in text order


def _any_body(hits: list[Hit] | None, body_start: int) -> bool:
    return hits is not None and hits[-1][0] >= body_start


def compile_predicate(node: Node, atom_ids: Mapping[str, int]) -> Predicate:
    """A fast yes/no test of a query on one document's hits.

    The tree becomes one Python expression over atom ids (generated from our own integer
    ids and operators, never from query text), so evaluating a topic costs a few dict
    lookups. Trees too deep for the compiler fall back to walking the tree.
    """
    nears: list[Near] = []

    def gen(n: Node) -> str:
        if isinstance(n, Term):
            atom = atom_ids[n.text]
            if n.field == "title":
                return f"T(H.get({atom}), E.body_start)"
            if n.field == "text":
                return f"B(H.get({atom}), E.body_start)"
            return f"({atom} in H)"
        if isinstance(n, And):
            return "(" + " and ".join(gen(c) for c in n.children) + ")"
        if isinstance(n, Or):
            return "(" + " or ".join(gen(c) for c in n.children) + ")"
        if isinstance(n, Not):
            return f"(not {gen(n.child)})"
        nears.append(n)
        return f"E.near_ok(N[{len(nears) - 1}])"

    try:
        source = f"lambda E, H: {gen(node)}"
        scope = {"T": _any_title, "B": _any_body, "N": nears, "__builtins__": {}}
        predicate: Predicate = eval(compile(source, "<query>", "eval"), scope)
    except (SyntaxError, RecursionError, MemoryError):
        return lambda ev, hits: ev.value(node)
    return predicate


@dataclass(frozen=True, slots=True)
class Positives:
    """The terms outside any NOT (and the NEARs), whose hits are a true query's evidence.

    Evidence is every hit of these terms rather than only those of the branches that
    decided the verdict: cheaper, and what a reader wants highlighted anyway.
    """

    terms: tuple[tuple[int, str | None], ...]  # (atom id, field)
    nears: tuple[Near, ...]

    @classmethod
    def of(cls, node: Node, atom_ids: Mapping[str, int]) -> Positives:
        terms: list[tuple[int, str | None]] = []
        nears: list[Near] = []

        def walk(n: Node) -> None:
            if isinstance(n, Term):
                terms.append((atom_ids[n.text], n.field))
            elif isinstance(n, Near):
                nears.append(n)
            elif isinstance(n, And | Or):
                for c in n.children:
                    walk(c)

        walk(node)
        return cls(tuple(dict.fromkeys(terms)), tuple(nears))

    def support(self, ev: Evaluator) -> Support:
        """Evidence of a query already known to be true."""
        found: Support = []
        hits, body = ev.hits, ev.body_start
        for atom, fld in self.terms:
            hs = hits.get(atom)
            if hs is None:
                continue
            if fld == "title":
                hs = [h for h in hs if h[0] < body]
            elif fld == "text":
                hs = [h for h in hs if h[0] >= body]
            if hs:
                found.append((atom, hs))
        for near in self.nears:
            found += [(atom, [hit]) for pair in ev.near_pairs(near) for atom, hit in pair]
        return found
