"""Run one worker: Scrapy with the worker spider and the distributed settings overlay."""

from __future__ import annotations

import logging
import sys

from monitor.commands.base import CommandContext
from monitor.crawl_settings import scrapy_overrides
from monitor.distributed.enqueue import connect
from monitor.distributed.overlay import worker_overrides
from monitor.distributed.runner import redacted


def _open_database(ctx: CommandContext, attempts: int = 3) -> None:
    """Create or upgrade the schema. Workers started together on an empty database race
    to migrate it; the losers fail once and then find it current."""
    from sqlalchemy.exc import DBAPIError

    for attempt in range(1, attempts + 1):
        try:
            ctx.engine  # noqa: B018
            return
        except DBAPIError:
            if attempt == attempts:
                raise


def run(ctx: CommandContext, redis_url: str, name: str, *, verbose: bool = False) -> int:
    """Serve until SIGTERM/SIGINT (Scrapy's clean shutdown); 1 when it cannot start."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from monitor.distributed.spider import WorkerSpider

    client = connect(redis_url)
    try:
        client.ping()
    except Exception as exc:
        print(
            f"newsmon worker: cannot reach Redis at {redacted(redis_url)}: {exc}", file=sys.stderr
        )
        return 1
    finally:
        client.close()
    if ctx.database_url.startswith("sqlite"):
        print(
            "newsmon worker: warning: SQLite is shared only by workers on this machine; "
            "use PostgreSQL for a cluster",
            file=sys.stderr,
        )
    _open_database(ctx)
    settings = get_project_settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.setdict(scrapy_overrides(ctx.config, ctx.database_url), priority="cmdline")
    base = {
        "ITEM_PIPELINES": settings.getdict("ITEM_PIPELINES"),
        "EXTENSIONS": settings.getdict("EXTENSIONS"),
    }
    overlay = worker_overrides(ctx.config.settings.distributed, redis_url, base)
    settings.setdict(overlay, priority="cmdline")
    settings.set("NEWSMON_WORKER_NAME", name, priority="cmdline")
    settings.set("NEWSMON_PROGRESS_INTERVAL", 0, priority="cmdline")
    settings.set("LOG_LEVEL", "INFO" if verbose else "WARNING", priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO if verbose else logging.WARNING)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WorkerSpider)
    process.crawl(crawler)
    print(
        f"newsmon worker {name}: waiting for sources in {redacted(redis_url)} "
        f"({overlay['REDIS_START_URLS_KEY']})",
        file=sys.stderr,
        flush=True,
    )
    process.start()
    print(f"newsmon worker {name}: stopped", file=sys.stderr, flush=True)
    return 0
