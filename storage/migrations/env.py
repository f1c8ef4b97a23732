"""Alembic environment: runs migrations on the engine handed over by storage.engine."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from storage.models import Base

LOCK_KEY = 0x6E65_7773_6D6F_6E  # "newsmon"
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("storage migrations must be run through storage.engine.upgrade()")
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together on an empty database (several workers) take
            # turns; the next one finds the schema current and has nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
