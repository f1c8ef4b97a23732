"""Scheduler state in the database (SQLite and PostgreSQL): the single-instance lock with
its heartbeat and staleness, digest records, scheduled crawls, status queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage import scheduler_state as state
from storage.runs import ErrorRecord, SourceCounts, finish_run, start_run

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STALE = 60.0


def _acquire(engine: Engine, holder: str, now: datetime) -> state.LockInfo:
    with Session(engine) as session, session.begin():
        return state.acquire_lock(session, holder, now, STALE)


def test_second_holder_is_refused_while_the_first_beats(engine: Engine) -> None:
    info = _acquire(engine, "A", T0)
    assert info.holder == "A" and info.first_started == T0
    with pytest.raises(state.LockHeld) as err:
        _acquire(engine, "B", T0 + timedelta(seconds=30))
    assert "another `newsmon run` (A)" in str(err.value)
    assert "30 s" in str(err.value)
    with Session(engine) as session, session.begin():
        assert state.renew_lock(session, "A", T0 + timedelta(seconds=50), [{"id": "x"}])
    with pytest.raises(state.LockHeld):
        _acquire(engine, "B", T0 + timedelta(seconds=100))  # 50 s after the last beat


def test_a_dead_holders_lock_goes_stale_and_is_taken_over(engine: Engine) -> None:
    _acquire(engine, "A", T0)
    later = T0 + timedelta(seconds=STALE + 1)
    info = _acquire(engine, "B", later)
    assert info.holder == "B" and info.acquired == later
    assert info.first_started == T0  # the database's first scheduler start is kept
    with Session(engine) as session, session.begin():
        # A comes back: its heartbeat fails, so it knows to stop.
        assert not state.renew_lock(session, "A", later)
        assert not state.release_lock(session, "A")
    with Session(engine) as session:
        found = state.read_lock(session)
        assert found is not None and found.holder == "B"


def test_released_lock_is_free_at_once(engine: Engine) -> None:
    _acquire(engine, "A", T0)
    with Session(engine) as session, session.begin():
        assert state.release_lock(session, "A")
    with Session(engine) as session:
        found = state.read_lock(session)
        assert found is not None and not found.is_held(T0)
    assert _acquire(engine, "B", T0 + timedelta(seconds=1)).holder == "B"


def test_takeover_is_compare_and_swap(engine: Engine) -> None:
    """Two processes that both saw the stale lock: only the first update wins."""
    _acquire(engine, "A", T0)
    later = T0 + timedelta(seconds=STALE + 5)
    with Session(engine) as session:
        seen = state.read_lock(session)
    assert seen is not None and seen.is_stale(later)
    _acquire(engine, "B", later)
    # C acts on its stale view (holder A, old heartbeat), which no longer matches.
    with Session(engine) as session, session.begin(), pytest.raises(state.LockHeld) as err:
        state.take_over_lock(session, seen, "C", later, STALE)
    assert err.value.info.holder == "B"


def test_digest_records_make_a_day_done_for_all_topics(engine: Engine) -> None:
    topics = ["t1", "t2"]
    with Session(engine) as session, session.begin():
        state.record_digest(
            session, "2026-11-25", ["t1"], status="ok", started=T0, finished=T0, files=["a"]
        )
        state.record_digest(
            session, "2026-11-24", topics, status="failed", started=T0, finished=T0, detail="x"
        )
    with Session(engine) as session:
        assert state.digest_days_done(session, ["2026-11-25", "2026-11-24"], topics) == set()
    with Session(engine) as session, session.begin():
        state.record_digest(session, "2026-11-25", topics, status="ok", started=T0, finished=T0)
        state.record_digest(session, "2026-11-24", topics, status="ok", started=T0, finished=T0)
    with Session(engine) as session:
        done = state.digest_days_done(session, ["2026-11-25", "2026-11-24", "2026-11-23"], topics)
        assert done == {"2026-11-25", "2026-11-24"}
        rows = state.recent_digests(session)
        assert len(rows) == 4  # one row per day and topic, updated in place


def test_scheduled_crawls_and_status_queries(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        before = state.max_crawl_run_id(session)
        crawl = state.start_scheduled_crawl(session, "crawl:default", ["a", "b"], T0)
        run = start_run(session, "crawl", T0)
        finish_run(
            session,
            run.id,
            status="ok",
            finish_reason="finished",
            counts=[SourceCounts("a", new=3, errors=1, errors_by_reason={"http-404": 1})],
            errors=[ErrorRecord("a", "http://x/1", "http-404", "HTTP 404", T0)],
        )
        killed_id = start_run(session, "crawl", T0 + timedelta(minutes=1)).id
        state.finish_scheduled_crawl(
            session,
            crawl.id,
            outcome="timeout",
            finished=T0 + timedelta(minutes=2),
            exit_code=-9,
            crawl_run_id=killed_id,
            detail="Traceback\nstuck\n",
        )
        open_runs = state.open_crawl_runs_after(session, before)
        assert [r.id for r in open_runs] == [killed_id]
        state.close_crawl_run(
            session, killed_id, status="killed", reason="timeout", now=T0 + timedelta(minutes=2)
        )
        state.start_scheduled_crawl(session, "crawl:other", ["c"], T0 + timedelta(minutes=3))
    with Session(engine) as session, session.begin():
        assert state.abandon_running_crawls(session, T0 + timedelta(minutes=4)) == 1
    with Session(engine) as session:
        assert state.unfinished_runs(session) == []
        assert state.last_scheduled_start(session, "crawl:default") == T0
        assert state.last_scheduled_start(session, "crawl:nothing") is None
        (last,) = state.last_run_per_source(session)
        assert (last.source, last.new, last.errors, last.status) == ("a", 3, 1, "ok")
        assert last.errors_by_reason == {"http-404": 1}
        failed = state.failed_scheduled_crawls(session)
        assert [(c.job, c.outcome) for c in failed] == [
            ("crawl:other", "abandoned"),
            ("crawl:default", "timeout"),
        ]
        assert failed[1].crawl_run_id == killed_id
        (err,) = state.recent_errors(session)
        assert err.reason == "http-404"
