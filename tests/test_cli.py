"""The CLI as a user runs it: ingest, articles, match, db."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, run_newsmon, write_config

TOPICS = FIXTURES / "topics_small.toml"


def _cfg(tmp_path: Path) -> list[str]:
    d = write_config(tmp_path / "cfg", "", topics=TOPICS)
    return ["--config", str(d), "--db", f"sqlite:///{tmp_path / 'n.db'}"]


def _lines(tmp_path: Path, items: list[object]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n",
        encoding="utf-8",
    )
    return path


BODY = (
    "North Korean workers were sent to Kursk on student visas to rebuild houses, "
    "officials said. Their wages go to the state."
)


def test_ingest_then_list_json(tmp_path: Path) -> None:
    args = _cfg(tmp_path)
    html = (FIXTURES / "site/news/a3.html").read_text().replace("{{BASE}}", "https://ex.org")
    src = _lines(
        tmp_path,
        [
            {
                "url": "https://ex.org/1",
                "title": "Workers",
                "text": BODY,
                "published": "2026-11-20T08:00:00Z",
                "source": "archive",
            },
            {"url": "https://ex.org/1?utm_source=x", "title": "Workers", "text": BODY},
            {"url": "https://other.org/copy", "title": "Copy", "text": BODY, "source": "copycat"},
            {"url": "https://ex.org/tram", "html": html},
            "{not json",
            {"url": "ftp://nope", "text": "x"},
            {"url": "https://ex.org/empty", "title": "t"},
        ],
    )
    proc = run_newsmon(*args, "ingest", str(src), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    by_source = {s["source"]: s for s in summary["sources"]}
    assert by_source["archive"]["new"] == 1
    assert by_source["copycat"]["duplicates"] == 1
    assert by_source["ingest"]["new"] == 1
    assert by_source["ingest"]["duplicates"] == 1  # the tracking-parameter variant
    assert by_source["ingest"]["errors_by_reason"] == {
        "bad-json": 1,
        "bad-field": 1,
        "empty-extraction": 1,
    }
    assert any(e["url"].endswith("in.jsonl:5") for e in summary["errors"])

    listed = run_newsmon(*args, "articles", "--json")
    assert listed.returncode == 0, listed.stderr
    articles = json.loads(listed.stdout)
    # The page's rel=canonical wins over the URL it was given under.
    assert {a["canonical_url"] for a in articles} == {
        "https://ex.org/1",
        "https://ex.org/news/a3.html",
    }
    workers = next(a for a in articles if a["canonical_url"] == "https://ex.org/1")
    for key in ("url", "canonical_url", "title", "source", "published", "first_seen", "language"):
        assert key in workers
    assert workers["published"].startswith("2026-11-20T08:00")
    assert workers["language"] == "en"
    assert workers["topics"]["nk-labour"]["matched"] is True
    assert set(workers["topics"]["nk-labour"]["keywords"]) == {"student visa", "Kursk"}

    matched = json.loads(run_newsmon(*args, "articles", "--json", "--matched").stdout)
    assert len(matched) == 2  # one matches nk-labour, the other trams
    nk = json.loads(
        run_newsmon(*args, "articles", "--json", "--matched", "--topic", "nk-labour").stdout
    )
    assert [a["canonical_url"] for a in nk] == ["https://ex.org/1"]
    trams = json.loads(run_newsmon(*args, "articles", "--json", "--topic", "trams").stdout)
    assert [a["canonical_url"] for a in trams] == ["https://ex.org/news/a3.html"]
    table = run_newsmon(*args, "articles", "--matched", "--topic", "nk-labour")
    assert "1 article(s)" in table.stdout and "https://ex.org/1" in table.stdout


def test_match_text_and_json(tmp_path: Path) -> None:
    args = _cfg(tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("Workers abroad\n" + BODY, encoding="utf-8")
    proc = run_newsmon(*args, "match", "--text", "--json", "--explain", str(doc))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    (m,) = [m for m in out["matches"] if m["topic"] == "nk-labour"]
    assert m["matched"] is True
    assert {k["tag"] for k in m["keywords"]} == {"student visa", "Kursk"}
    assert out["explanation"]
    plain = run_newsmon(*args, "match", "--text", str(doc))
    assert "nk-labour: MATCH" in plain.stdout
    missing = run_newsmon(*args, "match", "--text", "--topic", "nope", str(doc))
    assert missing.returncode == 2


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    args = _cfg(tmp_path)
    up = run_newsmon(*args, "db", "upgrade")
    assert up.returncode == 0 and "was empty" in up.stdout
    cur = run_newsmon(*args, "db", "current")
    assert cur.returncode == 0
    current, head = cur.stdout.strip().split("; ")
    assert current.split(": ")[1] == head.split(": ")[1]
