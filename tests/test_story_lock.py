"""The store lock beyond the workers: `newsmon ingest` and `newsmon restory` take it too.

Real databases (SQLite file, and PostgreSQL when configured); no sleeps for timing: the
tests wait on pg_locks, on threading events and on pipes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import monitor.commands.ingest as ingest_command
from monitor.alerts.watchers import Watcher
from monitor.cli import main
from monitor.commands.base import CommandContext
from monitor.commands.stories import register, run_restory
from monitor.story_assign import StoryAssigner
from monitor.story_lock import STORY_LOCK, LockedStoryAssigner, serialise_transactions
from monitor.story_restory import restory
from monitor.story_settings import StoriesSettings
from storage.engine import open_database, session_factory
from storage.models import AlertEvent, Article, Story
from tests.alerts_data import T0, Clock, Stored, store, watcher
from tests.conftest import FIXTURES, write_config
from tests.stories_texts import IT_WORKERS, SEAFOOD, copy_of_seafood

SEAFOOD_TITLE = "Hunchun plants use 1,850 North Korean workers"


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


def _config_args(tmp_path: Path, url: str) -> list[str]:
    cfg = write_config(tmp_path / "cfg", "", topics=FIXTURES / "topics_small.toml")
    return ["--config", str(cfg), "--db", url]


def _line(url: str, title: str, body: str, source: str = "archive") -> str:
    return json.dumps({"url": url, "title": title, "text": body, "source": source}) + "\n"


def _story_of(session: Session, url: str) -> int | None:
    return session.scalar(select(Article.story_id).where(Article.url == url))


def _fish(
    session: Session,
    watchers: list[Watcher],
    assigner: StoryAssigner,
    outlet: str,
    when: datetime,
    *,
    copy: bool = True,
) -> Stored:
    """Store the seafood text (or a copy of it) from ``outlet`` seen at ``when``."""
    return store(
        session,
        watchers,
        assigner,
        outlet=outlet,
        url=f"https://{outlet}.example/fish",
        title="Fish copy" if copy else SEAFOOD_TITLE,
        text=copy_of_seafood() if copy else SEAFOOD,
        first_seen=when,
    )


def _earlier_story(session: Session, assigner: StoryAssigner) -> Stored:
    """An unrelated story before restory's window (and with a higher id than the fish)."""
    return store(
        session,
        [],
        assigner,
        outlet="c",
        url="https://c.example/it",
        title="Three charged",
        text=IT_WORKERS,
        first_seen=T0 - timedelta(days=1),
    )


def _restory_command(url: str) -> tuple[argparse.Namespace, CommandContext]:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["restory", "--since", T0.date().isoformat()])
    ctx = CommandContext(
        config=None,  # type: ignore[arg-type]
        database_url=url,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return args, ctx


class Thread(threading.Thread):
    """Runs ``main(argv)`` and keeps its exit code (or exception)."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(daemon=True)
        self.argv = argv
        self.code: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.code = main(self.argv)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def result(self) -> int | None:
        self.join(120)
        assert not self.is_alive(), "ingest did not finish"
        if self.error is not None:
            raise self.error
        return self.code


def _waiting_for_story_lock(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
                ),
                {"hi": STORY_LOCK >> 32, "lo": STORY_LOCK & 0xFFFFFFFF},
            ).scalar_one()
        )


def test_ingest_waits_for_the_store_lock(postgres_url: str, tmp_path: Path) -> None:
    engine = open_database(postgres_url)
    lines = tmp_path / "docs.jsonl"
    lines.write_text(_line("https://a.example/fish", SEAFOOD_TITLE, SEAFOOD), encoding="utf-8")
    holder = engine.connect()
    holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")
    ingest = Thread([*_config_args(tmp_path, postgres_url), "ingest", str(lines)])
    try:
        ingest.start()
        _wait_for(lambda: _waiting_for_story_lock(engine) == 1, "ingest to wait for the lock")
        assert ingest.is_alive()
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 0
    finally:
        holder.commit()  # ends the transaction: the lock is released
        holder.close()
    assert ingest.result() == 0
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
    engine.dispose()


def test_every_store_transaction_of_ingest_takes_the_lock(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the first: an article's transaction waits while another holds the lock."""
    engine = open_database(postgres_url)
    read, write = os.pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(os.fdopen(read, "rb"), encoding="utf-8"))
    writer = os.fdopen(write, "w", encoding="utf-8")
    ingest = Thread([*_config_args(tmp_path, postgres_url), "ingest", "-"])
    ingest.start()
    holder = engine.connect()
    try:
        writer.write(_line("https://a.example/it", "Three charged", IT_WORKERS))
        writer.flush()
        # committed; ingest now waits for its next line
        _wait_for(lambda: _count_articles(engine) == 1, "the first article to commit")
        holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")
        writer.write(_line("https://a.example/fish", SEAFOOD_TITLE, SEAFOOD))
        writer.close()
        _wait_for(lambda: _waiting_for_story_lock(engine) == 1, "the second store to wait")
        assert _count_articles(engine) == 1
    finally:
        holder.commit()
        holder.close()
        if not writer.closed:
            writer.close()
    assert ingest.result() == 0
    assert _count_articles(engine) == 2
    engine.dispose()


def _count_articles(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def test_ingest_joins_the_story_a_worker_stored_after_it_started(
    database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ingest loads its index, a worker then stores a text, ingest stores a copy of it:
    the copy joins the worker's story (ingest caught up under the lock)."""
    indexed = threading.Event()
    real_store = ingest_command.store_article

    def store_and_signal(session: Session, **kw: Any) -> Any:
        result = real_store(session, **kw)
        indexed.set()
        return result

    monkeypatch.setattr(ingest_command, "store_article", store_and_signal)
    read, write = os.pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(os.fdopen(read, "rb"), encoding="utf-8"))
    writer = os.fdopen(write, "w", encoding="utf-8")
    ingest = Thread([*_config_args(tmp_path, database_url), "ingest", "-"])
    ingest.start()
    try:
        writer.write(_line("https://a.example/it", "Three charged", IT_WORKERS))
        writer.flush()
        assert indexed.wait(60)  # ingest's index is loaded; its first store is under way

        serialise_transactions(engine)  # the worker, as DistributedStorePipeline does
        worker_sessions: sessionmaker[Session] = session_factory(engine)
        with worker_sessions() as session:
            worker = LockedStoryAssigner(session, StoriesSettings())
        with worker_sessions() as session, session.begin():
            w = store(
                session,
                [],
                worker,
                outlet="worker",
                url="https://w.example/fish",
                title=SEAFOOD_TITLE,
                text=SEAFOOD,
            )
        assert w.story_id is not None

        writer.write(_line("https://b.example/fish-copy", "Fish copy", copy_of_seafood()))
    finally:
        writer.close()
    assert ingest.result() == 0
    with Session(engine) as session:
        assert _story_of(session, "https://b.example/fish-copy") == w.story_id
        assert _story_of(session, "https://a.example/it") != w.story_id
        assert session.scalar(select(func.count()).select_from(Story)) == 2


def test_restory_merge_alerts_no_watcher_twice(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Two processes without the lock split copies of one text into two stories, each
    alerted; restory merges them; the next copy alerts nobody, and restory itself
    enqueues nothing."""
    desk = watcher("desk", "json://127.0.0.1:9/hook")
    sessions = session_factory(engine)
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), Clock())
        second = StoryAssigner(session, StoriesSettings(), Clock())  # loaded before any
    day = T0 + timedelta(days=1)
    with sessions() as session:
        a = _fish(session, [desk], first, "a", day, copy=False)
        b = _fish(session, [desk], second, "b", day + timedelta(minutes=1))
        _earlier_story(session, first)  # untouched; SQLite would otherwise reuse freed ids
        session.commit()
    assert a.story_id != b.story_id and (a.events, b.events) == (1, 1)

    args, ctx = _restory_command(database_url)
    assert run_restory(args, ctx) == 0
    ctx.close()

    with sessions() as session:
        merged = _story_of(session, "https://a.example/fish")
        assert merged is not None and merged == _story_of(session, "https://b.example/fish")
        assert merged not in (a.story_id, b.story_id)
        events = list(session.scalars(select(AlertEvent).order_by(AlertEvent.id)))
        assert len(events) == 2  # restory enqueued nothing
        assert events[0].key == f"story:{merged}" and events[0].story_id == merged
        # The merged-away event names no story id any more (ids can be reused).
        assert events[1].key == f"story:{b.story_id}:merged-into:{merged}"

        later = StoryAssigner(session, StoriesSettings(), Clock(day + timedelta(hours=1)))
        c = _fish(session, [desk], later, "d", day + timedelta(hours=1))
        session.commit()
        assert c.story_id == merged
        assert c.events == 0


def test_a_worker_index_from_before_restory_follows_the_new_stories(
    engine: Engine,
) -> None:
    """restory deletes and recreates the window's stories; an assigner loaded before it
    rebuilds its index instead of starting a second story (and alerting again)."""
    desk = watcher("desk", "json://127.0.0.1:9/hook")
    sessions = session_factory(engine)
    day = T0 + timedelta(days=1)
    with sessions() as session:
        worker = StoryAssigner(session, StoriesSettings(), Clock(day))
        a = _fish(session, [desk], worker, "a", day, copy=False)
        _earlier_story(session, worker)
        session.commit()
    with sessions() as session:
        restory(session, T0)
    with sessions() as session:
        moved = _story_of(session, "https://a.example/fish")
        assert moved is not None and moved != a.story_id
        c = _fish(session, [desk], worker, "d", day + timedelta(hours=1))
        session.commit()
        assert c.story_id == moved
        assert c.events == 0
        assert session.scalar(select(func.count()).select_from(Story)) == 2


def test_restory_waits_for_the_store_lock(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    args, ctx = _restory_command(postgres_url)
    ctx.engine  # noqa: B018 (opened here, not inside the thread)
    codes: list[int] = []
    holder = engine.connect()
    holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STORY_LOCK})")
    thread = threading.Thread(target=lambda: codes.append(run_restory(args, ctx)), daemon=True)
    try:
        thread.start()
        _wait_for(lambda: _waiting_for_story_lock(engine) == 1, "restory to wait for the lock")
        assert not codes
    finally:
        holder.commit()
        holder.close()
    thread.join(60)
    assert codes == [0]
    assert _waiting_for_story_lock(engine) == 0
    with engine.connect() as conn:  # restory released its session-level lock
        assert conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({STORY_LOCK})").scalar()
    ctx.close()
    engine.dispose()


def test_a_story_id_freed_by_restory_does_not_silence_the_next_story(
    database_url: str, engine: Engine
) -> None:
    """SQLite hands a deleted story's id to the next new story: an alert event left under
    that id's key would silence the new story's alert."""
    desk = watcher("desk", "json://127.0.0.1:9/hook")
    sessions = session_factory(engine)
    with sessions() as session:
        first = StoryAssigner(session, StoriesSettings(), Clock())
        second = StoryAssigner(session, StoriesSettings(), Clock())
    day = T0 + timedelta(days=1)
    with sessions() as session:
        a = _fish(session, [desk], first, "a", day, copy=False)
        b = _fish(session, [desk], second, "b", day + timedelta(minutes=1))
        session.commit()
    assert a.story_id != b.story_id

    args, ctx = _restory_command(database_url)
    assert run_restory(args, ctx) == 0
    ctx.close()

    with sessions() as session:
        later = StoryAssigner(session, StoriesSettings(), Clock(day + timedelta(hours=2)))
        other = store(
            session,
            [desk],
            later,
            outlet="c",
            url="https://c.example/it",
            title="Three charged",
            text=IT_WORKERS,
            first_seen=day + timedelta(hours=2),
        )
        session.commit()
        assert other.story_id not in (_story_of(session, "https://a.example/fish"), None)
    assert other.events == 1  # a new story: its watcher is told
