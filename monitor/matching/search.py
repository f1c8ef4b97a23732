"""A single query compiled for archive search, independent of configured topics."""

from __future__ import annotations

from .compile import AtomTable
from .matcher import Matcher
from .models import TopicConfig, TopicMatch
from .query import And, Near, Node, Not, Or, Term, iter_terms, parse_query


class CompiledQuery:
    """One query (e.g. from `newsmon search`) ready to test documents.

    ``terms()`` and ``narrowing()`` give the literal terms a full-text index can use to
    pick candidates before the exact test with ``matches()``.
    """

    NAME = "query"

    def __init__(self, text: str) -> None:
        self.text = text
        self.node = parse_query(text)
        self._matcher = Matcher.compile([TopicConfig(name=self.NAME, query=text)])

    def matches(self, title: str, text: str) -> bool:
        """Does the document satisfy the query?"""
        doc = self._matcher.scan(title, text)
        topic = self._matcher.topic(self.NAME)
        return topic.query.predicate(doc.evaluator, doc.hits)

    def match(self, title: str, text: str) -> TopicMatch | None:
        """Score and snippet of a matching document, None if it does not match."""
        doc = self._matcher.scan(title, text)
        result = self._matcher.judge(doc, self._matcher.topic(self.NAME))
        return result if result.matched else None

    def explain(self, title: str, text: str) -> str:
        return self._matcher.explain(title, text, self.NAME)

    def terms(self) -> list[str]:
        """Literal terms outside any NOT, normalised; a prefix term keeps its ``*``."""
        return list(dict.fromkeys(_literal(t) for t in _positive_terms(self.node)))

    def narrowing(self) -> list[list[str]]:
        """Groups of terms such that every match contains at least one term of each group.

        An empty list means the query cannot be narrowed (e.g. ``NOT x`` alone).
        """
        return [sorted(g) for g in _groups(self.node) or []]


def compile_query(text: str) -> CompiledQuery:
    """Parse and compile a search query; raises QuerySyntaxError when malformed."""
    return CompiledQuery(text)


def _literal(term: Term) -> str:
    table = AtomTable()
    return table.atoms[table.atom_for(term)].literal


def _positive_terms(node: Node) -> list[Term]:
    if isinstance(node, Not):
        return []
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Near):
        return iter_terms(node)
    return [t for c in node.children for t in _positive_terms(c)]


def _groups(node: Node) -> list[set[str]] | None:
    """Conjunctive groups of alternatives; None when the node constrains nothing."""
    if isinstance(node, Term):
        return [{_literal(node)}]
    if isinstance(node, Not):
        return None
    if isinstance(node, Near):
        return (_groups(node.left) or []) + (_groups(node.right) or [])
    parts = [_groups(c) for c in node.children]
    if isinstance(node, And):
        out = [g for p in parts if p for g in p]
        return out or None
    assert isinstance(node, Or)
    if any(not p for p in parts):
        return None
    return [set().union(*(min(p, key=len) for p in parts if p))]
