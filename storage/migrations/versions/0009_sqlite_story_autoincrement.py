"""SQLite: story ids are never reused (AUTOINCREMENT on stories)

A plain INTEGER PRIMARY KEY hands out max(id) + 1, so once `newsmon restory` had deleted
the newest stories their ids went to the next new stories, and an id a user kept (from
`newsmon stories --json`, or an alert key `story:<id>`) named another story. AUTOINCREMENT
keeps the highest id ever used in sqlite_sequence. PostgreSQL (SERIAL) never reuses ids
and is untouched.

SQLite cannot add AUTOINCREMENT in place, so the table is rebuilt (create, copy, drop,
rename). With foreign keys on, dropping the old table would SET NULL every
articles.story_id and alert_events.story_id, and foreign keys can be switched off only
outside a transaction: a table with rows is therefore rebuilt in a transaction of its own,
after committing what the earlier revisions of this upgrade did. Should the process die
right after the rebuild, this revision runs again and changes nothing more; a second
process upgrading in the instant between the two transactions may do the rebuild too, and
the slower one then fails once on alembic's version check (data intact; a restart finds
the schema current). An empty table (a new database, so also processes starting together
on one) is rebuilt inside the upgrade's transaction.

sqlite_sequence starts at the highest story id still known: in the table, and in alert
event keys (`story:<id>`, `...:merged-into:<id>`), which outlive deleted stories. An id
freed before the upgrade and recorded nowhere can still be handed out once more.

Revision ID: 0009_story_autoinc
Revises: 0008_pg_tsvector
Create Date: 2026-11-28
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import op
from sqlalchemy import Connection

revision: str = "0009_story_autoinc"
down_revision: str | Sequence[str] | None = "0008_pg_tsvector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose foreign keys point at stories, and stories itself (first_article_id).
FK_TABLES = ("stories", "articles", "alert_events")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_stories(autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_stories(autoincrement=False)


def _rebuild_stories(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    has_rows = bind.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM stories)").scalar()
    foreign_keys = bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if has_rows and foreign_keys:
        with _own_transaction_without_foreign_keys(bind):
            before = _violations(bind)
            _recreate(bind, autoincrement=autoincrement)
            new = _violations(bind) - before
            if new:
                raise RuntimeError(f"rebuilding stories broke foreign keys: {sorted(new)[:5]}")
    else:
        _recreate(bind, autoincrement=autoincrement)


def _recreate(bind: Connection, *, autoincrement: bool) -> None:
    """Alembic's batch copy (reflected columns, indexes, named foreign key) with the
    table option changed; the upgrade then starts the sequence above every known id."""
    floor = _highest_known_story_id(bind) if autoincrement else 0
    with op.batch_alter_table(
        "stories", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'stories'")
    if autoincrement:
        bind.exec_driver_sql(
            f"INSERT INTO sqlite_sequence (name, seq) VALUES ('stories', {int(floor)})"
        )


def _highest_known_story_id(bind: Connection) -> int:
    """Read before the copy, which restarts the sequence at the highest copied id (a
    rerun of this revision must not lower it)."""
    known = [bind.exec_driver_sql("SELECT coalesce(max(id), 0) FROM stories").scalar() or 0]
    has_sequence = bind.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence')"
    ).scalar()
    if has_sequence:
        known.append(
            bind.exec_driver_sql(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'stories'"
            ).scalar()
            or 0
        )
    known.append(_highest_alerted_story_id(bind))
    return max(int(n) for n in known)


def _highest_alerted_story_id(bind: Connection) -> int:
    keys = bind.exec_driver_sql("SELECT key FROM alert_events WHERE key LIKE 'story:%'").scalars()
    return max((int(n) for key in keys for n in re.findall(r"\d+", key)), default=0)


def _violations(bind: Connection) -> set[tuple[str, int, str]]:
    """Foreign key violations in or towards stories: (child table, rowid, parent)."""
    found: set[tuple[str, int, str]] = set()
    for table in FK_TABLES:
        for child, rowid, parent, _ in bind.exec_driver_sql(f"PRAGMA foreign_key_check({table})"):
            if child == "stories" or parent == "stories":
                found.add((child, rowid, parent))
    return found


@contextmanager
def _own_transaction_without_foreign_keys(bind: Connection) -> Iterator[None]:
    """SQLite's documented table rebuild: commit, foreign_keys=OFF, a transaction of its
    own, foreign_keys=ON again, then a new transaction for the rest of the upgrade.

    storage.engine runs pysqlite without its implicit transactions and the upgrade in one
    BEGIN IMMEDIATE, so plain COMMIT/BEGIN statements steer the real transaction; the
    connection goes back to its pool with foreign keys on whatever happens.
    """
    raw = bind.connection.dbapi_connection
    in_transaction = bool(getattr(raw, "in_transaction", False))
    if in_transaction:
        bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            bind.exec_driver_sql("ROLLBACK")
            raise
        bind.exec_driver_sql("COMMIT")
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        if in_transaction:
            bind.exec_driver_sql("BEGIN IMMEDIATE")
