"""Snippets with highlight spans, and the relevance score (documented in docs/relevance.md)."""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Sequence

Span = tuple[int, int]

BEFORE = 70  # characters of context before the first highlighted hit
WIDTH = 200  # total snippet width
ELLIPSIS = "…"

_VISIBLE = re.compile(r"\S")

TITLE_WEIGHT = 3.0
DENSITY_CAP = 5.0
SCORE_HALF = 10.0  # raw evidence at which the score reaches 0.5


def make_snippet(doc: str, spans: Sequence[Span], anchor: int) -> tuple[str, tuple[Span, ...]]:
    """A window of ``doc`` around ``spans[anchor]``, cut at spaces, with highlight spans."""
    a_start, a_end = spans[anchor]
    start = max(0, a_start - BEFORE)
    if start <= BEFORE // 3:
        start = 0
    elif (space := doc.find(" ", start, a_start)) != -1:
        start = space + 1
    end = min(len(doc), max(start + WIDTH, a_end))
    if end < len(doc) and (space := doc.rfind(" ", a_end, end)) != -1:
        end = space
    while start < a_start and doc[start].isspace():
        start += 1
    lead = ELLIPSIS if _VISIBLE.search(doc, 0, start) else ""
    tail = ELLIPSIS if _VISIBLE.search(doc, end) else ""
    body = doc[start:end].replace("\n", " ").rstrip()
    shift = len(lead) - start
    highlights = tuple(
        (s + shift, e + shift) for s, e in sorted(set(spans)) if s >= start and e <= end
    )
    return lead + body + tail, highlights


def best_anchor(spans: Sequence[Span], body_start: int) -> int:
    """Index of the span whose snippet window holds the most hits, body hits first.

    ``spans`` must be sorted.
    """
    starts = [s for s, _ in spans]
    first_body = bisect_left(starts, body_start)
    lo = first_body if first_body < len(starts) else 0
    best, best_count = lo, -1
    for i in range(lo, len(starts)):
        count = bisect_left(starts, starts[i] + WIDTH - BEFORE) - i
        if count > best_count:
            best, best_count = i, count
    return best


def score(
    *, title_terms: int, distinct_terms: int, hits: int, body_hits: int, body_chars: int
) -> float:
    """Relevance in [0, 1): title terms weigh most, then distinct terms, volume, density.

    raw = 3·title_terms + distinct_terms + log2(1 + hits) + min(5, body hits per 1000 chars)
    score = raw / (raw + 10)
    """
    density = min(DENSITY_CAP, 1000.0 * body_hits / max(body_chars, 1))
    raw = TITLE_WEIGHT * title_terms + distinct_terms + math.log2(1 + hits) + density
    return round(raw / (raw + SCORE_HALF), 4)
