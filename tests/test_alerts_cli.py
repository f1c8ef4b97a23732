"""watchers.toml validation and the `newsmon alerts` / `newsmon sources health` commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.alerts.watchers import load_alerts
from monitor.cli import main
from monitor.config import ConfigError
from storage.runs import ErrorRecord, SourceCounts, finish_run, start_run
from tests.alerts_data import sessions, store, story_text, story_title, watcher
from tests.alerts_receivers import Webhook, webhook_server
from tests.conftest import REPO, fixture_sources, write_config

TOPICS = ["nk-workers-abroad"]


def _watchers(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "watchers.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_default_config_sends_nothing() -> None:
    config = load_alerts(REPO / "config", TOPICS, env={})
    assert config.watchers and config.enabled == []


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h/x"]\nfilter = {topics = ["nope"]}',
            "watcher[0].filter.topics[0]",
            "unknown topic 'nope'",
        ),
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h/${UNSET_VAR_X}"]',
            "watcher[0].channels[0]",
            "environment variable UNSET_VAR_X is not set",
        ),
        (
            '[[watcher]]\nname = "a"\nchannels = ["nosuchscheme://h/x"]',
            "watcher[0].channels[0]",
            "not a channel URL Apprise understands",
        ),
        ('[[watcher]]\nname = "a"\nchannels = []', "watcher[0].channels", "at least 1"),
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h"]\npolicy = "sometimes"',
            "watcher[0].policy",
            "'immediate' or 'batched'",
        ),
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h"]\n'
            'quiet_hours = {start = "22:00", end = "07:00", timezone = "Mars/Olympus"}',
            "watcher[0].quiet_hours.timezone",
            "unknown time zone",
        ),
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h"]\ncolour = "red"',
            "watcher[0].colour",
            "unknown key",
        ),
        (
            '[[watcher]]\nname = "a"\nchannels = ["json://h"]\n[[watcher]]\nname = "a"\n'
            'channels = ["json://h"]',
            "",
            "duplicate watcher name 'a'",
        ),
    ],
)
def test_bad_watchers_name_file_key_and_problem(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_alerts(_watchers(tmp_path, toml), TOPICS, env={})
    assert err.value.file.endswith("watchers.toml")
    assert err.value.key == key and problem in err.value.problem


def test_secret_expanded_for_sending_masked_everywhere_else(tmp_path: Path) -> None:
    toml = '[[watcher]]\nname = "a"\nchannels = ["mailto://bob:${PW}@mail.example.org?to=x@example.org", "json://hooks.example/${TOKEN}"]'  # noqa: E501
    env = {"PW": "pa55word-secret", "TOKEN": "tok-12345-secret"}
    config = load_alerts(_watchers(tmp_path, toml), TOPICS, env=env)
    mail, hook = config.watchers[0].channels
    assert "pa55word-secret" in mail.url.get_secret_value()
    assert hook.url.get_secret_value() == "json://hooks.example/tok-12345-secret"
    assert hook.label == "json://hooks.example/${TOKEN}"
    assert "secret" not in mail.label and "bob:****@" in mail.label
    dumped = repr(config) + str(config.model_dump()) + config.model_dump_json()
    assert "pa55word-secret" not in dumped and "tok-12345-secret" not in dumped


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


def _config(tmp_path: Path, hook: Webhook) -> tuple[Path, str]:
    cfg = write_config(tmp_path / "cfg", fixture_sources("http://127.0.0.1:9"))
    slack = hook.url("/hooks/${HOOK_SECRET}", "slackhook+http")
    (cfg / "watchers.toml").write_text(
        f"""
[[watcher]]
name = "desk"
channels = ["{hook.url("/desk")}", "{slack}"]
retry = {{ max_attempts = 1 }}
health = ["failing"]
""",
        encoding="utf-8",
    )
    return cfg, f"sqlite:///{tmp_path / 'cli.db'}"


def test_alerts_commands(
    tmp_path: Path,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "hidden-value-42")
    cfg, db = _config(tmp_path, hook)
    base = ["--config", str(cfg), "--db", db]

    assert main([*base, "alerts", "test", "desk"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok ") == 2 and "${HOOK_SECRET}" in out and "hidden-value-42" not in out
    assert len(hook.accepted("/desk")) == 1
    assert hook.accepted("/hooks/hidden-value-42")
    assert main([*base, "alerts", "test", "nobody"]) == 2

    hook.plan("/desk", "fail")
    with sessions(db)() as session:
        desk = watcher("desk", hook.url("/desk"))
        store(
            session,
            [desk],
            None,
            outlet="bbc",
            url="https://bbc.example/9",
            title=story_title(3),
            text=story_text(3),
            first_seen=datetime.now(UTC),
        )
        session.commit()
    assert main([*base, "alerts", "deliver"]) == 0
    out = capsys.readouterr().out
    assert "1 new messages, 1 sent, 1 failed attempts, 1 given up" in out

    assert main([*base, "alerts", "list", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "error=500" in out
    assert "hidden-value-42" not in out and "sent" not in out.split("\n", 1)[1]

    assert main([*base, "alerts", "retry"]) == 0
    assert "1 failed deliveries queued again" in capsys.readouterr().out
    assert main([*base, "alerts", "list", "--pending"]) == 0
    assert "#1 pending" in capsys.readouterr().out
    assert main([*base, "alerts", "deliver"]) == 0
    assert len(hook.accepted("/desk")) == 2  # the test message, then the story


def test_sources_health_command(
    tmp_path: Path,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "hidden-value-42")
    cfg, db = _config(tmp_path, hook)
    factory = sessions(db)
    start = datetime.now(UTC) - timedelta(hours=10)
    for i in range(4):
        with factory() as session:
            failed = i > 0
            run = start_run(session, started=start + timedelta(hours=i))
            counts = [
                SourceCounts("example-daily", links_seen=10, fetched=2, new=2),
                SourceCounts(
                    "moved-feed",
                    errors=1 if failed else 0,
                    new=0 if failed else 3,
                    links_seen=0 if failed else 5,
                    errors_by_reason={"not-a-feed": 1},
                ),
            ]
            errors = [ErrorRecord("moved-feed", "http://x/", "not-a-feed", "HTML")] * failed
            finish_run(
                session,
                run.id,
                status="finished",
                finish_reason="finished",
                counts=counts,
                errors=errors,
                finished=start + timedelta(hours=i),
            )
            session.commit()
    assert main(["--config", str(cfg), "--db", db, "sources", "health"]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert table == {"example-daily": "ok", "moved-feed": "failing", "partner-post": "unknown"}
    assert "not-a-feed x3" in next(line for line in lines if line.startswith("moved-feed"))
