"""The Matcher: all topics compiled into one automaton, evaluated per document."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from .compile import AtomTable, Hit, word_end
from .evaluate import Evaluator, Positives, Predicate, Support, compile_predicate
from .models import KeywordHit, TopicConfig, TopicMatch
from .normalize import NormalizedText, normalize, normalize_document
from .query import Node, iter_terms, make_or, parse_query
from .snippets import WIDTH, Span, best_anchor, make_snippet, score

SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class CompiledExpr:
    """A parsed expression with its fast predicate and the terms that count as evidence."""

    node: Node
    predicate: Predicate
    positives: Positives

    @classmethod
    def of(cls, node: Node, atom_ids: dict[str, int]) -> CompiledExpr:
        return cls(node, compile_predicate(node, atom_ids), Positives.of(node, atom_ids))


@dataclass(frozen=True, slots=True)
class CompiledTopic:
    """A topic's query and keyword expressions, ready for evaluation."""

    name: str
    query: CompiledExpr
    keywords: tuple[tuple[str, tuple[CompiledExpr, ...]], ...]
    matches_empty: bool  # true if the query holds for a document with no hits at all
    reportable: Predicate  # the query or any keyword expression holds: worth a TopicMatch

    def expressions(self) -> list[CompiledExpr]:
        return [self.query, *(e for _, exprs in self.keywords for e in exprs)]


@dataclass(slots=True)
class Document:
    """One document normalised and scanned: everything evaluation needs."""

    norm: NormalizedText
    title_len: int  # original characters of the title
    body_start: int  # normalised offset where the text begins
    hits: dict[int, list[Hit]]
    evaluator: Evaluator

    spans: dict[Hit, tuple[int, int]] = field(default_factory=dict)

    def original(self, hit: Hit) -> tuple[int, int]:
        """Original [start, end) of a hit (cached: a hit often supports many topics)."""
        span = self.spans.get(hit)
        if span is None:
            end = word_end(self.norm.text, hit[1])
            span = self.spans[hit] = self.norm.span_to_original(hit[0], end)
        return span


class Matcher:
    """Decides which topics a document belongs to, in one automaton pass for all topics."""

    def __init__(self, topics: list[CompiledTopic], table: AtomTable) -> None:
        self._topics = sorted(topics, key=lambda t: t.name)
        self._table = table
        self._by_atom: dict[int, list[int]] = {}
        self._always = [i for i, t in enumerate(self._topics) if t.matches_empty]
        for i, topic in enumerate(self._topics):
            terms = (t for e in topic.expressions() for t in iter_terms(e.node))
            for atom in {table.by_text[t.text] for t in terms}:
                self._by_atom.setdefault(atom, []).append(i)

    @classmethod
    def compile(cls, topics: Sequence[TopicConfig]) -> Matcher:
        """Parse every query and keyword term and build the shared automaton."""
        names = [t.name for t in topics]
        if len(set(names)) != len(names):
            raise ValueError("topic names must be unique")
        table = AtomTable()
        parsed = []
        for topic in topics:
            query = parse_query(topic.query)
            keywords = [(k.tag, [parse_query(term) for term in k.terms]) for k in topic.keywords]
            for node in (query, *(n for _, ns in keywords for n in ns)):
                for term in iter_terms(node):
                    table.atom_for(term)
            parsed.append((topic.name, query, keywords))
        table.build()
        ids = table.by_text
        empty = Evaluator("", {}, ids)
        compiled = [
            CompiledTopic(
                name,
                CompiledExpr.of(query, ids),
                tuple((tag, tuple(CompiledExpr.of(n, ids) for n in ns)) for tag, ns in keywords),
                empty.value(query),
                compile_predicate(make_or([query, *(n for _, ns in keywords for n in ns)]), ids),
            )
            for name, query, keywords in parsed
        ]
        return cls(compiled, table)

    @property
    def topics(self) -> list[str]:
        return [t.name for t in self._topics]

    def scan(self, title: str, text: str) -> Document:
        """Normalise and scan once; the result feeds match() and explain()."""
        norm = normalize_document(title + SEPARATOR + text)
        # 1 for the padding space; when no character expanded, offsets are the original's
        same = norm.is_one_to_one() and len(norm.original) == len(title) + len(text) + 2
        body_start = 1 + (len(title) if same else len(normalize(title)))
        hits = self._table.scan(norm)
        return Document(
            norm,
            len(title),
            body_start,
            hits,
            Evaluator(norm.text, hits, self._table.by_text, body_start),
        )

    def candidates(self, doc: Document) -> list[CompiledTopic]:
        """Topics that could match: those with a hit, plus any that match on nothing."""
        idx = set(self._always)
        for atom in doc.hits:
            idx.update(self._by_atom.get(atom, ()))
        return [self._topics[i] for i in sorted(idx)]

    def topic(self, name: str) -> CompiledTopic:
        for topic in self._topics:
            if topic.name == name:
                return topic
        raise KeyError(f"no topic named {name!r}; topics: {', '.join(self.topics)}")

    def match(self, title: str, text: str) -> list[TopicMatch]:
        """Every topic that matched or hit a keyword tag, sorted by topic name."""
        doc = self.scan(title, text)
        ev, hits = doc.evaluator, doc.hits
        out = []
        for topic in self.candidates(doc):
            if topic.reportable(ev, hits):
                out.append(self.judge(doc, topic))
        return out

    def judge(self, doc: Document, topic: CompiledTopic) -> TopicMatch:
        """The verdict, score, keyword hits and snippet of one topic on one document."""
        ev, hits = doc.evaluator, doc.hits
        matched = topic.query.predicate(ev, hits)
        groups: Support = topic.query.positives.support(ev) if matched else []
        keyword_hits = []
        for tag, exprs in topic.keywords:
            found = [g for e in exprs if e.predicate(ev, hits) for g in e.positives.support(ev)]
            if found:
                keyword_hits.append(self._keyword_hit(doc, tag, found))
                groups.extend(found)
        spans = sorted({h for _, hs in groups for h in hs})
        snippet = ""
        highlights: tuple[Span, ...] = ()
        if spans:
            snippet, highlights = self._snippet(doc, spans, best_anchor(spans, doc.body_start))
        return TopicMatch(
            topic=topic.name,
            matched=matched,
            score=self._score(doc, groups) if matched else 0.0,
            keywords=tuple(keyword_hits),
            snippet=snippet,
            highlights=highlights,
        )

    @staticmethod
    def _snippet(doc: Document, hits: list[Hit], anchor: int) -> tuple[str, tuple[Span, ...]]:
        """Snippet around ``hits[anchor]``; only hits near it are mapped back to the original."""
        centre = hits[anchor][0]
        lo = bisect_left(hits, (centre - 2 * WIDTH, 0))
        hi = bisect_left(hits, (centre + 2 * WIDTH, 0))
        near = [doc.original(h) for h in hits[lo:hi]]
        return make_snippet(doc.norm.original, near, anchor - lo)

    def _keyword_hit(self, doc: Document, tag: str, found: Support) -> KeywordHit:
        hits = sorted({h for _, hs in found for h in hs})
        to_original = doc.norm.to_original
        snippet, highlights = self._snippet(doc, hits, 0)
        return KeywordHit(
            tag=tag,
            count=len(hits),
            positions=tuple(to_original(s) for s, _ in hits),
            snippet=snippet,
            highlights=highlights,
        )

    @staticmethod
    def _score(doc: Document, groups: Support) -> float:
        body = doc.body_start
        spans = {h for _, hs in groups for h in hs}
        return score(
            title_terms=len({atom for atom, hs in groups if hs[0][0] < body}),
            distinct_terms=len({atom for atom, _ in groups}),
            hits=len(spans),
            body_hits=sum(1 for h in spans if h[0] >= body),
            body_chars=len(doc.norm.text) - body,
        )

    def explain(self, title: str, text: str, topic: str | None = None) -> str:
        """Human-readable account of which clauses fired and where."""
        from .explain import explain_document

        doc = self.scan(title, text)
        topics = [self.topic(topic)] if topic is not None else self._topics
        return explain_document(self, doc, topics)
