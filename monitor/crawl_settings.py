"""Translate the validated newsmon configuration into Scrapy settings for one crawl."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from monitor.config import AppConfig, load_config, resolve_database_url


def scrapy_overrides(config: AppConfig, database_url: str) -> dict[str, Any]:
    crawl = config.settings.crawl
    return {
        "NEWSMON_CONFIG_DIR": str(config.directory),
        "NEWSMON_DATABASE_URL": database_url,
        "USER_AGENT": crawl.user_agent,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": max(crawl.max_page_bytes, crawl.max_feed_bytes),
        "NEWSMON_MAX_PAGE_BYTES": crawl.max_page_bytes,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "RETRY_TIMES": crawl.retry_times,
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "NEWSMON_EXTRACT_WORKERS": crawl.extract_workers,
    }


def crawl_config(settings: BaseSettings) -> AppConfig:
    """The configuration a crawl runs with, read once however many components ask.

    The spider, the pipelines and the recorder each need it in from_crawler; the cache is
    keyed by the files' modification times, so an edited file is read again.
    """
    directory = Path(settings.get("NEWSMON_CONFIG_DIR", "config"))
    stamps = tuple(
        (p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.toml")) if p.is_file()
    )
    return _load(directory, stamps)


@functools.lru_cache(maxsize=4)
def _load(directory: Path, stamps: tuple[tuple[str, int], ...]) -> AppConfig:
    return load_config(directory)


def database_url_of(settings: BaseSettings) -> str:
    """The crawl's database: set by `newsmon crawl`, or (plain `scrapy crawl news`) the one
    NEWSMON_DATABASE_URL or the configuration names."""
    url = settings.get("NEWSMON_DATABASE_URL")
    if url:
        return str(url)
    return resolve_database_url(None, crawl_config(settings))
