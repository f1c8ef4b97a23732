"""`newsmon crawl`: one Scrapy crawl of the configured sources, then its summary."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from monitor.commands.base import CommandContext
from monitor.config import ConfigError
from monitor.crawl_settings import scrapy_overrides
from monitor.logs import set_log_level
from monitor.summary import format_run_table, run_to_json
from storage.models import CrawlRun
from storage.runs import run_errors


def register(sub: Any) -> None:
    p = sub.add_parser("crawl", help="crawl the configured sources once")
    p.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="crawl only this source (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument(
        "--since",
        metavar="DATE",
        type=date.fromisoformat,
        help="backfill since DATE (YYYY-MM-DD): no HTTP cache, no max_age_days for this run",
    )
    p.set_defaults(handler=run_crawl)


def run_crawl(args: argparse.Namespace, ctx: CommandContext) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    names = {s.name for s in ctx.config.sources}
    for name in args.source:
        if name not in names:
            raise ConfigError(
                ctx.config.directory / "sources.toml",
                "source",
                f"no source named {name!r} (known: {', '.join(sorted(names))})",
            )
    if not args.source and not any(s.enabled for s in ctx.config.sources):
        print("newsmon: no enabled sources in sources.toml", file=sys.stderr)
        return 1
    ctx.engine  # noqa: B018 - create or upgrade the schema before the crawl starts
    settings = get_project_settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.setdict(scrapy_overrides(ctx.config, ctx.database_url), priority="cmdline")
    settings.set("LOG_LEVEL", "INFO" if args.verbose else "WARNING", priority="cmdline")
    settings.set(
        "NEWSMON_PROGRESS_INTERVAL", 0 if args.quiet or args.json else 5.0, priority="cmdline"
    )
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    set_log_level(args.verbose)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("news")
    set_log_level(args.verbose)
    process.crawl(crawler, sources=",".join(args.source), since=str(args.since or ""))
    process.start()
    run_id = crawler.stats.get_value("newsmon/run_id") if crawler.stats else None
    if run_id is None:
        print("newsmon: the crawl could not start (see the log above)", file=sys.stderr)
        return 1
    with ctx.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        errors = run_errors(session, run.id)
        if args.json:
            json.dump(run_to_json(run, errors), ctx.stdout, indent=2, ensure_ascii=False)
            ctx.stdout.write("\n")
        else:
            print(format_run_table(run, errors), file=ctx.stdout)
        return 0 if run.status == "ok" else 1
