"""A table of bad configurations: each one stops newsmon with one line naming the file,
the key and the problem, exit code 2, and nothing written (no database, no file).

tests/test_config.py covers the first eleven cases (unknown key, wrong type, negative
timeout, bad TOML, ftp URL, missing URL, duplicate sources, bad name, unknown kind, bad
query, duplicate topics); this table adds the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import FIXTURES, run_newsmon

TOPICS = (FIXTURES / "topics_small.toml").read_text(encoding="utf-8")
SOURCE = '[[source]]\nname = "a"\nurl = "https://example.org/feed.xml"\n'
WATCHER = '[[watcher]]\nname = "desk"\nchannels = ["json://localhost/hook"]\n'


@dataclass(frozen=True)
class Bad:
    case: str
    file: str  # the file the message must name
    key: str  # the key it must name ("" for the whole file)
    problem: str  # a fragment of the problem it must state
    files: dict[str, str] = field(default_factory=dict)  # file name -> content
    dirs: tuple[str, ...] = ()  # files replaced by a directory: unreadable even for root
    missing: tuple[str, ...] = ()


def src(extra: str, url: str = "https://example.org/feed.xml") -> dict[str, str]:
    return {"sources.toml": f'[[source]]\nname = "a"\nurl = "{url}"\n{extra}\n'}


def newsmon(text: str) -> dict[str, str]:
    return {"newsmon.toml": text}


CASES = [
    Bad(
        "cron out of range",
        "newsmon.toml",
        "schedule.groups.default.cron",
        "not a crontab expression",
        newsmon('[schedule.groups.default]\ncron = "61 * * * *"\n'),
    ),
    Bad(
        "cron with four fields",
        "newsmon.toml",
        "schedule.groups.default.cron",
        "expected 5 fields",
        newsmon('[schedule.groups.default]\ncron = "*/5 * * *"\n'),
    ),
    Bad(
        "cron and interval both",
        "newsmon.toml",
        "schedule.groups.default",
        "either interval_minutes or cron",
        newsmon('[schedule.groups.default]\ncron = "0 * * * *"\ninterval_minutes = 5\n'),
    ),
    Bad(
        "unknown time zone",
        "newsmon.toml",
        "schedule.timezone",
        "Mars/Olympus_Mons",
        newsmon('[schedule]\ntimezone = "Mars/Olympus_Mons"\n'),
    ),
    Bad(
        "digest time not a time",
        "newsmon.toml",
        "digest.time",
        "25:00",
        newsmon('[digest]\ntime = "25:00"\n'),
    ),
    Bad(
        "digest format unknown",
        "newsmon.toml",
        "digest.formats",
        "pdf",
        newsmon('[digest]\nformats = ["pdf"]\n'),
    ),
    Bad(
        "unknown table",
        "newsmon.toml",
        "crawler",
        "unknown key",
        newsmon("[crawler]\ndownload_timeout = 3\n"),
    ),
    Bad(
        "database url not a string",
        "newsmon.toml",
        "database.url",
        "valid string",
        newsmon("[database]\nurl = 5\n"),
    ),
    Bad(
        "zero concurrency",
        "newsmon.toml",
        "crawl.concurrent_requests",
        "greater than or equal to 1",
        newsmon("[crawl]\nconcurrent_requests = 0\n"),
    ),
    Bad(
        "too many retries",
        "newsmon.toml",
        "crawl.retry_times",
        "less than or equal to 10",
        newsmon("[crawl]\nretry_times = 11\n"),
    ),
    Bad(
        "environment variable unset",
        "newsmon.toml",
        "database.url",
        "environment variable NEWSMON_TEST_UNSET_VAR is not set",
        newsmon('[database]\nurl = "${NEWSMON_TEST_UNSET_VAR}"\n'),
    ),
    Bad(
        "newsmon.toml is a directory",
        "newsmon.toml",
        "",
        "cannot read",
        dirs=("newsmon.toml",),
    ),
    Bad(
        "sources.toml is a directory",
        "sources.toml",
        "",
        "cannot read",
        dirs=("sources.toml",),
    ),
    Bad("topics.toml missing", "topics.toml", "", "file not found", missing=("topics.toml",)),
    Bad(
        "url without host",
        "sources.toml",
        "source[0].url",
        "not an http(s) URL",
        src("", "http:///feed"),
    ),
    Bad(
        "javascript url",
        "sources.toml",
        "source[0].url",
        "not an http(s) URL",
        src("", "javascript:alert(1)"),
    ),
    Bad(
        "url with a bad port",
        "sources.toml",
        "source[0].url",
        "port",
        src("", "https://example.org:99999/feed.xml"),
    ),
    Bad(
        "url with spaces in the host",
        "sources.toml",
        "source[0].url",
        "host",
        src("", "https://exa mple.org/feed.xml"),
    ),
    Bad(
        "enabled not a boolean",
        "sources.toml",
        "source[0].enabled",
        "boolean",
        src('enabled = "maybe"'),
    ),
    Bad(
        "max_age_days zero",
        "sources.toml",
        "source[0].max_age_days",
        "greater than 0",
        src("max_age_days = 0"),
    ),
    Bad(
        "single [source] table",
        "sources.toml",
        "source",
        "valid list",
        {"sources.toml": '[source]\nname = "a"\nurl = "https://x.org/"\n'},
    ),
    Bad(
        "search source without query",
        "sources.toml",
        "source[0]",
        "needs a query",
        {"sources.toml": '[[source]]\nname = "g"\nkind = "google_news"\n'},
    ),
    Bad("bad allow pattern", "sources.toml", "source[0].allow", "(", src('allow = ["(unclosed"]')),
    Bad(
        "sitemap depth too deep",
        "sources.toml",
        "source[0].max_depth",
        "less than or equal to 5",
        src('kind = "sitemap"\nmax_depth = 9'),
    ),
    Bad(
        "topic without query",
        "topics.toml",
        "topic[0].query",
        "Field required",
        {"topics.toml": '[[topic]]\nname = "t"\n'},
    ),
    Bad(
        "query with unbalanced quote",
        "topics.toml",
        "topic[0].query",
        "expected a closing",
        {"topics.toml": '[[topic]]\nname = "t"\nquery = \'"north korea\'\n'},
    ),
    Bad(
        "unknown topic in a watcher",
        "watchers.toml",
        "watcher[0].filter.topics[0]",
        "unknown topic 'space-race'",
        {"watchers.toml": WATCHER + '[watcher.filter]\ntopics = ["space-race"]\n'},
    ),
    Bad(
        "watcher without channels",
        "watchers.toml",
        "watcher[0].channels",
        "",
        {"watchers.toml": '[[watcher]]\nname = "desk"\nchannels = []\n'},
    ),
    Bad(
        "channel not a URL",
        "watchers.toml",
        "watcher[0].channels[0]",
        "not a channel URL",
        {"watchers.toml": '[[watcher]]\nname = "desk"\nchannels = ["just some text"]\n'},
    ),
    Bad(
        "duplicate watcher names",
        "watchers.toml",
        "watcher[1].name",
        "duplicate watcher name 'desk'",
        {"watchers.toml": WATCHER + WATCHER},
    ),
    Bad(
        "watchers.toml not TOML",
        "watchers.toml",
        "",
        "not valid TOML",
        {"watchers.toml": "[[watcher\n"},
    ),
]


def _write(directory: Path, bad: Bad) -> Path:
    directory.mkdir()
    files = {"newsmon.toml": "", "sources.toml": SOURCE, "topics.toml": TOPICS, **bad.files}
    for name, text in files.items():
        if name not in bad.missing and name not in bad.dirs:
            (directory / name).write_text(text, encoding="utf-8")
    for name in bad.dirs:
        (directory / name).mkdir()
    return directory


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("bad", CASES, ids=[c.case for c in CASES])
def test_bad_configuration_is_one_line_exit_2_nothing_written(
    bad: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSMON_TEST_UNSET_VAR", raising=False)
    monkeypatch.chdir(tmp_path)
    config = _write(tmp_path / "cfg", bad)
    before = _snapshot(tmp_path)
    db = tmp_path / "data" / "never.db"
    code = main(["--config", str(config), "--db", f"sqlite:///{db}", "crawl"])
    out, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    prefix = f"newsmon: configuration error: {config / bad.file}: "
    assert lines[0].startswith(prefix), lines[0]
    rest = lines[0].removeprefix(prefix)
    if bad.key:
        assert rest.startswith(f"{bad.key}: "), rest
    assert bad.problem in rest, rest
    assert out == ""
    assert _snapshot(tmp_path) == before  # no database, no directory, no digest, nothing


def test_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
    assert len({c.case for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "case", ["unknown topic in a watcher", "sources.toml is a directory", "cron out of range"]
)
def test_bad_configuration_as_a_separate_process(case: str, tmp_path: Path) -> None:
    """The same contract through the installed entry point, for every command family."""
    (bad,) = [c for c in CASES if c.case == case]
    config = _write(tmp_path / "cfg", bad)
    db = tmp_path / "never.db"
    for command in (["crawl"], ["articles"], ["digest"], ["run"]):
        proc = run_newsmon("--config", str(config), "--db", f"sqlite:///{db}", *command)
        assert proc.returncode == 2, (command, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and str(config / bad.file) in lines[0], (command, proc.stderr)
        assert not db.exists()
