"""`newsmon digest` (handler and arguments), write_digest_files and day windows."""

from __future__ import annotations

import argparse
import io
import json
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.commands import digest as command
from monitor.commands.base import CommandContext
from monitor.digest import day_window, write_digest_files
from storage.engine import open_database, session_factory
from tests.digest_testdata import DAY, NOW, TOPICS, make_database
from tests.test_digest_mail import Inbox, smtp  # noqa: F401  (the SMTP server fixture)

DAY_UTC = ("--date", "2026-11-25", "--timezone", "UTC")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return make_database(f"sqlite:///{tmp_path / 'd.db'}")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="newsmon")
    command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["digest", *argv])


def run(db_url: str, tmp_path: Path, *argv: str, smtp_settings: Any = None) -> tuple[int, str, str]:
    config = SimpleNamespace(
        directory=tmp_path / "config",
        topics=[SimpleNamespace(name=n) for n in TOPICS],
        settings=SimpleNamespace(smtp=smtp_settings),
    )
    out, err = io.StringIO(), io.StringIO()
    ctx = CommandContext(config=config, database_url=db_url, stdout=out, stderr=err)  # type: ignore[arg-type]
    try:
        code = command.run_digest(parse(*argv), ctx, now=NOW)
    finally:
        ctx.close()
    return code, out.getvalue(), err.getvalue()


def test_date_in_json(db_url: str, tmp_path: Path) -> None:
    code, out, _ = run(
        db_url, tmp_path, "--date", "2026-11-25", "--timezone", "UTC", "--format", "json"
    )
    data = json.loads(out)
    assert code == 0 and data["story_count"] == 5
    assert [t["name"] for t in data["topics"]] == list(TOPICS)


def test_default_is_today_and_says_nothing_new(db_url: str, tmp_path: Path) -> None:
    code, out, _ = run(db_url, tmp_path, "--timezone", "UTC")
    assert code == 0
    assert out.startswith("# newsmon digest — 2026-11-26")
    assert "Nothing new" in out


def test_date_in_another_zone(db_url: str, tmp_path: Path) -> None:
    # 2026-11-25 in Seoul is 2026-11-24T15:00Z .. 2026-11-25T15:00Z: 8 (15:00Z) is out.
    code, out, _ = run(
        db_url, tmp_path, "--date", "2026-11-25", "--timezone", "Asia/Seoul", "--format", "json"
    )
    ids = [s["entry"]["article_id"] for t in json.loads(out)["topics"] for s in t["stories"]]
    assert code == 0 and sorted(ids) == [1, 6]


def test_since_until_window(db_url: str, tmp_path: Path) -> None:
    code, out, _ = run(
        db_url,
        tmp_path,
        "--since",
        "2026-11-25T10:00",
        "--until",
        "2026-11-25T13:00",
        "--timezone",
        "UTC",
        "--format",
        "csv",
        "--topic",
        "nk-workers",
    )
    leads = [line.split(",")[4] for line in out.splitlines()[1:] if ",lead," in line]
    # Story 1's first article (08:00) is outside: its best in-window copy leads.
    assert code == 0 and leads == ["2", "6"]


def test_output_file(db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "out" / "d.html"
    code, out, err = run(
        db_url,
        tmp_path,
        *DAY_UTC,
        "--format",
        "html",
        "-o",
        str(target),
    )
    assert code == 0 and out == "" and "wrote" in err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_user_templates_from_config_dir(db_url: str, tmp_path: Path) -> None:
    templates = tmp_path / "config" / "templates"
    templates.mkdir(parents=True)
    (templates / "digest.md.j2").write_text("custom {{ digest.story_count }}\n")
    code, out, _ = run(db_url, tmp_path, "--date", "2026-11-25", "--timezone", "UTC")
    assert code == 0 and out == "custom 5\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--topic", "nope"], "unknown topic 'nope'"),
        (["--until", "2026-11-25"], "--until needs --since"),
        (["--since", "2026-11-25", "--until", "2026-11-24"], "empty window"),
        (["--email"], "needs an [smtp] table"),
    ],
)
def test_usage_errors(db_url: str, tmp_path: Path, argv: list[str], message: str) -> None:
    code, out, err = run(db_url, tmp_path, *argv)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--date", "25/11/2026"],
        ["--timezone", "Mars/Base"],
        ["--format", "pdf"],
        ["--date", "2026-11-25", "--since", "2026-11-25"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


def test_email(db_url: str, tmp_path: Path, smtp: tuple[Inbox, int]) -> None:  # noqa: F811
    from monitor.mailer import SmtpSettings

    inbox, port = smtp
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        from_addr="n@example.org",
        to_addrs=["a@example.org"],
    )
    code, out, err = run(
        db_url,
        tmp_path,
        *DAY_UTC,
        "--email",
        smtp_settings=settings,
    )
    assert code == 0 and out == "" and "e-mailed to 1 recipient" in err
    assert len(inbox.messages) == 1


def test_write_digest_files(db_url: str, tmp_path: Path) -> None:
    engine = open_database(db_url)
    out_dir = tmp_path / "digests"
    out_dir.mkdir()
    with session_factory(engine)() as session:
        _, paths = write_digest_files(
            session,
            DAY,
            ["md", "html", "atom", "csv", "json"],
            out_dir,
            tz=UTC,
            topics=TOPICS,
            now=NOW,
        )
        with pytest.raises(ValueError, match="unknown digest format"):
            write_digest_files(session, date(2026, 11, 24), ["md", "pdf"], out_dir, tz=UTC)
    engine.dispose()
    assert [p.name for p in paths] == [
        f"2026-11-25.{e}" for e in ("md", "html", "atom", "csv", "json")
    ]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in paths)
    assert json.loads(paths[-1].read_text(encoding="utf-8"))["story_count"] == 5


def test_day_window_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = day_window(date(2026, 10, 25), berlin)  # clocks go back: 25 hours
    assert start == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert (end - start).total_seconds() == 25 * 3600
    start, end = day_window(date(2026, 3, 29), berlin)  # clocks go forward: 23 hours
    assert (end - start).total_seconds() == 23 * 3600


def test_newsmon_digest_subprocess(db_url: str, tmp_path: Path) -> None:
    """The real CLI: the configured topic is listed, stale topics are not."""
    from tests.conftest import run_newsmon, write_config

    config = write_config(tmp_path / "cfg", "")
    out = tmp_path / "d.json"
    result = run_newsmon(
        "--config",
        str(config),
        "--db",
        db_url,
        "digest",
        *DAY_UTC,
        "--format",
        "json",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    configured = tomllib.loads((config / "topics.toml").read_text(encoding="utf-8"))
    assert [t["name"] for t in data["topics"]] == [t["name"] for t in configured["topic"]]
    assert data["empty"] is True
    result = run_newsmon("--config", str(config), "--db", db_url, "digest", "--topic", "x")
    assert result.returncode == 2 and "unknown topic 'x'" in result.stderr
