"""`newsmon init DIR` and `newsmon db upgrade|current`."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.commands.base import CommandContext
from storage.engine import current_revision, head_revision, upgrade

STARTER_FILES = ("newsmon.toml", "sources.toml", "topics.toml")


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="write a commented starter configuration to DIR")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(handler=run_init)
    db = sub.add_parser("db", help="database schema: upgrade, current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply pending migrations (idempotent)")
    up.set_defaults(handler=run_db_upgrade)
    cur = db_sub.add_parser("current", help="show the schema revision")
    cur.set_defaults(handler=run_db_current)


def run_init(args: argparse.Namespace, ctx: CommandContext | None) -> int:
    target = Path(args.directory)
    starter = resources.files("monitor") / "starter"
    existing = [n for n in STARTER_FILES if (target / n).exists()]
    if existing and not args.force:
        print(
            f"newsmon: {target}: already has {', '.join(existing)} (use --force to overwrite)",
            file=sys.stderr,
        )
        return 2
    target.mkdir(parents=True, exist_ok=True)
    for name in STARTER_FILES:
        (target / name).write_text((starter / name).read_text(encoding="utf-8"), encoding="utf-8")
    print(
        f"wrote {', '.join(STARTER_FILES)} to {target}; edit them, then run "
        f"`newsmon --config {target} crawl`"
    )
    return 0


def run_db_upgrade(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.engine import create_db_engine

    engine = create_db_engine(ctx.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        print(
            f"database at revision {current_revision(engine)} (was {before or 'empty'})",
            file=ctx.stdout,
        )
    finally:
        engine.dispose()
    return 0


def run_db_current(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.engine import create_db_engine

    engine = create_db_engine(ctx.database_url)
    try:
        print(
            f"current: {current_revision(engine) or 'empty'}; head: {head_revision()}",
            file=ctx.stdout,
        )
    finally:
        engine.dispose()
    return 0
