"""After an upgrade that changes story signatures, the user is told to run restory."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from monitor.cli import main
from monitor.story_assign import StoryAssigner
from monitor.story_features import SIGNATURE_VERSION
from monitor.story_settings import StoriesSettings
from storage.engine import open_database
from storage.models import ArticleSignature
from tests.conftest import FIXTURES, write_config
from tests.stories_texts import IT_WORKERS, SEAFOOD
from tests.test_stories_db import add_article


def _store_two(db: str, seen: datetime) -> None:
    engine = open_database(db)
    with Session(engine) as session:
        assigner = StoryAssigner(session, StoriesSettings(), lambda: seen)
        ids = []
        for n, body in enumerate((SEAFOOD, IT_WORKERS)):
            article = add_article(session, f"https://outlet.example/{n}", f"story {n}", body, seen)
            assigner.assign(session, article)
            ids.append(article.id)
        session.execute(
            update(ArticleSignature)
            .where(ArticleSignature.article_id == ids[0])
            .values(version=SIGNATURE_VERSION - 1)
        )
        session.commit()
    engine.dispose()


def test_status_names_outdated_signatures_and_the_restory_that_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    _store_two(db, datetime.now(UTC) - timedelta(days=1))
    cfg = write_config(tmp_path / "cfg", "", topics=FIXTURES / "topics_small.toml")
    assert main(["--config", str(cfg), "--db", db, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outdated_signatures"] == 1
    assert main(["--config", str(cfg), "--db", db, "status"]) == 0
    out = capsys.readouterr().out
    since = f"{datetime.now(UTC) - timedelta(days=30):%Y-%m-%d}"
    assert "stories: 1 article signatures in the window were computed by an older" in out
    assert f"`newsmon restory --since {since}` recomputes them" in out
    assert main(["--config", str(cfg), "--db", db, "restory", "--since", since]) == 0
    capsys.readouterr()
    assert main(["--config", str(cfg), "--db", db, "status"]) == 0
    assert "older newsmon" not in capsys.readouterr().out


def test_the_crawler_logs_outdated_signatures_when_it_loads_the_window(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    seen = datetime(2026, 3, 2, tzinfo=UTC)
    _store_two(db, seen)
    engine = open_database(db)
    with Session(engine) as session, caplog.at_level(logging.WARNING):
        assigner = StoryAssigner(session, StoriesSettings(), lambda: seen + timedelta(hours=1))
    engine.dispose()
    assert assigner.loaded == 2 and assigner.outdated == 1
    assert "`newsmon restory --since 2026-01-31` recomputes them" in caplog.text
