"""Precision and recall of a topic query on the labelled relevance set.

Usage: ``python -m bench relevance [--cache DIR] [--data FILE] [--config FILE] [--topic NAME]``
(or ``python -m bench.relevance``).

The labelled set (URL, language, label, kind, title) lives in the repository; the texts
that were read to label it live outside it, in a cache keyed by the SHA-1 of the URL,
because third-party article text must not enter the repository. The same texts are
scored by the topic matcher and by the plain English alert
``"North Korea" AND (worker OR labourer)``, the floor the topic must beat.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA = Path("tests/data/relevance/nk_workers.jsonl")
DEFAULT_CACHE = Path("/work/relevance-cache/nk_workers")
DEFAULT_CONFIG = Path("config/topics.toml")
LABELS = ("relevant", "irrelevant")

Classifier = Callable[[str, str], bool]


@dataclass(frozen=True)
class LabelledItem:
    """One line of the labelled set."""

    url: str
    language: str
    label: str
    kind: str
    title: str

    @property
    def relevant(self) -> bool:
        return self.label == "relevant"


@dataclass(frozen=True)
class Document:
    """A labelled item joined with the text read to label it."""

    item: LabelledItem
    title: str
    text: str


@dataclass
class Counts:
    """Confusion counts for one slice of the set."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        positives = self.tp + self.fn
        return self.tp / positives if positives else None


@dataclass
class Evaluation:
    """Counts per language and overall, plus the documents the classifier got wrong."""

    name: str
    by_language: dict[str, Counts] = field(default_factory=dict)
    overall: Counts = field(default_factory=Counts)
    errors: list[tuple[Document, bool]] = field(default_factory=list)


def cache_path(cache_dir: Path, url: str) -> Path:
    """Where the text read for ``url`` is cached (SHA-1 of the URL, as the set was built)."""
    return cache_dir / f"{hashlib.sha1(url.encode('utf-8')).hexdigest()}.json"


def load_items(path: Path) -> list[LabelledItem]:
    """Read the JSON-lines labelled set; a malformed line stops with its line number."""
    items: list[LabelledItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = LabelledItem(
                url=raw["url"],
                language=raw["language"],
                label=raw["label"],
                kind=raw["kind"],
                title=raw["title"],
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: malformed record: {exc}") from exc
        if item.label not in LABELS:
            raise ValueError(f"{path}:{number}: label must be one of {LABELS}, not {item.label!r}")
        items.append(item)
    return items


def load_documents(
    items: Iterable[LabelledItem], cache_dir: Path
) -> tuple[list[Document], list[LabelledItem]]:
    """Join items with their cached texts; items without a cached text are returned apart."""
    documents: list[Document] = []
    missing: list[LabelledItem] = []
    for item in items:
        path = cache_path(cache_dir, item.url)
        if not path.is_file():
            missing.append(item)
            continue
        cached = json.loads(path.read_text(encoding="utf-8"))
        documents.append(Document(item, cached.get("title") or item.title, cached.get("text", "")))
    return documents, missing


def baseline_alert(title: str, text: str) -> bool:
    """The plain alert ``"North Korea" AND (worker OR labourer)``: case-insensitive substrings."""
    haystack = f"{title}\n{text}".casefold()
    return "north korea" in haystack and ("worker" in haystack or "labourer" in haystack)


def topic_classifier(config: Path, topic: str | None) -> tuple[str, Classifier]:
    """Compile the topics of ``config`` and classify by ``topic`` (default: the first one)."""
    from monitor.matching import Matcher, TopicConfig

    data = tomllib.loads(config.read_text(encoding="utf-8"))
    topics = [TopicConfig.model_validate(t) for t in data["topic"]]
    if not topics:
        raise ValueError(f"{config}: no [[topic]] defined")
    name = topic if topic is not None else topics[0].name
    if name not in {t.name for t in topics}:
        raise ValueError(f"{config}: no topic named {name!r}")
    matcher = Matcher.compile(topics)

    def classify(title: str, text: str) -> bool:
        return any(m.topic == name and m.matched for m in matcher.match(title, text))

    return name, classify


def evaluate(name: str, classify: Classifier, documents: Sequence[Document]) -> Evaluation:
    """Run ``classify`` over every document and tally the outcome per language."""
    result = Evaluation(name)
    for doc in documents:
        predicted = classify(doc.title, doc.text)
        truth = doc.item.relevant
        result.by_language.setdefault(doc.item.language, Counts()).add(truth, predicted)
        result.overall.add(truth, predicted)
        if predicted != truth:
            result.errors.append((doc, predicted))
    return result


def _ratio(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def format_table(evaluations: Sequence[Evaluation]) -> str:
    """A Markdown table: per language, precision and recall of each classifier."""
    header = "| language | relevant | irrelevant |"
    rule = "|---|---:|---:|"
    for ev in evaluations:
        header += f" {ev.name} P | {ev.name} R |"
        rule += "---:|---:|"
    lines = [header, rule]
    languages = sorted({lang for ev in evaluations for lang in ev.by_language})
    rows: list[tuple[str, list[Counts]]] = [
        (lang, [ev.by_language.get(lang, Counts()) for ev in evaluations]) for lang in languages
    ]
    rows.append(("**all**", [ev.overall for ev in evaluations]))
    for label, counts in rows:
        first = counts[0]
        line = f"| {label} | {first.tp + first.fn} | {first.fp + first.tn} |"
        for c in counts:
            line += f" {_ratio(c.precision)} | {_ratio(c.recall)} |"
        lines.append(line)
    return "\n".join(lines)


def format_errors(evaluation: Evaluation) -> str:
    """Misclassified URLs, false negatives first, each with its language and kind."""
    lines = [f"Misclassified by {evaluation.name}: {len(evaluation.errors)}"]
    ordered = sorted(
        evaluation.errors, key=lambda e: (e[1], e[0].item.kind, e[0].item.language, e[0].item.url)
    )
    for doc, predicted in ordered:
        verdict = "FP" if predicted else "FN"
        lines.append(f"  {verdict} [{doc.item.language}] {doc.item.kind:<22} {doc.item.url}")
    return "\n".join(lines)


def format_error_summary(evaluation: Evaluation) -> str:
    """Errors counted by verdict, kind and language: where the query needs work."""
    tally: dict[tuple[str, str, str], int] = {}
    for doc, predicted in evaluation.errors:
        key = ("FP" if predicted else "FN", doc.item.kind, doc.item.language)
        tally[key] = tally.get(key, 0) + 1
    lines = [f"Errors of {evaluation.name} by kind and language:"]
    for (verdict, kind, language), count in sorted(tally.items()):
        lines.append(f"  {verdict} {kind:<22} {language}: {count}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench relevance", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled JSON lines")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cached texts")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="topics.toml")
    parser.add_argument("--topic", default=None, help="topic to score (default: the first)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    items = load_items(args.data)
    documents, missing = load_documents(items, args.cache)
    relevant = sum(d.item.relevant for d in documents)
    print(
        f"{len(items)} labelled items, {len(documents)} with cached text "
        f"({relevant} relevant, {len(documents) - relevant} irrelevant); "
        f"{len(missing)} without text skipped"
    )
    evaluations: list[Evaluation] = []
    try:
        name, classify = topic_classifier(args.config, args.topic)
    except (ImportError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"topic matcher unavailable ({type(exc).__name__}: {exc}); baseline only")
    else:
        evaluations.append(evaluate(name, classify, documents))
    evaluations.append(evaluate("baseline", baseline_alert, documents))
    print()
    print(format_table(evaluations))
    for ev in evaluations:
        print()
        print(format_error_summary(ev))
    for ev in evaluations:
        print()
        print(format_errors(ev))
    return 0


if __name__ == "__main__":
    sys.exit(main())
