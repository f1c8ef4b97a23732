"""Source health from run records: failing, silent, volume drop, recovery, and its alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from monitor.alerts.deliver import deliver_pending, record_health
from monitor.alerts.health import assess
from monitor.alerts.watchers import AlertsConfig, HealthSettings
from storage.alerts import RunPoint
from storage.models import AlertEvent
from storage.runs import ErrorRecord, SourceCounts, finish_run, start_run
from tests.alerts_data import T0, Clock, sessions, watcher
from tests.alerts_receivers import webhook_server

SETTINGS = HealthSettings()


def point(i: int, *, new: int = 5, errors: int = 0, links: int = 20, fetched: int = 5) -> RunPoint:
    reasons = {"http-500": errors} if errors else {}
    return RunPoint(i, T0 - timedelta(hours=i), links, fetched, new, 0, errors, reasons)


def test_states_by_precedence() -> None:
    assert assess("a", [point(i) for i in range(25)], SETTINGS).state == "ok"
    healthy = [point(i) for i in range(5, 30)]  # older runs, after the ones under test
    assert assess("a", [], SETTINGS).state == "unknown"
    failing = [point(i, new=0, errors=1, links=0, fetched=0) for i in range(3)] + healthy
    got = assess("a", failing, SETTINGS)
    assert (got.state, got.last_success) == ("failing", T0 - timedelta(hours=5))
    assert "http-500 x3" in got.detail
    two_failures = failing[1:]
    assert assess("a", two_failures, SETTINGS).state == "ok"
    assert assess("a", two_failures, SETTINGS).last_success == T0 - timedelta(hours=5)
    silent = [point(i, new=0) for i in range(5)] + healthy
    assert assess("a", silent, SETTINGS).state == "silent"
    assert assess("a", silent[1:], SETTINGS).state == "volume-drop"  # 4 empty runs, then 5s
    dropped = [point(i, new=1) for i in range(3)] + [point(i, new=8) for i in range(3, 20)]
    got = assess("a", dropped, SETTINGS)
    assert got.state == "volume-drop" and "usual 8" in got.detail
    modest = [point(i, new=2) for i in range(3)] + [point(i, new=4) for i in range(3, 20)]
    assert assess("a", modest, SETTINGS).state == "ok"  # 2 of 4 is not a sharp drop
    quiet_outlet = [point(i, new=0) for i in range(3)] + [point(i, new=2) for i in range(3, 20)]
    assert assess("a", quiet_outlet, SETTINGS).state == "ok"  # median 2 < volume_min_median
    all_pages_broken = [point(i, new=0, errors=5, fetched=5) for i in range(3)] + healthy
    assert assess("a", all_pages_broken, SETTINGS).state == "failing"


def _run(db: object, when: datetime, source: str, *, new: int, errors: int = 0) -> None:
    with db() as session:  # type: ignore[operator]
        run = start_run(session, started=when)
        counts = SourceCounts(
            source,
            links_seen=0 if errors else 10,
            fetched=0 if errors else new,
            new=new,
            errors=errors,
            errors_by_reason={"timeout": errors} if errors else {},
        )
        errs = [ErrorRecord(source, "https://feed.example/rss", "timeout", "no answer")] * errors
        finish_run(
            session,
            run.id,
            status="finished",
            finish_reason="finished",
            counts=[counts],
            errors=errs,
            finished=when,
        )
        session.commit()


def test_health_changes_alert_subscribed_watchers_once(database_url: str) -> None:
    db = sessions(database_url)
    with webhook_server() as hook:
        ops = watcher("ops", hook.url("/ops", "webhook+http"), health=["failing", "recovered"])
        other = watcher("other", hook.url("/other"), health=["failing"], filter={"sources": ["x"]})
        deaf = watcher("deaf", hook.url("/deaf"))
        config = AlertsConfig(watcher=[ops, other, deaf])
        clock = Clock(T0)
        for i in range(4):
            _run(db, T0 + timedelta(hours=i), "feed-a", new=3)
        assert record_health(db, config, clock()) == []  # unknown -> ok: no event
        for i in range(4, 7):
            _run(db, T0 + timedelta(hours=i), "feed-a", new=0, errors=1)
        clock.advance(hours=7)
        (event,) = record_health(db, config, clock())
        assert (event.source, event.state, event.previous) == ("feed-a", "failing", "ok")
        assert record_health(db, config, clock()) == []  # still failing: nothing new
        report = deliver_pending(db, config.watchers, clock)
        assert report.sent == 1
        (request,) = hook.accepted("/ops")
        doc = request.json()
        assert doc["health"][0]["state"] == "failing"
        assert doc["health"][0]["last_success"] == (T0 + timedelta(hours=3)).isoformat()
        assert "timeout x3" in doc["text"]
        _run(db, T0 + timedelta(hours=8), "feed-a", new=4)
        clock.advance(hours=2)
        (back,) = record_health(db, config, clock())
        assert back.state == "recovered"
        assert deliver_pending(db, config.watchers, clock).sent == 1
        assert [r.path for r in hook.accepted()] == ["/ops", "/ops"]
    with db() as session:
        keys = sorted(e.key for e in session.scalars(select(AlertEvent)))
    assert len(keys) == 2 and all(k.startswith("health:feed-a:") for k in keys)
