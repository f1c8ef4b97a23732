"""Configuration: every bad file stops the command with one clear line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config
from tests.conftest import FIXTURES, run_newsmon, write_config

TOPICS = FIXTURES / "topics_small.toml"
GOOD_SOURCE = '[[source]]\nname = "a"\nurl = "https://example.org/feed.xml"\n'


def _config(
    tmp_path: Path, sources: str = GOOD_SOURCE, newsmon: str = "", topics: str | None = None
) -> Path:
    d = write_config(tmp_path / "cfg", sources, newsmon, topics=TOPICS)
    if topics is not None:
        (d / "topics.toml").write_text(topics, encoding="utf-8")
    return d


def test_good_config_loads(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path), env={})
    assert [s.name for s in cfg.sources] == ["a"]
    assert cfg.settings.crawl.concurrent_requests_per_domain == 2
    assert [t.name for t in cfg.topics] == ["nk-labour", "trams"]


def test_env_references_are_expanded(tmp_path: Path) -> None:
    d = _config(tmp_path, newsmon='[database]\nurl = "${DB}"\n')
    assert load_config(d, env={"DB": "sqlite:///x.db"}).settings.database.url == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="environment variable DB is not set"):
        load_config(d, env={})


BAD = [
    ("unknown key", {"newsmon": "[crawl]\nspeed = 3\n"}, "newsmon.toml: crawl.speed: unknown key"),
    (
        "wrong type",
        {"newsmon": '[crawl]\ndownload_timeout = "soon"\n'},
        "newsmon.toml: crawl.download_timeout:",
    ),
    (
        "negative",
        {"newsmon": "[crawl]\ndownload_timeout = -1\n"},
        "crawl.download_timeout: Input should be greater than 0",
    ),
    ("bad toml", {"newsmon": "[crawl\n"}, "newsmon.toml: not valid TOML"),
    (
        "bad url",
        {"sources": '[[source]]\nname = "a"\nurl = "ftp://x/feed"\n'},
        "sources.toml: source[0].url: not an http(s) URL",
    ),
    ("missing url", {"sources": '[[source]]\nname = "a"\n'}, "source[0].url: Field required"),
    ("duplicate names", {"sources": GOOD_SOURCE + GOOD_SOURCE}, "duplicate source name 'a'"),
    (
        "bad name",
        {"sources": '[[source]]\nname = "a b"\nurl = "https://x.org/"\n'},
        "source[0].name:",
    ),
    (
        "unknown kind",
        {"sources": '[[source]]\nname = "a"\nkind = "telepathy"\nurl = "https://x.org/"\n'},
        "source[0].kind:",
    ),
    ("bad query", {"topics": '[[topic]]\nname = "t"\nquery = \'("a" AND\'\n'}, "topic[0].query:"),
    (
        "duplicate topics",
        {"topics": '[[topic]]\nname = "t"\nquery = "a"\n[[topic]]\nname = "t"\nquery = "b"\n'},
        "duplicate topic name 't'",
    ),
]


@pytest.mark.parametrize(("case", "files", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_is_one_clear_error(
    tmp_path: Path, case: str, files: dict[str, str], message: str
) -> None:
    d = _config(
        tmp_path,
        sources=files.get("sources", GOOD_SOURCE),
        newsmon=files.get("newsmon", ""),
        topics=files.get("topics"),
    )
    with pytest.raises(ConfigError) as info:
        load_config(d, env={})
    assert message in str(info.value)


def test_bad_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    d = _config(tmp_path, newsmon="[crawl]\nspeed = 3\n")
    db = tmp_path / "never.db"
    proc = run_newsmon("--config", str(d), "--db", f"sqlite:///{db}", "crawl")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"newsmon: configuration error: {d / 'newsmon.toml'}: crawl.speed: unknown key"
    ]
    assert not db.exists()


def test_missing_config_dir_exits_2(tmp_path: Path) -> None:
    proc = run_newsmon("--config", str(tmp_path / "nope"), "articles")
    assert proc.returncode == 2
    assert "configuration directory not found" in proc.stderr


def test_init_writes_a_loadable_starter(tmp_path: Path) -> None:
    target = tmp_path / "starter"
    proc = run_newsmon("init", str(target))
    assert proc.returncode == 0, proc.stderr
    cfg = load_config(target, env={})
    assert cfg.sources and cfg.topics
    again = run_newsmon("init", str(target))
    assert again.returncode == 2 and "already has" in again.stderr
