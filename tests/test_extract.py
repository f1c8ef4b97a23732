from __future__ import annotations

from datetime import UTC, datetime

from monitor.extract import extract_article
from tests.conftest import FIXTURES


def _page(name: str) -> str:
    return (
        (FIXTURES / "site" / name)
        .read_text(encoding="utf-8")
        .replace("{{BASE}}", "https://example.org")
    )


def test_extracts_text_and_metadata_without_clutter() -> None:
    a = extract_article(_page("news/a1.html"), url="https://example.org/news/a1.html?x=1")
    assert a is not None
    assert a.title == "North Korean workers sent to Russia on student visas"
    assert a.published == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert a.authors == ("Jane Roe",)
    assert a.language == "en"
    assert a.canonical_url == "https://example.org/news/a1.html"
    assert a.site_name == "Example Daily"
    assert "resolution 2397" in a.text
    for clutter in ("Accept all cookies", "Related stories", "reader42", "All rights reserved"):
        assert clutter not in a.text


def test_page_without_article_text_gives_none() -> None:
    assert extract_article(_page("news/broken.html")) is None
    assert extract_article("") is None
    assert extract_article(b"\x00\x01\x02 binary") is None


def test_language_detected_from_text_when_not_declared() -> None:
    html = (
        "<html><body><article><h1>Рабочие из КНДР</h1>"
        + "<p>Северокорейские рабочие прибыли в Россию по студенческим визам, "
        "сообщают источники в миграционной службе. Они работают на стройках.</p>"
        * 3
        + "</article></body></html>"
    )
    a = extract_article(html)
    assert a is not None and a.language == "ru"


def test_bytes_with_broken_utf8_do_not_crash() -> None:
    raw = _page("news/a2.html").encode("utf-8") + b"\xff\xfe broken tail"
    a = extract_article(raw)
    assert a is not None and "Dandong" in a.text
