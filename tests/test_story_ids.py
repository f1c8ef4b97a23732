"""Story ids are never handed out twice: a user who kept one (`newsmon stories --json`)
must not see it name another story after `newsmon restory` deleted the newest stories.

SQLite files in tmp_path, and PostgreSQL when NEWSMON_TEST_POSTGRES_URL is set. SQLite
needs AUTOINCREMENT (migration 0009, which rebuilds an existing stories table); SERIAL
never reuses ids.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from storage.engine import create_db_engine, current_revision, head_revision, upgrade
from storage.models import AlertEvent, Article, Story
from storage.stories import add_to_story, create_story, detach_articles, recompute_story

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
BEFORE = "0008_pg_tsvector"
REBUILD = "0009_story_autoinc"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_db_engine(database_url)
    yield made
    made.dispose()


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def add_article(session: Session, n: int, minute: float | None = None) -> Article:
    url = f"https://example.org/{n}"
    article = Article(
        url_hash=hashlib.sha1(url.encode()).hexdigest(),
        canonical_url=url,
        url=url,
        source="example.org",
        title=f"title {n}",
        text=f"text {n}",
        first_seen=T0 + timedelta(minutes=n if minute is None else minute),
        fingerprint=hashlib.sha1(str(n).encode()).hexdigest(),
    )
    session.add(article)
    session.flush()
    return article


def new_story(session: Session, n: int) -> Story:
    return regroup(session, add_article(session, n))


def regroup(session: Session, article: Article) -> Story:
    """A new story for ``article``, as the assigner makes one."""
    story = create_story(session, article)
    add_to_story(session, story, article)
    session.flush()
    return story


def restory_newest(session: Session, n: int) -> int:
    """What `newsmon restory` does to the newest story: detach its article (seen at
    minute ``n``), recompute, and so delete it. Returns the deleted id."""
    (story_id,) = detach_articles(session, T0 + timedelta(minutes=n))
    assert recompute_story(session, story_id) is False
    session.flush()
    assert session.get(Story, story_id) is None
    return story_id


def test_a_deleted_newest_story_id_is_not_reused(engine: Engine) -> None:
    upgrade(engine)
    with sessions(engine).begin() as session:
        ids = [new_story(session, n).id for n in range(3)]
    with sessions(engine).begin() as session:
        deleted = restory_newest(session, 2)
    assert deleted == max(ids)
    with sessions(engine).begin() as session:
        article = session.scalars(select(Article).where(Article.story_id.is_(None))).one()
        again = regroup(session, article).id
        later = new_story(session, 3).id
    assert again > deleted
    assert later > again


def snapshot(session: Session) -> dict[str, list[tuple[object, ...]]]:
    return {
        "stories": [
            (s.id, s.first_article_id, s.title, s.size, s.first_seen, s.last_seen)
            for s in session.scalars(select(Story).order_by(Story.id))
        ],
        "articles": [
            (a.id, a.story_id, a.duplicate_of_id, a.title)
            for a in session.scalars(select(Article).order_by(Article.id))
        ],
        "alert_events": [
            (e.id, e.key, e.story_id, e.article_id)
            for e in session.scalars(select(AlertEvent).order_by(AlertEvent.id))
        ],
    }


def alert(session: Session, story: Story, key: str | None = None) -> None:
    session.add(
        AlertEvent(
            watcher="desk",
            key=key or f"story:{story.id}",
            kind="story",
            story_id=story.id,
            article_id=story.first_article_id,
            created=T0,
            due=T0,
        )
    )
    session.flush()


def build_before_upgrade(engine: Engine) -> tuple[int, list[int]]:
    """A database at 0008 with stories, their articles (one a copy of another), alert
    events, and the newest story deleted by restory. Returns (deleted id, kept ids)."""
    upgrade(engine, BEFORE)
    with sessions(engine).begin() as session:
        stories = [new_story(session, n) for n in range(4)]
        copy = add_article(session, 10, minute=1.5)
        copy.duplicate_of_id = stories[1].first_article_id
        add_to_story(session, stories[1], copy)
        alert(session, stories[1])
        alert(session, stories[3])
    with sessions(engine).begin() as session:
        deleted = restory_newest(session, 3)
    return deleted, [s.id for s in stories if s.id != deleted]


def test_upgrade_keeps_every_row_and_reference(engine: Engine) -> None:
    deleted, kept = build_before_upgrade(engine)
    with sessions(engine)() as session:
        before = snapshot(session)
    assert [row[0] for row in before["stories"]] == kept
    assert sum(row[1] is not None for row in before["articles"]) == 4

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    with sessions(engine)() as session:
        assert snapshot(session) == before
    # The deleted story's id lives on in its alert event key: not reused either.
    with sessions(engine).begin() as session:
        article = session.scalars(select(Article).where(Article.story_id.is_(None))).one()
        again = regroup(session, article).id
    assert again > deleted
    with sessions(engine).begin() as session:
        assert restory_newest(session, 3) == again
        assert regroup(session, session.get_one(Article, article.id)).id > again


def sqlite_file(tmp_path: Path) -> tuple[Engine, Path]:
    path = tmp_path / "newsmon.db"
    return create_db_engine(f"sqlite:///{path}"), path


def table_sql(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'stories'").fetchone()
    return str(row[0])


def test_sqlite_upgrade_rebuilds_with_autoincrement_and_intact_keys(tmp_path: Path) -> None:
    engine, path = sqlite_file(tmp_path)
    deleted, kept = build_before_upgrade(engine)
    assert "AUTOINCREMENT" not in table_sql(path)

    upgrade(engine)

    assert "AUTOINCREMENT" in table_sql(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'stories'").fetchone()
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(stories)")}
        fks = conn.execute("PRAGMA foreign_key_list(stories)").fetchall()
    assert seq == (deleted,) and deleted > max(kept)
    assert "ix_stories_first_seen" in indexes
    assert [(fk[2], fk[3], fk[4]) for fk in fks] == [("articles", "first_article_id", "id")]
    # The migration's connection went back to the pool with foreign keys on.
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_new_database_has_autoincrement(tmp_path: Path) -> None:
    engine, path = sqlite_file(tmp_path)
    upgrade(engine)
    engine.dispose()
    assert "AUTOINCREMENT" in table_sql(path)


def test_sqlite_rerun_after_a_crash_keeps_the_sequence(tmp_path: Path) -> None:
    """Dying after the rebuild's own commit leaves the revision at 0008: the rerun
    rebuilds again and must not lower the sequence to max(id)."""
    engine, path = sqlite_file(tmp_path)
    build_before_upgrade(engine)
    upgrade(engine, REBUILD)  # no further: a crash there stops the later revisions too
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sqlite_sequence SET seq = 99 WHERE name = 'stories'")
        conn.execute(f"UPDATE alembic_version SET version_num = '{BEFORE}'")
    with sessions(engine)() as session:
        before = snapshot(session)

    upgrade(engine)

    with sessions(engine)() as session:
        assert snapshot(session) == before
    with sqlite3.connect(path) as conn:
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'stories'").fetchone()
    assert seq == (99,)
    engine.dispose()


def test_sqlite_failed_rebuild_loses_nothing(tmp_path: Path) -> None:
    """A view on stories (made by hand) makes the rename fail: the rebuild's own
    transaction rolls back, references stay, foreign keys stay on."""
    engine, path = sqlite_file(tmp_path)
    build_before_upgrade(engine)
    with sessions(engine)() as session:
        before = snapshot(session)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE VIEW story_titles AS SELECT id, title FROM stories")

    with pytest.raises(Exception, match="story_titles"):
        upgrade(engine)

    assert current_revision(engine) == BEFORE
    with sessions(engine)() as session:
        assert snapshot(session) == before
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert "AUTOINCREMENT" not in table_sql(path)
    engine.dispose()


def test_sqlite_downgrade_keeps_rows(tmp_path: Path) -> None:
    from alembic import command

    from storage.engine import alembic_config

    engine, path = sqlite_file(tmp_path)
    build_before_upgrade(engine)
    upgrade(engine)
    with sessions(engine)() as session:
        before = snapshot(session)

    command.downgrade(alembic_config(engine), BEFORE)

    assert "AUTOINCREMENT" not in table_sql(path)
    with sessions(engine)() as session:
        assert snapshot(session) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    engine.dispose()
