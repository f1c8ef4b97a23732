"""sources.toml: every kind validates with clear errors; the shipped defaults parse, are
of the right kind and cover the default topic's languages; the starter copy is identical."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.config import ConfigError, load_config
from monitor.source_config import SourceConfig
from tests.conftest import REPO, write_config


def _load(tmp_path: Path, sources: str) -> list[SourceConfig]:
    return load_config(write_config(tmp_path / "cfg", sources)).sources


def test_each_kind_validates(tmp_path: Path) -> None:
    sources = _load(
        tmp_path,
        """
[[source]]
name = "s"
kind = "sitemap"
url = "https://example.org/sitemap_index.xml.gz"
max_depth = 1
[[source]]
name = "r"
kind = "robots"
url = "https://example.org/"
[[source]]
name = "sec"
kind = "section"
url = "https://example.org/world/"
allow = ["/20\\\\d\\\\d/"]
deny = ["/video/"]
follow = ["/world/asia/"]
max_pages = 5
[[source]]
name = "g"
kind = "google_news"
query = "북한 노동자"
language = "ko"
country = "KR"
[[source]]
name = "d"
kind = "gdelt"
query = "\\"north korean workers\\""
timespan = "3d"
language = "ru"
""",
    )
    by = {s.name: s for s in sources}
    assert by["s"].depth_limit == 1 and by["r"].depth_limit == 2
    assert by["r"].robots_url() == "https://example.org/robots.txt"
    assert by["sec"].max_pages == 5 and by["sec"].depth_limit == 1
    google = parse_qs(urlsplit(by["g"].url).query)
    assert google["q"] == ["북한 노동자"] and google["gl"] == ["KR"]
    assert by["g"].wanted_languages == ["ko"]
    gdelt = parse_qs(urlsplit(by["d"].url).query)
    assert gdelt["timespan"] == ["3d"] and gdelt["format"] == ["json"]
    assert by["d"].delay == 5.0 and by["s"].delay == 0.0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('kind = "gdelt"', "source[0]: kind 'gdelt' needs a query"),
        ('kind = "section"\nurl = "https://x.org/"\nallow = ["(unclosed"]', "bad URL pattern"),
        ('kind = "feed"\nurl = "https://x.org/"\nfollow = ["/a/"]', "for kind 'section'"),
        ('kind = "sitemap"\nurl = "https://x.org/"\nmax_depth = 9', "source[0].max_depth"),
        ('url = "https://x.org/"\nlanguages = ["english!"]', "not a language code"),
        ('kind = "gdelt"\nquery = "x"\ntimespan = "forever"', "bad GDELT timespan"),
        ('kind = "rss"\nurl = "https://x.org/"', "source[0].kind"),
    ],
)
def test_bad_entries_name_the_problem(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, f'[[source]]\nname = "a"\n{entry}\n')
    assert message in str(err.value)
    assert "sources.toml" in str(err.value)


def test_shipped_sources_parse_and_are_of_the_right_kind() -> None:
    sources = load_config(REPO / "config").sources
    assert len(sources) >= 30
    for s in sources:
        parts = urlsplit(s.url)
        assert parts.scheme == "https", s.name
        if s.kind == "robots":
            assert parts.path in ("", "/") or parts.path.endswith("/"), s.name
        elif s.kind == "google_news":
            assert parts.hostname == "news.google.com" and s.query and s.language, s.name
        elif s.kind == "gdelt":
            assert parts.hostname == "api.gdeltproject.org" and s.query, s.name
            assert f"sourcelang:{_LANGUAGE_NAMES[s.language or '']}" in s.query, s.name
        elif s.kind == "section":
            assert s.allow, f"{s.name}: a section without allow patterns fetches every link"
        elif s.kind == "sitemap":
            assert "sitemap" in s.url, s.name
        else:
            assert s.kind == "feed", s.name
            assert any(m in s.url.lower() for m in ("rss", "feed", ".xml", ".rdf")), s.name
    languages = {s.language for s in sources}
    assert {"en", "ko", "ru", "ja", "zh"} <= languages
    for kind in ("google_news", "gdelt"):
        assert {s.language for s in sources if s.kind == kind} >= {"en", "ko", "ru", "ja", "zh"}


_LANGUAGE_NAMES = {"en": "english", "ko": "korean", "ru": "russian", "ja": "japanese"}
_LANGUAGE_NAMES["zh"] = "chinese"


def test_starter_sources_are_the_shipped_ones() -> None:
    shipped = (REPO / "config" / "sources.toml").read_bytes()
    assert (REPO / "monitor" / "starter" / "sources.toml").read_bytes() == shipped
