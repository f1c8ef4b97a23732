"""Digest rendering: golden files per format, escaping, Atom validity, CSV/JSON shape.

Regenerate the golden files after an intended change with
``NEWSMON_UPDATE_GOLDEN=1 pytest tests/test_digest_render.py`` and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree, html

from monitor.digest_model import Digest, DigestStory, DigestTopic, Entry
from monitor.digest_render import CSV_COLUMNS, FORMATS, render_digest
from tests.digest_testdata import END, NOW, SCRIPT_TITLE, START, fixed_digest

GOLDEN = Path(__file__).parent / "golden" / "digest"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Digest:
    return fixed_digest(f"sqlite:///{tmp_path_factory.mktemp('digest') / 'd.db'}")


def empty_digest() -> Digest:
    return Digest(
        start=START, end=END, generated_at=NOW, topics=(DigestTopic("nk-workers"),), tz=UTC
    )


def one_story_digest(**fields: Any) -> Digest:
    values: dict[str, Any] = {
        "article_id": 1, "title": "t", "url": "https://a.example/", "source": "s",
        "site_name": None, "published": None, "first_seen": START, "language": "en",
        "score": 1.0, "tags": (), "snippet": "",
    }  # fmt: skip
    entry = Entry(**{**values, **fields})
    story = DigestStory(None, entry, rank=1)
    return Digest(START, END, NOW, topics=(DigestTopic("t", (story,)),), tz=UTC)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("NEWSMON_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden file {path}; set NEWSMON_UPDATE_GOLDEN=1"
    with path.open(encoding="utf-8", newline="") as fh:
        assert text == fh.read(), f"{name} differs from golden"


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(digest: Digest, fmt: str) -> None:
    check_golden(f"digest.{fmt}", render_digest(digest, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_empty(fmt: str) -> None:
    check_golden(f"empty.{fmt}", render_digest(empty_digest(), fmt))


@pytest.mark.parametrize("fmt", ["md", "html", "txt", "atom"])
def test_empty_digest_says_so(fmt: str) -> None:
    assert "Nothing new" in render_digest(empty_digest(), fmt)


def test_empty_json_and_csv() -> None:
    data = json.loads(render_digest(empty_digest(), "json"))
    assert data["empty"] is True and data["story_count"] == 0
    assert render_digest(empty_digest(), "csv") == ",".join(CSV_COLUMNS) + "\r\n"


def test_html_escapes_every_text(digest: Digest) -> None:
    page = render_digest(digest, "html")
    assert "<script>" not in page and "<img" not in page and "<b>bold" not in page
    tree = html.fromstring(page)
    assert tree.xpath("//script") == [] and tree.xpath("//img") == []
    titles = [a.text_content() for a in tree.xpath("//h3/a")]
    assert SCRIPT_TITLE in titles
    marks = [m.text_content() for m in tree.xpath("//mark")]
    assert "student visas" in marks and "Курск" in marks
    assert all(a.get("href", "").startswith("https://") for a in tree.xpath("//a"))


def test_html_is_self_contained(digest: Digest) -> None:
    tree = html.fromstring(render_digest(digest, "html"))
    assert tree.xpath("//link") == [] and tree.xpath("//img") == []
    assert tree.xpath("//meta[@name='viewport']")


def test_unsafe_link_and_control_characters_are_neutralised() -> None:
    bad = one_story_digest(title="Bad\x00 \x1btitle", url="javascript:alert(1)", snippet="x\x0by")
    page = render_digest(bad, "html")
    assert "javascript:" not in page and "\x00" not in page and 'href="#"' in page
    atom = render_digest(bad, "atom")
    etree.fromstring(atom.encode())  # well-formed despite the control characters
    assert "javascript:" not in render_digest(bad, "md")


def test_atom_round_trips_through_feedparser(digest: Digest) -> None:
    feed = feedparser.parse(render_digest(digest, "atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == digest.story_count == 5
    first = feed.entries[0]
    assert first.title == "North Korean workers sent to Russia as students"
    assert first.link == "https://www.bbc.example/news/world-1"
    assert first.id == "urn:newsmon:digest:nk-workers:story-1"
    assert "<strong>student visas</strong>" in first.content[0].value
    assert "Deutsche Welle" in first.content[0].value
    titles = [e.title for e in feed.entries]
    assert SCRIPT_TITLE in titles
    assert feed.entries[2].link == "https://markup.example/a?x=1&y=2"


def test_atom_structure(digest: Digest) -> None:
    root = etree.fromstring(render_digest(digest, "atom").encode())
    assert root.tag == f"{ATOM}feed"
    for child in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{child}") is not None
    entries = root.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(ids) == len(set(ids)) == 5
    for e in entries:
        for child in ("id", "title", "updated"):
            assert e.findtext(f"{ATOM}{child}"), child
        datetime.fromisoformat(e.findtext(f"{ATOM}updated").replace("Z", "+00:00"))
        assert e.find(f"{ATOM}link[@rel='alternate']") is not None


def test_atom_empty_is_valid() -> None:
    feed = feedparser.parse(render_digest(empty_digest(), "atom"))
    assert not feed.bozo and len(feed.entries) == 1
    assert feed.entries[0].title.startswith("Nothing new")


def test_csv_columns_and_rows(digest: Digest) -> None:
    rows = list(csv.DictReader(io.StringIO(render_digest(digest, "csv"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    leads = [r for r in rows if r["role"] == "lead"]
    assert len(leads) == 5 and len(rows) == 5 + 3 + 1
    assert {r["article_id"] for r in rows if r["story_key"] == "story-1"} == {"1", "2", "3", "4"}
    markup = next(r for r in leads if r["article_id"] == "6")
    assert markup["title"] == SCRIPT_TITLE


def test_csv_neutralises_formulas() -> None:
    d = one_story_digest(
        title='=HYPERLINK("http://x")', source="@src", tags=("-tag",), snippet="+1"
    )
    row = next(csv.DictReader(io.StringIO(render_digest(d, "csv"))))
    assert row["title"].startswith("'=") and row["outlet"] == "'@src"
    assert row["tags"] == "'-tag" and row["snippet"] == "'+1"


def test_json_for_machines(digest: Digest) -> None:
    data = json.loads(render_digest(digest, "json"))
    assert data["schema"] == "newsmon-digest/1"
    assert data["window"] == {
        "start": "2026-11-25T00:00:00Z",
        "end": "2026-11-26T00:00:00Z",
        "timezone": "UTC",
        "label": "2026-11-25",
    }
    nk = data["topics"][0]
    story = nk["stories"][0]
    e = story["entry"]
    assert e["snippet"][slice(*e["highlights"][0])] == "North Korean workers"
    assert [c["outlet"] for c in story["also_reported_by"]] == [
        "Yahoo News",
        "Deutsche Welle",
        "bg-news",
    ]
    assert nk["stories"][3]["follow_up"] is True


def test_markdown_escapes_titles(digest: Digest) -> None:
    md = render_digest(digest, "md")
    assert r"\<script\>" in md and "<script>" not in md


def test_user_template_overrides(tmp_path: Path, digest: Digest) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ digest.story_count }} stories\n")
    assert render_digest(digest, "txt", tmp_path) == "5 stories\n"
    assert "<!DOCTYPE html>" in render_digest(digest, "html", tmp_path)  # others built in
    assert "== nk-workers" in render_digest(digest, "txt", tmp_path / "missing")


def test_times_shown_in_the_digest_zone(digest: Digest) -> None:
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    local = replace(digest, tz=ZoneInfo("Asia/Seoul"))
    text = render_digest(local, "txt")
    assert "2026-11-25 09:00 – 2026-11-26 09:00 (KST)" in text
    assert "2026-11-25 16:30" in text  # BBC published 07:30 UTC


def test_unknown_format(digest: Digest) -> None:
    with pytest.raises(ValueError, match="unknown digest format 'pdf'"):
        render_digest(digest, "pdf")
