"""`newsmon run` (the unattended scheduler) and `newsmon status` (what it does and did)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.commands.base import CommandContext


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run unattended: scheduled crawls, the daily digest, alert delivery",
        description="Serve until SIGTERM or SIGINT. Crawls run as subprocesses on each "
        "source group's interval or cron ([schedule] in newsmon.toml); the digest of the "
        "previous day is written at [digest] time. One `newsmon run` per database.",
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="enqueue due sources in Redis for `newsmon worker` processes instead of "
        "crawling here (docs/deployment.md)",
    )
    p.add_argument(
        "--redis", metavar="URL", help="with --distributed: Redis URL ([distributed] redis_url)"
    )
    p.set_defaults(handler=run_run)
    s = sub.add_parser(
        "status",
        help="the scheduler's jobs, the last run per source, recent failures",
    )
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.add_argument(
        "--failures", type=int, default=15, metavar="N", help="recent failures shown (15)"
    )
    s.set_defaults(handler=run_status)


def run_run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.scheduler import run_scheduler

    if not any(s.enabled for s in ctx.config.sources):
        print("newsmon run: no enabled sources in sources.toml", file=ctx.stderr)
    if args.distributed:
        from monitor.distributed.settings import missing_extra, resolve_redis_url

        try:
            from monitor.distributed.runner import run_distributed
        except ImportError as exc:
            print(missing_extra("run", exc), file=ctx.stderr)
            return 1
        url = resolve_redis_url(args.redis, ctx.config.settings.distributed)
        return run_distributed(ctx.config, ctx.database_url, url, out=ctx.stderr)
    return run_scheduler(ctx.config, ctx.database_url, out=ctx.stderr)


def run_status(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.schedule_plan import plan_jobs
    from monitor.scheduler_jobs import find_alerts_hook, settings_of
    from monitor.status_report import format_report, gather

    schedule, digest = settings_of(ctx.config)
    plan = plan_jobs(
        ctx.config.sources, schedule, digest, alerts_available=find_alerts_hook() is not None
    )
    with ctx.session() as session:
        report = gather(
            session,
            plan,
            [s.name for s in ctx.config.sources],
            datetime.now(UTC),
            failures=args.failures,
            stories_window=timedelta(days=ctx.config.settings.stories.window_days),
        )
    if args.json:
        json.dump(report.to_json(), ctx.stdout, indent=2, ensure_ascii=False)
        ctx.stdout.write("\n")
    else:
        ctx.stdout.write(format_report(report))
    return 0
