"""Benchmark the topic matcher against a naive loop of one regex per term.

    python -m bench matching [--docs N] [--naive-docs N] [--topics 200] [--terms 20]
                             [--corpus PATH] [--no-write]

200 generated topics of 20 terms each (words, prefixes and phrases drawn from the corpus
itself, so they do hit) run over the plain text of ../shared/corpus pages. Both sides run
in this process on one core; the table is printed and appended to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import itertools
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import lxml.html

from monitor.matching import KeywordSpec, Matcher, TopicConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Matching"


@dataclass(frozen=True)
class Page:
    title: str
    text: str

    @property
    def size(self) -> int:
        return len(self.title.encode()) + 2 + len(self.text.encode())


def load_pages(corpus: Path, limit: int) -> list[Page]:
    """Plain text of the corpus pages (scripts and styles dropped)."""
    pages: list[Page] = []
    with (corpus / "index.jsonl").open(encoding="utf-8") as index:
        for line in index:
            if len(pages) >= limit:
                break
            entry = json.loads(line)
            path = corpus / entry["file"]
            if not path.exists():
                continue
            tree = lxml.html.fromstring(gzip.decompress(path.read_bytes()))
            for bad in tree.xpath("//script|//style|//noscript"):
                bad.drop_tree()
            title = " ".join((tree.findtext(".//title") or "").split())
            text = "\n".join(" ".join(t.split()) for t in tree.itertext() if t.strip())
            pages.append(Page(title, text))
    return pages


def generate_topics(pages: list[Page], n_topics: int, n_terms: int, seed: int) -> list[list[str]]:
    """Term lists drawn from words of middling document frequency, some as prefixes/phrases."""
    rng = random.Random(seed)
    df: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for page in pages:
        words = re.findall(r"[^\W\d_]{4,}", page.text.casefold())
        df.update(set(words))
        bigrams.update(set(itertools.pairwise(words)))
    lo, hi = max(2, len(pages) // 200), max(3, len(pages) // 5)
    vocab = sorted(w for w, c in df.items() if lo <= c <= hi)
    pairs = sorted(p for p, c in bigrams.items() if c >= 2)
    if not vocab:
        raise SystemExit("corpus too small to generate topics")
    topics = []
    for _ in range(n_topics):
        terms = []
        for _ in range(n_terms):
            roll = rng.random()
            if roll < 0.2 and pairs:
                terms.append('"{} {}"'.format(*rng.choice(pairs)))
            elif roll < 0.4:
                word = rng.choice(vocab)
                terms.append(word[: max(4, len(word) - 3)] + "*")
            else:
                terms.append(rng.choice(vocab))
        topics.append(terms)
    return topics


def topic_query(terms: list[str]) -> str:
    """(t1 OR … t8) AND (t9 OR … t16) AND NOT (t17 OR … t20), whatever the term count."""
    a, b = len(terms) * 2 // 5, len(terms) * 4 // 5
    groups = [terms[:a], terms[a:b]]
    query = " AND ".join("(" + " OR ".join(g) + ")" for g in groups if g)
    if terms[b:]:
        query += " AND NOT (" + " OR ".join(terms[b:]) + ")"
    return query


class NaiveTopic:
    """One compiled regex per term, searched one after the other: the baseline."""

    def __init__(self, terms: list[str]) -> None:
        self.regexes = [re.compile(self._pattern(t), re.IGNORECASE) for t in terms]
        n = len(terms)
        self.a, self.b = n * 2 // 5, n * 4 // 5

    @staticmethod
    def _pattern(term: str) -> str:
        term = term.strip('"')
        tail = r"\w*" if term.endswith("*") else r"(?!\w)"
        words = [re.escape(w) for w in term.rstrip("*").split()]
        return r"(?<!\w)" + r"\s+".join(words) + tail

    def matches(self, doc: str) -> bool:
        found = [r.search(doc) is not None for r in self.regexes]
        return any(found[: self.a]) and any(found[self.a : self.b]) and not any(found[self.b :])


def _time_matcher(matcher: Matcher, pages: list[Page]) -> tuple[float, int]:
    matched = 0
    start = time.process_time()
    for page in pages:
        matched += sum(1 for m in matcher.match(page.title, page.text) if m.matched)
    return time.process_time() - start, matched


def _time_naive(topics: list[NaiveTopic], pages: list[Page]) -> tuple[float, int]:
    matched = 0
    start = time.process_time()
    for page in pages:
        doc = page.title + "\n\n" + page.text
        matched += sum(1 for t in topics if t.matches(doc))
    return time.process_time() - start, matched


def _row(name: str, seconds: float, pages: list[Page], matched: int) -> tuple[str, float]:
    """A table row and the throughput in MB/s."""
    mb = _mb(pages)
    seconds = max(seconds, 1e-9)
    row = (
        f"| {name} | {len(pages)} | {mb:.2f} | {seconds:.2f} | {mb / seconds:.2f} "
        f"| {1000 * seconds / len(pages):.2f} | {matched} |"
    )
    print(row)
    return row, mb / seconds


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def append_results(table: str) -> None:
    """Add the run under the "## Matching" heading of docs/benchmarks.md."""
    RESULTS.parent.mkdir(exist_ok=True)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    if HEADING not in text:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\nCommand: `python -m bench matching`.\n"
    head = text.index(HEADING)
    nxt = text.find("\n## ", head + len(HEADING))
    end = len(text) if nxt == -1 else nxt
    text = text[:end].rstrip("\n") + "\n\n" + table + "\n" + text[end:]
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench matching", description=__doc__)
    parser.add_argument("--docs", type=int, default=1000, help="pages for the matcher")
    parser.add_argument("--naive-docs", type=int, default=60, help="pages for the regex loop")
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--terms", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    if not (args.corpus / "index.jsonl").exists():
        print(f"skipped: no corpus at {args.corpus}", file=sys.stderr)
        return 0
    pages = load_pages(args.corpus, args.docs)
    if not pages:
        print("skipped: the corpus has no pages", file=sys.stderr)
        return 0
    term_lists = generate_topics(pages, args.topics, args.terms, args.seed)
    configs = [
        TopicConfig(
            name=f"t{i:03d}",
            query=topic_query(terms),
            keywords=[KeywordSpec(tag="first", terms=terms[:2])],
        )
        for i, terms in enumerate(term_lists)
    ]
    t0 = time.process_time()
    matcher = Matcher.compile(configs)
    compile_s = time.process_time() - t0
    naive = [NaiveTopic(terms) for terms in term_lists]
    naive_pages = pages[: args.naive_docs]

    lines = [
        f"### {dt.date.today().isoformat()} — {cpu_name()}, {os.cpu_count()} cores "
        f"(one used), Python {platform.python_version()}",
        "",
        f"{args.topics} topics x {args.terms} terms, compile {compile_s:.2f} s; "
        f"plain text of ../shared/corpus pages (lxml).",
        "",
        "| method | docs | MB | CPU s | MB/s | ms/doc | topic matches |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines))
    secs, matched = _time_matcher(matcher, pages)
    row, fast_mbs = _row("compiled matcher", secs, pages, matched)
    lines.append(row)
    secs, matched = _time_naive(naive, naive_pages)
    row, slow_mbs = _row("naive regex per term", secs, naive_pages, matched)
    lines.append(row)
    verdict = f"Speed-up: {fast_mbs / slow_mbs:.1f}x (target >= 10x, >= 20 MB/s)."
    print(verdict)
    lines += ["", verdict]
    if not args.no_write:
        append_results("\n".join(lines))
    return 0


def _mb(pages: list[Page]) -> float:
    return sum(p.size for p in pages) / 1e6
