"""A fixed, deterministic archive for the digest tests (invented articles, no real text).

The window is 2026-11-25 (UTC). In it: a story with a rewrite, a translation, an exact
duplicate and a copy seen after the window; a title with markup; a follow-up of an older
story; an article without a story; a non-match and an older article that must not show.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.digest import build_digest
from monitor.digest_model import Digest
from storage.engine import open_database, session_factory
from storage.models import Article, Match, Story

DAY = date(2026, 11, 25)
START = datetime(2026, 11, 25, tzinfo=UTC)
END = datetime(2026, 11, 26, tzinfo=UTC)
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
TOPICS = ("nk-workers", "it-workers", "gulf")
# Markup in a title or snippet must show as text; if it ran, it would mark the page.
SCRIPT_TITLE = (
    '<script>document.documentElement.setAttribute("data-pwned","1")</script>'
    ' Workers & "visas" <b>bold</b>'
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def kw(tag: str, count: int, snippet: str, *words: str) -> dict[str, Any]:
    """A keyword hit as the matcher stores it: spans of ``words`` in ``snippet``."""
    spans = []
    for word in words:
        start = snippet.index(word)
        spans.append([start, start + len(word)])
    return {
        "tag": tag,
        "count": count,
        "positions": [s[0] for s in spans],
        "snippet": snippet,
        "highlights": spans,
    }


def _article(n: int, **fields: Any) -> Article:
    url = fields.pop("url", f"https://news{n}.example/article/{n}")
    defaults: dict[str, Any] = {
        "url_hash": hashlib.sha1(url.encode()).hexdigest(),
        "canonical_url": url,
        "url": url,
        "source": f"source-{n}",
        "text": "Invented test text.",
        "fingerprint": hashlib.sha1(f"fp{n}".encode()).hexdigest(),
    }
    defaults.update(fields)
    return Article(id=n, **defaults)


def _match(
    article_id: int,
    topic: str,
    score: float,
    snippet: str,
    keywords: list[dict[str, Any]],
    matched: bool = True,
) -> Match:
    return Match(
        article_id=article_id,
        topic=topic,
        matched=matched,
        score=score,
        keywords=keywords,
        snippet=snippet,
        computed_at=NOW,
    )


SNIP_A1 = (
    "North Korean workers arrived in Russia on student visas to work on "
    "construction sites, the report says."
)
SNIP_B1 = (
    "Officials said <img src=x onerror=\"document.body.setAttribute('data-pwned','2')\"> "
    'the workers & "students" left.'
)


def populate(session: Session) -> None:
    """Insert the fixed archive (ids are explicit so every run is identical)."""
    session.add_all(
        [
            Story(id=1, title="Workers on student visas", first_seen=at(25, 8), size=5),
            Story(id=2, title="Seafood plant", first_seen=at(20, 9), size=2),
            Story(id=3, title="Markup story", first_seen=at(25, 11), size=1),
        ]
    )
    session.flush()
    session.add_all(
        [
            _article(
                1,
                url="https://www.bbc.example/news/world-1",
                source="bbc",
                site_name="BBC News",
                title="North Korean workers sent to Russia as students",
                language="en",
                published=at(25, 7, 30),
                first_seen=at(25, 8),
                story_id=1,
            ),
            _article(
                2,
                url="https://dw.example/de/nordkorea-arbeiter",
                source="dw",
                site_name="Deutsche Welle",
                title="Nordkoreanische Arbeiter in Russland",
                language="de",
                published=at(25, 9, 40),
                first_seen=at(25, 10),
                story_id=1,
            ),
            _article(
                3,
                url="https://bg.example/novini/123",
                source="bg-news",
                site_name=None,
                title="Севернокорейски работници в Русия",
                language="bg",
                published=None,
                first_seen=at(25, 12),
                story_id=1,
            ),
            _article(
                4,
                url="https://yahoo.example/news/nk-workers",
                source="yahoo",
                site_name="Yahoo News",
                title="North Korean workers sent to Russia as students",
                language="en",
                published=at(25, 8, 50),
                first_seen=at(25, 9),
                story_id=1,
                duplicate_of_id=1,
            ),
            _article(
                5,
                url="https://late.example/copy",
                source="late",
                site_name="Late Times",
                title="Late copy",
                language="en",
                published=at(25, 23),
                first_seen=at(26, 2),
                story_id=1,
            ),
            _article(
                6,
                url="https://markup.example/a?x=1&y=2",
                source="markup-news",
                site_name=None,
                title=SCRIPT_TITLE,
                language="en",
                published=at(25, 10, 15),
                first_seen=at(25, 11),
                story_id=3,
            ),
            _article(
                7,
                url="https://seafood.example/2026/11/20/plant",
                source="seafood",
                site_name="Seafood Weekly",
                title="Plant hires workers from abroad",
                language="en",
                published=at(20, 8),
                first_seen=at(20, 9),
                story_id=2,
            ),
            _article(
                8,
                url="https://ko.example/news/8",
                source="ko-daily",
                site_name="코리아 데일리",
                title="중국 수산물 공장의 북한 노동자",
                language="ko",
                published=at(25, 14),
                first_seen=at(25, 15),
                story_id=2,
            ),
            _article(
                9,
                url="https://ru.example/news/9",
                source="ru-news",
                site_name="Новости",
                title="Рабочие из КНДР на стройках Курска",
                language="ru",
                published=at(25, 16),
                first_seen=at(25, 16, 30),
                story_id=None,
            ),
            _article(
                10,
                url="https://noise.example/10",
                source="noise",
                site_name="Noise",
                title="Student visas in general",
                language="en",
                published=at(25, 13),
                first_seen=at(25, 13),
                story_id=None,
            ),
            _article(
                11,
                url="https://old.example/11",
                source="old",
                site_name="Old",
                title="Yesterday's story",
                language="en",
                published=at(24, 10),
                first_seen=at(24, 10),
                story_id=None,
            ),
            _article(
                12,
                url="https://it.example/12",
                source="it-watch",
                site_name="IT Watch",
                title="IT workers under false identities",
                language="en",
                published=at(25, 18),
                first_seen=at(25, 18),
                story_id=None,
            ),
        ]
    )
    session.flush()
    session.get(Story, 1).first_article_id = 1  # type: ignore[union-attr]
    session.get(Story, 2).first_article_id = 7  # type: ignore[union-attr]
    session.get(Story, 3).first_article_id = 6  # type: ignore[union-attr]
    snip_ru = "Рабочие из КНДР восстанавливают Курск."
    snip_ko = "북한 노동자들이 중국 수산물 공장에서 일한다."
    snip_it = "Remote IT workers used false identities to get hired."
    session.add_all(
        [
            _match(
                1,
                "nk-workers",
                4.2,
                SNIP_A1,
                [
                    kw("student visa", 2, SNIP_A1, "student visas"),
                    kw("North Korean workers", 3, SNIP_A1, "North Korean workers"),
                    kw("construction", 1, SNIP_A1, "construction"),
                ],
            ),
            _match(
                2,
                "nk-workers",
                3.1,
                "Arbeiter aus Nordkorea kamen mit Studentenvisa.",
                [
                    kw(
                        "student visa",
                        1,
                        "Arbeiter aus Nordkorea kamen mit Studentenvisa.",
                        "Studentenvisa",
                    ),
                ],
            ),
            _match(3, "nk-workers", 2.0, "Работници от Северна Корея.", []),
            _match(4, "nk-workers", 4.2, SNIP_A1, []),
            _match(6, "nk-workers", 2.5, SNIP_B1, [kw("student visa", 1, SNIP_B1, "students")]),
            _match(7, "nk-workers", 2.2, "Plant hires workers.", []),
            _match(
                8,
                "nk-workers",
                1.8,
                snip_ko,
                [
                    kw("seafood", 1, snip_ko, "수산물"),
                    kw("North Korean workers", 1, snip_ko, "북한 노동자"),
                ],
            ),
            _match(
                9,
                "nk-workers",
                3.0,
                "",
                [
                    kw("Kursk", 2, snip_ru, "Курск"),
                    kw("North Korean workers", 1, snip_ru, "Рабочие из КНДР"),
                ],
            ),
            _match(10, "nk-workers", 0.4, "Student visas in general.", [], matched=False),
            _match(11, "nk-workers", 3.3, "Old.", []),
            _match(
                12,
                "it-workers",
                1.2,
                snip_it,
                [kw("false identity", 1, snip_it, "false identities")],
            ),
        ]
    )
    session.flush()


def fixed_digest(url: str) -> Digest:
    """The digest of DAY (UTC) over the fixed archive created at ``url``."""
    engine = open_database(make_database(url))
    try:
        with session_factory(engine)() as session:
            return build_digest(session, START, END, topics=TOPICS, tz=UTC, now=NOW)
    finally:
        engine.dispose()


def make_database(url: str) -> str:
    """Create the schema at ``url`` and insert the archive; return ``url``."""
    engine = open_database(url)
    with session_factory(engine)() as session, session.begin():
        populate(session)
    engine.dispose()
    return url
