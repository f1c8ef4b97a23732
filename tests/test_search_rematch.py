"""`newsmon search` over the archive and `newsmon rematch` after a topic edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import FIXTURES, write_config

DOCS = [
    (
        "https://a.org/1",
        "North Korean workers in Russia",
        "North Korean workers arrived in Russia on student visas to build houses in Kursk.",
    ),
    (
        "https://b.org/2",
        "Рабочие из КНДР",
        "Северокорейские рабочие прибыли в Россию по студенческим визам. Рабочих было много.",
    ),
    (
        "https://c.org/3",
        "북한 노동자 파견",
        "북한 노동자들이 러시아 건설 현장에 파견됐다. 유학 비자를 이용했다.",
    ),
    (
        "https://d.org/4",
        "Tram line approved",
        "The tram line extension was approved by the council.",
    ),
    (
        "https://e.org/5",
        "North Korean troops in Kursk",
        "North Korean soldiers were deployed to Kursk, officials said.",
    ),
]


@pytest.fixture
def archive(tmp_path: Path, database_url: str) -> list[str]:
    cfg = write_config(tmp_path / "cfg", "", topics=FIXTURES / "topics_small.toml")
    lines = tmp_path / "docs.jsonl"
    lines.write_text(
        "\n".join(json.dumps({"url": u, "title": t, "text": x}) for u, t, x in DOCS) + "\n",
        encoding="utf-8",
    )
    args = ["--config", str(cfg), "--db", database_url]
    assert main([*args, "ingest", str(lines)]) == 0
    return args


def _search(args: list[str], capsys: pytest.CaptureFixture[str], *query: str) -> list[str]:
    capsys.readouterr()
    assert main([*args, "search", "--json", *query]) == 0
    return [a["url"] for a in json.loads(capsys.readouterr().out)]


def test_search_phrase_prefix_and_not(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert set(_search(archive, capsys, '"north korean" AND worker*')) == {"https://a.org/1"}
    assert set(_search(archive, capsys, '"north korean" AND NOT troops')) == {"https://a.org/1"}
    assert set(_search(archive, capsys, "kursk")) == {"https://a.org/1", "https://e.org/5"}
    assert _search(archive, capsys, "рабоч*") == ["https://b.org/2"]
    assert _search(archive, capsys, "title:tram") == ["https://d.org/4"]


def test_search_cjk_falls_back_to_exact_scan(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*archive, "search", "--json", "북한 AND 노동자"]) == 0
    captured = capsys.readouterr()
    assert [a["url"] for a in json.loads(captured.out)] == ["https://c.org/3"]
    assert "cannot use the full-text index" in captured.err


def test_search_ranks_title_hits_first_and_shows_snippets(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*archive, "search", "kursk"]) == 0
    out = capsys.readouterr().out
    assert "2 match(es)" in out
    assert out.index("https://e.org/5") < out.index("https://a.org/1")
    assert "[Kursk]" in out


def test_bad_query_exits_2_with_position(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*archive, "search", '("north korean" AND']) == 2
    assert "position" in capsys.readouterr().err


def test_rematch_after_topic_edit(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main([*archive, "articles", "--json", "--matched", "--topic", "nk-labour"]) == 0
    before = {a["url"] for a in json.loads(capsys.readouterr().out)}
    assert before == {"https://a.org/1"}
    topics = tmp_path / "cfg" / "topics.toml"
    topics.write_text(
        topics.read_text().replace(
            """query = '("north korean" OR "north korea") AND (worker* OR labourer* OR labor*)'""",
            """query = '(("north korean" OR "north korea") AND (worker* OR soldier*)) OR рабоч*'""",
        ),
        encoding="utf-8",
    )
    assert main([*archive, "rematch", "--topic", "nk-labour"]) == 0
    assert "changed verdicts" in capsys.readouterr().out
    assert main([*archive, "articles", "--json", "--matched", "--topic", "nk-labour"]) == 0
    after = {a["url"] for a in json.loads(capsys.readouterr().out)}
    assert after == {"https://a.org/1", "https://b.org/2", "https://e.org/5"}
    # Other topics' rows were left alone by a --topic rematch.
    assert main([*archive, "articles", "--json", "--matched", "--topic", "trams"]) == 0
    assert [a["url"] for a in json.loads(capsys.readouterr().out)] == ["https://d.org/4"]
