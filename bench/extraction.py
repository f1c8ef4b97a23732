"""Extraction cost and quality on ../shared/corpus, per trafilatura option set.

    python -m bench extraction [--pages 990] [--no-write]

Quality is scored as trafilatura's own evaluation does: a `with` snippet found in the
output is a hit, a `without` snippet found is a false positive; precision, recall and F1
over snippets. Cost is CPU time per page of monitor.extract.extract_article (metadata,
head parsing and language detection included), median of the per-page times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

from bench.common import DEFAULT_CORPUS, append_results, median
from monitor.extract import ExtractOptions, extract_article

OPTION_SETS = {
    "default (newsmon)": ExtractOptions(),
    "fast (no fallback)": ExtractOptions(fast=True),
    "favor_precision": ExtractOptions(favor_precision=True),
    "fast + favor_precision": ExtractOptions(fast=True, favor_precision=True),
}


@dataclass
class Score:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    empty: int = 0

    def add(self, text: str, with_: list[str], without: list[str]) -> None:
        for s in with_:
            if s in text:
                self.tp += 1
            else:
                self.fn += 1
        for s in without:
            if s in text:
                self.fp += 1
            else:
                self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench extraction")
    parser.add_argument("--pages", type=int, default=990)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    index = DEFAULT_CORPUS / "index.jsonl"
    if not index.exists():
        print("bench extraction: ../shared/corpus not found; nothing to measure", file=sys.stderr)
        return 0
    import gzip

    entries = [json.loads(line) for line in index.open(encoding="utf-8")][: args.pages]
    pages = [
        (e, gzip.decompress((DEFAULT_CORPUS / e["file"]).read_bytes()))
        for e in entries
        if (DEFAULT_CORPUS / e["file"]).exists()
    ]
    rows = [
        "| options | ms/page (median) | ms/page (mean) | precision | recall | F1 | no text |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, options in OPTION_SETS.items():
        score, times = Score(), []
        for entry, html in pages:
            start = time.process_time()
            article = extract_article(html, entry["url"], options)
            times.append((time.process_time() - start) * 1000)
            text = article.text if article else ""
            score.empty += int(article is None)
            score.add(text, entry.get("with", []), entry.get("without", []))
        rows.append(
            f"| {name} | {median(times):.1f} | {sum(times) / len(times):.1f} | "
            f"{score.precision:.3f} | {score.recall:.3f} | {score.f1:.3f} | "
            f"{score.empty} |"
        )
        print(rows[-1], file=sys.stderr)
    table = (
        f"`python -m bench extraction --pages {len(pages)}` (CPU time, one core)\n\n"
        + "\n".join(rows)
    )
    print(table)
    if not args.no_write:
        append_results("## Extraction", table)
    return 0
