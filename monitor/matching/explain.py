"""Render why a document did or did not match: the query tree with what fired where."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .compile import Hit
from .query import And, Near, Node, Not, Or, Term

if TYPE_CHECKING:
    from .matcher import CompiledTopic, Document, Matcher

SHOWN_HITS = 3
CONTEXT = 30


def _mark(value: bool) -> str:
    return "[x]" if value else "[ ]"


def _where(doc: Document, hit: Hit) -> str:
    start, end = doc.original(hit)
    field = "title" if doc.evaluator.in_title(hit) else "text"
    found = doc.norm.original[start:end].replace("\n", " ")
    return f"{field}@{start} «{found}»"


def _hits_text(doc: Document, hits: list[Hit]) -> str:
    if not hits:
        return "no hit"
    shown = ", ".join(_where(doc, h) for h in hits[:SHOWN_HITS])
    more = f", … {len(hits) - SHOWN_HITS} more" if len(hits) > SHOWN_HITS else ""
    return f"{len(hits)} hit{'s' if len(hits) > 1 else ''}: {shown}{more}"


def _label(node: Node) -> str:
    if isinstance(node, And):
        return "AND"
    if isinstance(node, Or):
        return "OR"
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, Near):
        return f"NEAR/{node.distance}"
    return str(node)


def explain_node(doc: Document, node: Node, depth: int = 1) -> list[str]:
    """One line per node, children indented; terms list their hits."""
    ev = doc.evaluator
    pad = "  " * depth
    line = f"{pad}{_mark(ev.value(node))} {_label(node)}"
    if isinstance(node, Term):
        return [f"{line} — {_hits_text(doc, ev.term_hits(node))}"]
    if isinstance(node, Near):
        pairs = ev.near_pairs(node)
        detail = "no pair within distance"
        if pairs:
            a, b = pairs[0]
            detail = f"{len(pairs)} pair(s), first: {_where(doc, a[1])} + {_where(doc, b[1])}"
        lines = [f"{line} — {detail}"]
        return (
            lines
            + explain_node(doc, node.left, depth + 1)
            + explain_node(doc, node.right, depth + 1)
        )
    children = (node.child,) if isinstance(node, Not) else node.children
    return [line] + [ln for c in children for ln in explain_node(doc, c, depth + 1)]


def explain_topic(matcher: Matcher, doc: Document, topic: CompiledTopic) -> list[str]:
    result = matcher.judge(doc, topic)
    verdict = "MATCHED" if result.matched else "not matched"
    lines = [f"topic {topic.name!r}: {verdict} (score {result.score})"]
    lines.append(f"  query: {topic.query.node}")
    lines += explain_node(doc, topic.query.node, 2)
    if result.keywords:
        lines.append("  keywords:")
        for k in result.keywords:
            lines.append(f"    {k.tag} ×{k.count} at {', '.join(map(str, k.positions))}")
            lines.append(f"      {highlight(k.snippet, k.highlights)}")
    else:
        lines.append("  keywords: none")
    if result.snippet:
        lines.append(f"  snippet: {highlight(result.snippet, result.highlights)}")
    return lines


def highlight(snippet: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The snippet with each highlighted span wrapped in [[ ]]."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [snippet[last:start], "[[", snippet[start:end], "]]"]
        last = end
    out.append(snippet[last:])
    return "".join(out)


def explain_document(matcher: Matcher, doc: Document, topics: list[CompiledTopic]) -> str:
    """The explanation of every requested topic, separated by blank lines."""
    blocks = ["\n".join(explain_topic(matcher, doc, t)) for t in topics]
    return "\n\n".join(blocks) if blocks else "no topics configured"
