"""The `newsmon` command line: parse arguments, load config, dispatch, map errors to exit codes.

Exit codes: 0 success; 1 the command ran but failed (e.g. every source failed);
2 bad usage or bad configuration (nothing was written).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.commands.base import CommandContext
from monitor.logs import set_log_level

# Each module registers its sub-commands; order is the order of `newsmon --help`.
COMMAND_MODULES = (
    "monitor.commands.admin",
    "monitor.commands.crawl",
    "monitor.commands.ingest",
    "monitor.commands.match",
    "monitor.commands.articles",
    "monitor.commands.search",
    "monitor.commands.stories",
    "monitor.commands.digest",
    "monitor.commands.run",
    "monitor.commands.alerts",
    "monitor.commands.sources",
    "monitor.commands.worker",
)
NO_CONFIG_COMMANDS = frozenset({"init"})


def _one_line(exc: Exception) -> str:
    """The first line of a message: a configuration error is always reported in one."""
    lines = str(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsmon",
        description="Follow a topic across many outlets and languages.",
    )
    parser.add_argument("--version", action="version", version=f"newsmon {__version__}")
    parser.add_argument(
        "--config",
        metavar="DIR",
        help="configuration directory (default: $NEWSMON_CONFIG or ./config)",
    )
    parser.add_argument(
        "--db", metavar="URL", help="database URL (default: $NEWSMON_DATABASE_URL or newsmon.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from monitor.config import ConfigError, load_config, resolve_config_dir, resolve_database_url

    parser = build_parser()
    args = parser.parse_args(argv)
    set_log_level(args.verbose)
    handler = args.handler
    if args.command in NO_CONFIG_COMMANDS:
        return int(handler(args, None))
    try:
        config = load_config(resolve_config_dir(args.config))
    except ConfigError as exc:
        print(f"newsmon: configuration error: {_one_line(exc)}", file=sys.stderr)
        return 2
    ctx = CommandContext(config=config, database_url=resolve_database_url(args.db, config))
    try:
        return int(handler(args, ctx))
    except ConfigError as exc:
        print(f"newsmon: configuration error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsmon: interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
