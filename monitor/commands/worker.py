"""`newsmon worker`: one crawler of a cluster sharing a Redis frontier (serves until SIGTERM)."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from monitor.commands.base import CommandContext
from monitor.distributed.settings import missing_extra, resolve_redis_url


def register(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="crawl sources handed out by `newsmon run --distributed` (needs Redis)",
        description="Serve until SIGTERM or SIGINT: take start messages and requests from "
        "the shared Redis queue, store into the shared database. Any number of workers, "
        "on any number of machines; see docs/deployment.md.",
    )
    p.add_argument(
        "--redis",
        metavar="URL",
        help="Redis URL (default: $NEWSMON_REDIS_URL or [distributed] redis_url)",
    )
    p.add_argument(
        "--name",
        metavar="NAME",
        help="this worker's name in run records (default: the host name; give each "
        "worker on one host its own)",
    )
    p.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        from monitor.distributed.worker import run
    except ImportError as exc:
        print(missing_extra("worker", exc), file=sys.stderr)
        return 1
    redis_url = resolve_redis_url(args.redis, ctx.config.settings.distributed)
    name = args.name or socket.gethostname()
    return run(ctx, redis_url, name, verbose=args.verbose)
