"""kill -9 during delivery: the documented guarantee (monitor/alerts/deliver.py) holds.

A child process runs a delivery pass whose sender kills the process with SIGKILL right
after the receiver accepted the message (before the "sent" mark can commit), or right
before sending. The parent then runs the next passes with an injected clock.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.deliver import deliver_pending
from storage.models import AlertDelivery
from tests.alerts_data import T0, Clock, sessions, store, story_text, story_title, watcher
from tests.alerts_receivers import Webhook, webhook_server

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import os, signal, sys
from datetime import datetime
from monitor.alerts.channels import send
from monitor.alerts.deliver import deliver_pending
from tests.alerts_data import Clock, sessions, watcher

url, hook, when = sys.argv[1], sys.argv[2], sys.argv[3]

def sender(channel, message, timeout):
    if when == "after":
        send(channel, message, timeout)
    os.kill(os.getpid(), signal.SIGKILL)

desk = watcher("desk", hook)
deliver_pending(sessions(url), [desk], Clock(datetime.fromisoformat(sys.argv[4])), sender)
"""


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


def _setup(tmp_path: Path, hook: Webhook) -> tuple[str, sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    db = sessions(url)
    with db() as session:
        store(
            session,
            [watcher("desk", hook.url("/desk"))],
            None,
            outlet="bbc",
            url="https://bbc.example/1",
            title=story_title(1),
            text=story_text(1),
        )
        session.commit()
    return url, db


def _kill_child(url: str, hook: Webhook, when: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, hook.url("/desk"), when, T0.isoformat()],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


def _delivery(db: sessionmaker[Session]) -> AlertDelivery:
    with db() as session:
        (d,) = session.scalars(select(AlertDelivery))
        return d


def test_kill_after_send_repeats_the_message_at_most_once(tmp_path: Path, hook: Webhook) -> None:
    url, db = _setup(tmp_path, hook)
    _kill_child(url, hook, "after")
    assert len(hook.accepted("/desk")) == 1
    d = _delivery(db)
    assert (d.status, d.attempts) == ("pending", 1)

    desk = watcher("desk", hook.url("/desk"))
    clock = Clock(T0 + timedelta(seconds=59))
    assert deliver_pending(db, [desk], clock).sent == 0  # not before the backoff delay
    clock.advance(seconds=1)
    assert deliver_pending(db, [desk], clock).sent == 1
    for _ in range(3):
        clock.advance(hours=1)
        assert deliver_pending(db, [desk], clock).sent == 0
    accepted = hook.accepted("/desk")
    assert len(accepted) == 2  # the one documented repeat
    assert accepted[0].json()["message"] == accepted[1].json()["message"]
    assert _delivery(db).status == "sent"


def test_kill_before_send_loses_nothing(tmp_path: Path, hook: Webhook) -> None:
    url, db = _setup(tmp_path, hook)
    _kill_child(url, hook, "before")
    assert hook.requests == []
    desk = watcher("desk", hook.url("/desk"))
    clock = Clock(T0 + timedelta(minutes=1))
    assert deliver_pending(db, [desk], clock).sent == 1
    clock.advance(hours=1)
    assert deliver_pending(db, [desk], clock).sent == 0
    assert len(hook.accepted("/desk")) == 1


def test_kill_during_last_attempt_is_listed_as_failed(tmp_path: Path, hook: Webhook) -> None:
    url, db = _setup(tmp_path, hook)
    _kill_child(url, hook, "before")
    one_try = watcher("desk", hook.url("/desk"), retry={"max_attempts": 1})
    report = deliver_pending(db, [one_try], Clock(T0 + timedelta(hours=1)))
    assert (report.sent, report.gave_up) == (0, 1)
    d = _delivery(db)
    assert d.status == "failed" and "interrupted" in d.last_error
