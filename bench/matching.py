"""Benchmark the topic matcher against a naive loop of one regex per term.

    python -m bench matching [--docs N] [--naive-docs N] [--topics 200] [--terms 20]
                             [--seed 7] [--corpus PATH] [--no-write]

200 generated topics of 20 terms each run over the plain text of ../shared/corpus pages
(lxml, scripts and styles dropped). Terms are words, prefixes (``stem*``) and phrases
drawn from the corpus itself so that they do hit, in two profiles:

- topic-like: words found in 0.2-3 % of the pages, as a topic's names and places are;
- common: words found in 0.5-20 % of the pages, a stress test where most pages match
  several topics and every match builds snippets.

Both the compiled matcher and the naive loop run in this process on one core (CPU time).
The table is printed and appended to docs/benchmarks.md under "## Matching".
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import lxml.html

from bench.common import DEFAULT_CORPUS, append_results, corpus_pages
from monitor.matching import KeywordSpec, Matcher, TopicConfig

HEADING = "## Matching"
PROFILES = {"topic-like": (0.002, 0.03), "common": (0.005, 0.2)}


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
    for raw in corpus_pages(corpus, limit):
        tree = lxml.html.fromstring(raw.html)
        for bad in tree.xpath("//script|//style|//noscript"):
            bad.drop_tree()
        title = " ".join((tree.findtext(".//title") or "").split())
        text = "\n".join(" ".join(t.split()) for t in tree.itertext() if t.strip())
        pages.append(Page(title, text))
    return pages


def generate_topics(
    pages: list[Page], n_topics: int, n_terms: int, band: tuple[float, float], seed: int
) -> list[list[str]]:
    """Term lists: 60 % words, 20 % prefixes, 20 % two-word phrases, from the band."""
    rng = random.Random(seed)
    df: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for page in pages:
        words = re.findall(r"[^\W\d_]{4,}", page.text.casefold())
        df.update(set(words))
        bigrams.update(set(itertools.pairwise(words)))
    lo, hi = max(2, int(len(pages) * band[0])), max(3, int(len(pages) * band[1]))
    vocab = sorted(w for w, c in df.items() if lo <= c <= hi)
    pairs = sorted(p for p, c in bigrams.items() if lo <= c <= hi)
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
                terms.append(word[: max(5, len(word) - 2)] + "*")
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


def _time_matcher(matcher: Matcher, pages: list[Page], repeat: int) -> tuple[float, int]:
    """Best CPU time of ``repeat`` passes (the machine is shared) and the matches."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        matched = 0
        start = time.process_time()
        for page in pages:
            matched += sum(1 for m in matcher.match(page.title, page.text) if m.matched)
        best = min(best, time.process_time() - start)
    return best, matched


def _time_naive(topics: list[NaiveTopic], pages: list[Page]) -> tuple[float, int]:
    matched = 0
    start = time.process_time()
    for page in pages:
        doc = page.title + "\n\n" + page.text
        matched += sum(1 for t in topics if t.matches(doc))
    return time.process_time() - start, matched


def _mb(pages: list[Page]) -> float:
    return sum(p.size for p in pages) / 1e6


def _row(name: str, seconds: float, pages: list[Page], matched: int) -> tuple[str, float]:
    """A table row and the throughput in MB/s."""
    mb = _mb(pages)
    seconds = max(seconds, 1e-9)
    row = (
        f"| {name} | {len(pages)} | {mb:.2f} | {seconds:.2f} | {mb / seconds:.2f} "
        f"| {1000 * seconds / len(pages):.2f} | {matched / len(pages):.2f} |"
    )
    print(row, flush=True)
    return row, mb / seconds


def run_profile(
    profile: str, pages: list[Page], naive_pages: list[Page], args: argparse.Namespace
) -> tuple[list[str], str]:
    """Rows for one term profile and the speed-up line."""
    term_lists = generate_topics(pages, args.topics, args.terms, PROFILES[profile], args.seed)
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
    rows = []
    secs, matched = _time_matcher(matcher, pages, args.repeat)
    row, fast = _row(f"{profile}: compiled matcher", secs, pages, matched)
    rows.append(row)
    secs, matched = _time_naive(naive, naive_pages)
    row, slow = _row(f"{profile}: naive regex per term", secs, naive_pages, matched)
    rows.append(row)
    verdict = (
        f"{profile}: compile {compile_s:.2f} s, {len(matcher._table.atoms)} distinct terms; "
        f"speed-up {fast / slow:.0f}x, {fast:.1f} MB/s"
    )
    print(verdict, flush=True)
    return rows, verdict


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench matching", description=__doc__)
    parser.add_argument("--docs", type=int, default=1000, help="pages for the matcher")
    parser.add_argument("--naive-docs", type=int, default=30, help="pages for the regex loop")
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--terms", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="matcher passes, best kept")
    parser.add_argument("--profile", choices=[*PROFILES, "all"], default="all")
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
    naive_pages = pages[: args.naive_docs]
    header = [
        f"{args.topics} topics x {args.terms} terms (60 % words, 20 % prefixes, 20 % phrases), "
        f"plain text of ../shared/corpus pages; one core, CPU time (matcher: best of "
        f"{args.repeat} passes); "
        f"`python -m bench matching --docs {args.docs} --naive-docs {args.naive_docs}`.",
        "",
        "| run | docs | MB | CPU s | MB/s | ms/doc | topics matched per doc |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(header), flush=True)
    rows: list[str] = []
    verdicts: list[str] = []
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    for profile in profiles:
        profile_rows, verdict = run_profile(profile, pages, naive_pages, args)
        rows += profile_rows
        verdicts.append(verdict)
    body = "\n".join([*header, *rows, "", *(f"- {v}" for v in verdicts)])
    if not args.no_write:
        append_results(HEADING, body)
    return 0
