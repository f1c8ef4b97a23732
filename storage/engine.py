"""Engine creation and schema upgrades.

SQLite is the embedded default: WAL so that readers never block the crawler's writer,
and a busy timeout so that concurrent commands wait for the lock instead of failing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """Create an engine for ``url``; for a SQLite file, create its directory first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        # pysqlite's own transaction handling defers BEGIN; we issue BEGIN ourselves so
        # that a write transaction takes its lock up front (no deadlock on upgrade).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        _disable_pysqlite_autobegin(engine)
        # A multi-row INSERT executes as multi-row statements (up to 1,000 rows each), not
        # one statement per row: the FTS5 index the articles' trigger fills flushes its
        # pending terms at every statement, so row by row it wrote a tiny segment per
        # article and merged them (1.7x the bulk write rate, docs/benchmarks.md).
        engine.dialect.use_insertmanyvalues_wo_returning = True
        return engine
    return create_engine(url, pool_pre_ping=True)


def _disable_pysqlite_autobegin(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The applied revision(s), comma-separated when branches are applied side by side."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str | None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return ",".join(sorted(script.get_heads())) or None


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (idempotent; all branches by default)."""
    if revision in ("head", "heads") and current_revision(engine) == head_revision():
        return
    command.upgrade(alembic_config(engine), revision)


def open_database(url: str) -> Engine:
    """Create the engine and make sure the schema is current: an empty database just works."""
    engine = create_db_engine(url)
    upgrade(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
