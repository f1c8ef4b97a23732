"""`newsmon status` tells how alert delivery stands: pending, waiting, sent, failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cli import main
from storage import alerts as repo
from storage.engine import open_database
from storage.models import AlertDelivery, AlertEvent
from tests.conftest import FIXTURES, write_config

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_status_counts_deliveries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'n.db'}"
    engine = open_database(db)
    with Session(engine) as session, session.begin():
        for key in ("a", "b", "c"):
            assert repo.insert_event(
                session, watcher="w", key=key, kind="story", created=NOW, due=NOW, data={}
            )
        ids = list(session.scalars(select(AlertEvent.id).where(AlertEvent.key != "c")))
        message = repo.create_message(session, "w", ids, [("mail", "mail"), ("hook", "hook")], NOW)
        assert message is not None
        mail, hook = session.scalars(select(AlertDelivery.id).order_by(AlertDelivery.id))
        repo.mark_sent(session, mail, NOW)
        repo.mark_attempt_failed(session, hook, "HTTP 500", give_up=True)
    engine.dispose()
    cfg = write_config(tmp_path / "cfg", "", topics=FIXTURES / "topics_small.toml")
    assert main(["--config", str(cfg), "--db", db, "status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["alerts"] == {"pending": 0, "sent": 1, "failed": 1, "waiting": 1}
    assert main(["--config", str(cfg), "--db", db, "status"]) == 0
    out = capsys.readouterr().out
    assert "alerts: 0 pending, 1 waiting for a batch, 1 sent, 1 failed" in out
    assert "newsmon alerts list --failed" in out
