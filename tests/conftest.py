"""Shared fixtures: the fixture site server, config directories, databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storage.engine import open_database
from tests.sitesrv import SiteServer

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(FIXTURES / "site") as server:
        yield server


def write_config(
    directory: Path, sources_toml: str, newsmon_toml: str = "", topics: Path | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "newsmon.toml").write_text(newsmon_toml, encoding="utf-8")
    (directory / "sources.toml").write_text(sources_toml, encoding="utf-8")
    shutil.copy(topics or REPO / "config" / "topics.toml", directory / "topics.toml")
    return directory


def fixture_sources(base: str) -> str:
    return f"""
[[source]]
name = "example-daily"
url = "{base}/news/feed.xml"
allow_private = true

[[source]]
name = "partner-post"
url = "{base}/partner/atom.xml"
allow_private = true

[[source]]
name = "moved-feed"
url = "{base}/not-a-feed.xml"
allow_private = true
"""


def run_newsmon(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would: a separate process."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NEWSMON_DATABASE_URL", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _postgres_url() -> str | None:
    return os.environ.get("NEWSMON_TEST_POSTGRES_URL") or None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    base = _postgres_url()
    if base is None:
        pytest.skip("set NEWSMON_TEST_POSTGRES_URL to run PostgreSQL tests")
    name = f"newsmon_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and, when configured, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmon.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database on each backend (a module may shadow it with its own kind)."""
    made = open_database(database_url)
    yield made
    made.dispose()
