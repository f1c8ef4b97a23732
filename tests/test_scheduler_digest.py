"""Scheduled digests with an injected clock: catch-up after downtime, written once per
day and topic, a failed digest retried at the next start."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from monitor.config import AppConfig, load_config
from monitor.scheduler import Runner
from storage.models import DigestRun
from tests.conftest import FIXTURES, write_config


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _config(tmp_path: Path, directory: Path) -> AppConfig:
    toml = f"""
[digest]
time = "07:00"
timezone = "Europe/Berlin"
formats = ["md", "json"]
directory = "{directory}"
catch_up_days = 3
"""
    cfg = write_config(tmp_path / "config", "", toml, topics=FIXTURES / "topics_small.toml")
    return load_config(cfg, env={})


@pytest.fixture
def digests_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "digests"


def _start(config: AppConfig, url: str, clock: Clock) -> Runner:
    runner = Runner(config, url, clock=clock, out=open("/dev/null", "w"))  # noqa: SIM115
    runner.open()
    runner.prepare_digests()
    return runner


def _stop(runner: Runner) -> None:
    runner.release()
    runner.engine.dispose()
    runner.out.close()


def _catch_up(config: AppConfig, url: str, clock: Clock) -> None:
    """One start of `newsmon run` as far as digests go: catch up, then stop."""
    runner = _start(config, url, clock)
    asyncio.run(runner.catch_up())
    _stop(runner)


def _days(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(DigestRun.day, DigestRun.topic, DigestRun.status)).all()
    engine.dispose()
    out: dict[str, set[str]] = {}
    for day, topic, status in rows:
        out.setdefault(day, set()).add(f"{topic}:{status}")
    return out


def test_catch_up_after_downtime_writes_each_digest_once(
    tmp_path: Path, digests_dir: Path, database_url: str
) -> None:
    config = _config(tmp_path, digests_dir)
    clock = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # first start, 10:00 Berlin
    _catch_up(config, database_url, clock)
    assert sorted(p.name for p in digests_dir.iterdir()) == ["2026-11-19.json", "2026-11-19.md"]
    assert "nothing new" in (digests_dir / "2026-11-19.md").read_text().lower()

    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # down for four days
    _catch_up(config, database_url, clock)
    written = {p.stem for p in digests_dir.iterdir()}
    # The 20th fell due more than catch_up_days ago: skipped; the 21st to 23rd written.
    assert written == {"2026-11-19", "2026-11-21", "2026-11-22", "2026-11-23"}
    days = _days(database_url)
    assert set(days) == written
    assert days["2026-11-23"] == {"nk-labour:ok", "trams:ok"}

    stamp = (digests_dir / "2026-11-23.md").stat().st_mtime_ns
    clock.now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)  # restarted: nothing to redo
    runner = _start(config, database_url, clock)
    asyncio.run(runner.catch_up())
    assert runner.digests is not None
    assert runner.digests.produce(date(2026, 11, 23)).status == "skipped"
    _stop(runner)
    assert (digests_dir / "2026-11-23.md").stat().st_mtime_ns == stamp
    engine = create_engine(database_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(DigestRun)) == 8
    engine.dispose()


def test_digest_job_writes_yesterday_in_the_digest_zone(
    tmp_path: Path, digests_dir: Path, database_url: str
) -> None:
    config = _config(tmp_path, digests_dir)
    # 23:30 UTC on the 26th is 00:30 on the 27th in Berlin: "yesterday" is the 26th.
    clock = Clock(datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
    runner = _start(config, database_url, clock)
    asyncio.run(runner.digest_job())
    _stop(runner)
    assert {p.stem for p in digests_dir.iterdir()} == {"2026-11-26"}


def test_failed_digest_is_recorded_and_retried_at_next_start(
    tmp_path: Path, digests_dir: Path, database_url: str
) -> None:
    config = _config(tmp_path, digests_dir)
    digests_dir.write_text("a file where the directory should be")
    clock = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    _catch_up(config, database_url, clock)
    assert _days(database_url) == {"2026-11-19": {"nk-labour:failed", "trams:failed"}}

    digests_dir.unlink()
    clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    _catch_up(config, database_url, clock)
    assert _days(database_url) == {"2026-11-19": {"nk-labour:ok", "trams:ok"}}
    assert (digests_dir / "2026-11-19.json").exists()


def test_a_new_topic_rewrites_recent_days_without_mailing_them_again(
    tmp_path: Path, digests_dir: Path, database_url: str
) -> None:
    config = _config(tmp_path, digests_dir)
    clock = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    _catch_up(config, database_url, clock)

    topics = (
        FIXTURES / "topics_small.toml"
    ).read_text() + '\n[[topic]]\nname = "ferries"\nquery = "ferry"\n'
    (config.directory / "topics.toml").write_text(topics)
    config = load_config(config.directory, env={})
    clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    runner = _start(config, database_url, clock)
    assert runner.digests is not None
    outcome = runner.digests.produce(date(2026, 11, 19))
    _stop(runner)
    assert outcome.status == "ok" and not outcome.emailed
    assert "new topic(s) ferries" in outcome.detail
    assert "ferries" in (digests_dir / "2026-11-19.md").read_text()
    assert _days(database_url)["2026-11-19"] == {"nk-labour:ok", "trams:ok", "ferries:ok"}


def test_scheduled_digest_is_e_mailed_once(tmp_path: Path, digests_dir: Path) -> None:
    from aiosmtpd.controller import Controller

    from tests.test_digest_mail import Inbox, free_port

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        toml = f"""
[digest]
timezone = "Europe/Berlin"
formats = ["md"]
directory = "{digests_dir}"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from_addr = "newsmon <newsmon@example.org>"
to_addrs = ["desk@example.org"]
timeout = 10
"""
        directory = write_config(tmp_path / "c", "", toml, topics=FIXTURES / "topics_small.toml")
        config = load_config(directory, env={})
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
        clock = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        for _ in range(2):  # a restart the same day does not mail it again
            _catch_up(config, url, clock)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    _, rcpt, msg = inbox.messages[0]
    assert rcpt == ["desk@example.org"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
