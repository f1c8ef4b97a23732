"""Delivery against real local receivers: retries, timeouts, batching, e-mail, masking."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.deliver import deliver_pending
from monitor.alerts.watchers import Watcher
from monitor.story_assign import StoryAssigner
from monitor.story_settings import StoriesSettings
from storage.alerts import retry_failed
from storage.models import AlertDelivery
from tests.alerts_data import (
    T0,
    TEXT,
    Clock,
    channel,
    sessions,
    store,
    story_text,
    story_title,
    watcher,
)
from tests.alerts_receivers import Webhook, smtp_server, webhook_server


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


@pytest.fixture
def db(database_url: str) -> sessionmaker[Session]:
    return sessions(database_url)


def _one_story(db: sessionmaker[Session], watchers: list[Watcher], n: int = 0) -> None:
    with db() as session:
        store(
            session,
            watchers,
            None,
            outlet="bbc",
            url=f"https://bbc.example/{n}",
            title=story_title(n),
            text=story_text(n),
            first_seen=T0,
        )
        session.commit()


def _deliveries(db: sessionmaker[Session]) -> list[AlertDelivery]:
    with db() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def test_fails_twice_then_succeeds_exactly_one_delivery(
    db: sessionmaker[Session], hook: Webhook
) -> None:
    hook.plan("/flaky", "fail", "fail", "ok")
    desk = watcher("desk", hook.url("/flaky"), retry={"backoff_seconds": 60, "max_attempts": 5})
    _one_story(db, [desk])
    clock = Clock(T0)

    first = deliver_pending(db, [desk], clock)
    assert (first.messages, first.sent, first.failed_attempts) == (1, 0, 1)
    again = deliver_pending(db, [desk], clock)  # backoff not over: nothing is tried
    assert (again.sent, again.failed_attempts, len(hook.requests)) == (0, 0, 1)

    clock.advance(seconds=60)
    assert deliver_pending(db, [desk], clock).failed_attempts == 1
    clock.advance(seconds=119)
    assert deliver_pending(db, [desk], clock).failed_attempts == 0  # 2nd backoff is 120 s
    clock.advance(seconds=1)
    assert deliver_pending(db, [desk], clock).sent == 1
    clock.advance(hours=5)
    assert deliver_pending(db, [desk], clock).sent == 0

    assert [r.answered for r in hook.requests] == ["fail", "fail", "ok"]
    assert len(hook.accepted("/flaky")) == 1
    (d,) = _deliveries(db)
    assert (d.status, d.attempts, d.last_error) == ("sent", 3, "")


def test_hanging_receiver_times_out_then_retry_succeeds(
    db: sessionmaker[Session], hook: Webhook
) -> None:
    hook.plan("/slow", "hang", "ok")
    desk = watcher("desk", hook.url("/slow"), retry={"timeout_seconds": 0.5})
    _one_story(db, [desk])
    clock = Clock(T0)
    report = deliver_pending(db, [desk], clock)
    assert report.failed_attempts == 1
    (d,) = _deliveries(db)
    assert d.status == "pending" and "timed out" in d.last_error.lower()
    clock.advance(minutes=1)
    assert deliver_pending(db, [desk], clock).sent == 1
    assert len(hook.accepted("/slow")) == 1


def test_gives_up_after_max_attempts_and_retry_requeues(
    db: sessionmaker[Session], hook: Webhook
) -> None:
    hook.plan("/down", "fail", "fail", "fail", "ok")
    desk = watcher("desk", hook.url("/down"), retry={"backoff_seconds": 10, "max_attempts": 3})
    _one_story(db, [desk])
    clock = Clock(T0)
    for _ in range(6):
        deliver_pending(db, [desk], clock)
        clock.advance(minutes=10)
    (d,) = _deliveries(db)
    assert (d.status, d.attempts) == ("failed", 3)
    assert len(hook.requests) == 3
    with db() as session:
        assert retry_failed(session, clock()) == 1
        session.commit()
    assert deliver_pending(db, [desk], clock).sent == 1
    assert len(hook.accepted("/down")) == 1


def test_batch_window_collects_three_stories_into_one_message(
    db: sessionmaker[Session], hook: Webhook
) -> None:
    desk = watcher("desk", hook.url("/batch", "webhook+http"), policy="batched", batch_minutes=60)
    with db() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock())
        for n in range(3):
            store(
                session,
                [desk],
                assigner,
                outlet=f"outlet{n}",
                url=f"https://o{n}.example/a",
                title=story_title(n),
                text=story_text(n),
                first_seen=T0 + timedelta(minutes=10 * n),
            )
        # A copy of story 0 from another outlet, inside the window: no event of its own.
        copy = store(
            session,
            [desk],
            assigner,
            outlet="copycat",
            url="https://copy.example/a",
            title="Shrimp plants, again",
            text=story_text(0),
            first_seen=T0 + timedelta(minutes=40),
        )
        session.commit()
    assert copy.events == 0
    clock = Clock(T0 + timedelta(minutes=59))
    assert deliver_pending(db, [desk], clock).messages == 0  # window still open
    clock.advance(minutes=1)
    report = deliver_pending(db, [desk], clock)
    assert (report.messages, report.sent) == (1, 1)
    (request,) = hook.accepted("/batch")
    doc = request.json()
    assert doc["schema"] == "newsmon-alert/1"
    assert [s["title"] for s in doc["stories"]] == [story_title(n) for n in range(3)]
    assert [o["name"] for o in doc["stories"][0]["also_reported_by"]] == ["copycat"]
    assert doc["stories"][1]["also_reported_by"] == []
    assert "Also reported by: copycat" in doc["text"]
    assert doc["subject"] == "newsmon: 3 new stories"


def test_five_outlets_one_alert_through_the_whole_path(
    db: sessionmaker[Session], hook: Webhook
) -> None:
    desk = watcher("desk", hook.url("/desk"))
    with db() as session:
        assigner = StoryAssigner(session, StoriesSettings(), Clock())
        for i, outlet in enumerate(["bbc", "dnevnik", "tagesschau", "lemonde", "ruv"]):
            store(
                session,
                [desk],
                assigner,
                outlet=outlet,
                url=f"https://{outlet}.example/x",
                title="North Korean workers in Kursk",
                text=TEXT,
                first_seen=T0 + timedelta(minutes=i),
            )
            session.commit()
            deliver_pending(db, [desk], Clock(T0 + timedelta(minutes=i, seconds=30)))
    assert len(hook.requests) == 1
    assert "North Korean workers in Kursk" in hook.requests[0].json()["title"]


def test_email_through_apprise_to_local_smtp(db: sessionmaker[Session]) -> None:
    with smtp_server() as (inbox, port):
        url = (
            f"mailto://127.0.0.1:{port}?mode=insecure&from=newsmon@example.org&to=desk@example.org"
        )
        desk = watcher("desk", url)
        _one_story(db, [desk], n=4)
        report = deliver_pending(db, [desk], Clock(T0))
        assert report.sent == 1, report.errors
    (mail,) = inbox.messages
    assert mail["To"] == "desk@example.org"
    assert story_title(4) in mail["Subject"]
    parts = {p.get_content_type(): p.get_payload(decode=True) for p in mail.walk()}
    raw = parts["text/html"]
    assert isinstance(raw, bytes)
    html = raw.decode()
    assert 'href="https://bbc.example/4"' in html and "student visa" in html


def test_slack_compatible_webhook_payload(db: sessionmaker[Session], hook: Webhook) -> None:
    desk = watcher("desk", hook.url("/hooks/abc", "slackhook+http"))
    _one_story(db, [desk], n=2)
    assert deliver_pending(db, [desk], Clock(T0)).sent == 1
    (request,) = hook.accepted("/hooks/abc")
    text = request.json()["text"]
    assert text.startswith(f"*newsmon: {story_title(2)}*")
    assert f"<https://bbc.example/2|{story_title(2)}>" in text


def test_secrets_never_reach_errors_or_logs(
    db: sessionmaker[Session], hook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-token-value"
    hook.plan(f"/hook/{secret}", "fail")
    masked = channel(hook.url(f"/hook/{secret}"), {"${HOOK_TOKEN}": secret})
    desk = Watcher(name="desk", channels=[masked])
    _one_story(db, [desk])
    with caplog.at_level(logging.DEBUG):
        report = deliver_pending(db, [desk], Clock(T0))
    assert report.failed_attempts == 1
    (d,) = _deliveries(db)
    assert "${HOOK_TOKEN}" in d.label and secret not in d.label
    assert d.last_error and secret not in d.last_error
    assert secret not in caplog.text and secret not in " ".join(report.errors)
    assert secret not in repr(desk) and secret not in str(desk.model_dump())
