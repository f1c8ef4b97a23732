"""What every `newsmon` sub-command receives: the loaded config and a lazily opened database.

Each module under monitor/commands registers its sub-commands with ``register(sub)`` and
sets ``handler=<function(args, ctx) -> int>`` as a parser default; cli.py only wires them.
The command owns its session and transaction (``ctx.session()``); storage functions take it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.engine import open_database, session_factory

if TYPE_CHECKING:
    from monitor.config import AppConfig

SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass
class CommandContext:
    """Shared state of one CLI invocation."""

    config: AppConfig
    database_url: str
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _engine: Engine | None = None
    _sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_database(self.database_url)
        return self._engine

    def session(self) -> Session:
        if self._sessions is None:
            self._sessions = session_factory(self.engine)
        return self._sessions()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


Handler = Callable[[argparse.Namespace, CommandContext], int]
