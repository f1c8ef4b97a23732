"""The matching benchmark runs end to end on a few corpus pages (skipped without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import main as bench_main
from bench.matching import NaiveTopic, topic_query

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def test_topic_query_shape() -> None:
    q = topic_query([f"w{i}" for i in range(5)])
    assert q == "(w0 OR w1) AND (w2 OR w3) AND NOT (w4)"


def test_naive_baseline_agrees_on_a_simple_case() -> None:
    naive = NaiveTopic(["kursk", "xx", '"student visa"', "yy", "troops"])
    assert naive.matches("Workers in Kursk on a student visa")
    assert not naive.matches("Troops in Kursk on a student visa")


def test_dispatcher_rejects_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["no-such-bench"]) == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "index.jsonl").exists(), reason="no ../shared/corpus")
def test_bench_runs_on_a_few_pages(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["matching", "--docs", "20", "--naive-docs", "2", "--topics", "10", "--no-write"]
    assert bench_main(args) == 0
    out = capsys.readouterr().out
    assert "topic-like: compiled matcher" in out and "speed-up" in out


def test_bench_skips_cleanly_without_corpus(tmp_path: Path) -> None:
    assert bench_main(["matching", "--corpus", str(tmp_path), "--no-write"]) == 0
