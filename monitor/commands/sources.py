"""`newsmon sources list|add|check|health`: see, add and test the configured sources.

`check` and `add` fetch through a one-shot Scrapy run (monitor/spiders/check.py), so
they send the crawl's User-Agent, obey robots.txt and the address guard, and keep its
size limits. `health` is the alerts module's report (source health from past runs).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tomllib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from monitor.commands.base import CommandContext

_LANG = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def register(sub: Any) -> None:
    s = sub.add_parser("sources", help="list, add and check sources; their health")
    s_sub = s.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    ls = s_sub.add_parser("list", help="the configured sources")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=run_list)
    add = s_sub.add_parser("add", help="discover a site's feeds and sitemaps, add an entry")
    add.add_argument("url", metavar="URL", help="a page of the site (its home or a section)")
    add.add_argument("--name", help="the source's name (default: from the host name)")
    add.add_argument("--dry-run", action="store_true", help="print the entry, write nothing")
    add.set_defaults(handler=run_add)
    check = s_sub.add_parser("check", help="fetch each source once and report what it yields")
    check.add_argument("names", nargs="*", metavar="NAME", help="only these sources")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=run_check)
    from monitor.commands.alerts import run_health

    h = s_sub.add_parser("health", help="each source's health state and last success")
    h.add_argument("--json", action="store_true", help="print JSON")
    h.set_defaults(handler=run_health)


def run_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    sources = ctx.config.sources
    if args.json:
        rows = [s.model_dump(exclude_defaults=True) | {"kind": s.kind} for s in sources]
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    width = max([len(s.name) for s in sources] + [4])
    print(f"{'name':<{width}}  {'kind':<11}  {'lang':<4}  on   url or query", file=ctx.stdout)
    for s in sources:
        where = f"{s.query!r}" if s.query else s.url
        print(
            f"{s.name:<{width}}  {s.kind:<11}  {s.language or '-':<4}  "
            f"{'yes' if s.enabled else 'no ':<3}  {where}",
            file=ctx.stdout,
        )
    print(f"{len(sources)} sources, {sum(s.enabled for s in sources)} enabled", file=ctx.stdout)
    return 0


def _run_spider(ctx: CommandContext, spider: str, verbose: bool, **kwargs: Any) -> Any:
    """Run one of the one-shot spiders in this process; return the spider."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from monitor.crawl_settings import scrapy_overrides

    settings = get_project_settings()
    settings.setmodule("monitor.settings", priority="project")
    settings.setdict(scrapy_overrides(ctx.config, ctx.database_url), priority="cmdline")
    settings.setdict({"LOG_LEVEL": "ERROR", "LOG_INSTALL_ROOT_HANDLER": False}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    level = logging.INFO if verbose else logging.ERROR
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    process.crawl(crawler, **kwargs)
    process.start()
    return crawler.spider


def run_check(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.config import ConfigError

    known = {s.name: s for s in ctx.config.sources}
    for name in args.names:
        if name not in known:
            raise ConfigError(
                ctx.config.directory / "sources.toml", "source", f"no source named {name!r}"
            )
    chosen = [known[n] for n in args.names] or [s for s in ctx.config.sources if s.enabled]
    if not chosen:
        print("newsmon: no enabled sources in sources.toml", file=ctx.stderr)
        return 1
    crawl = ctx.config.settings.crawl
    spider = _run_spider(
        ctx,
        "sourcecheck",
        args.verbose,
        sources=chosen,
        max_feed_bytes=crawl.max_feed_bytes,
        max_page_bytes=crawl.max_page_bytes,
    )
    results = [spider.results[s.name] for s in chosen]
    if args.json:
        rows = [
            {
                "source": r.source,
                "kind": r.kind,
                "url": r.url,
                "ok": r.ok,
                "verdict": r.verdict,
                "items": r.items,
                "reason": r.reason or None,
                "detail": r.detail or None,
                "notes": r.notes,
            }
            for r in results
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=ctx.stdout)
    else:
        width = max(len(r.source) for r in results)
        for r in results:
            verdict = f"OK, {r.items} items" if r.ok else r.verdict
            print(f"{r.source:<{width}}  {r.kind:<11}  {verdict}", file=ctx.stdout)
            for line in ([r.detail] if r.detail else []) + r.notes:
                print(f"{'':<{width}}    {line}", file=ctx.stdout)
        failed = sum(not r.ok for r in results)
        print(f"{len(results) - failed} OK, {failed} failed", file=ctx.stdout)
    return 1 if any(not r.ok for r in results) else 0


def default_name(url: str) -> str:
    host = (urlsplit(url).hostname or "site").lower().removeprefix("www.")
    name = re.sub(r"[^a-z0-9]+", "-", host).strip("-")
    return name[:100] or "site"


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def render_entry(
    name: str,
    page_url: str,
    feeds: list[str],
    sitemaps: list[str],
    language: str | None,
    allow_private: bool = False,
) -> tuple[str, str]:
    """The commented [[source]] text for a discovered site, and the URL it watches."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [f"# Added by `newsmon sources add {page_url}` on {today}."]
    parts = urlsplit(page_url)
    if feeds:
        kind, url = "feed", feeds[0]
        lines.append("# The page advertises this feed (<link rel=alternate>).")
    elif sitemaps:
        kind, url = "robots", f"{parts.scheme}://{parts.netloc}/"
        lines.append("# No feed advertised; robots.txt names sitemaps: read them (newest first).")
    else:
        kind, url = "section", page_url
        lines.append("# No feed and no sitemap found: read the page as a section listing.")
        lines.append("# Set `allow` to the URL pattern of its articles, then enable it.")
    for other in feeds[1:]:
        lines.append(f"# Another feed of the page: {other}")
    for sitemap in sitemaps:
        lines.append(f"# Sitemap in robots.txt: {sitemap}")
    lines += ["[[source]]", f'name = "{name}"', f'kind = "{kind}"', f"url = {json.dumps(url)}"]
    if language:
        lines.append(f'language = "{language}"')
    if kind == "robots":
        lines.append("max_age_days = 3")
    if kind == "section":
        lines += ['# allow = ["/news/"]', "enabled = false"]
    if allow_private:
        lines.append("allow_private = true")
    return "\n".join(lines) + "\n", url


def run_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from pydantic import ValidationError

    from monitor.config import SourcesFile
    from monitor.discovery import discover_feeds_in_html, parse_feed, sitemaps_from_robots
    from monitor.middlewares import is_private_host

    page_url: str = args.url
    parts = urlsplit(page_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        print(f"newsmon sources add: not an http(s) URL: {page_url!r}", file=ctx.stderr)
        return 2
    name = args.name or default_name(page_url)
    if any(s.name == name for s in ctx.config.sources):
        print(f"newsmon sources add: a source named {name!r} exists; use --name", file=ctx.stderr)
        return 2
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    spider = _run_spider(ctx, "sourceprobe", args.verbose, urls=[page_url, robots_url])
    page, robots = spider.fetched[page_url], spider.fetched[robots_url]
    if page.reason or page.status >= 400:
        detail = page.detail or f"HTTP {page.status}"
        print(f"newsmon sources add: cannot fetch {page_url}: {detail}", file=ctx.stderr)
        return 1
    base = page.final_url or page_url
    as_feed = parse_feed(page.body, base)
    feeds = [page_url] if as_feed.links else discover_feeds_in_html(page.body, base)
    sitemaps = sitemaps_from_robots(robots.body, robots_url) if robots.status == 200 else []
    match = _LANG.search(page.body[:20_000])
    language = match.group(1).decode().lower() if match else None
    entry, url = render_entry(
        name, page_url, feeds, sitemaps, language, allow_private=is_private_host(parts.hostname)
    )
    for s in ctx.config.sources:
        if _same(s.url, url):
            print(f"newsmon sources add: {url} is already source {s.name!r}", file=ctx.stderr)
            return 2
    path = ctx.config.directory / "sources.toml"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = (old.rstrip() + "\n\n" if old.strip() else "") + entry
    try:
        SourcesFile.model_validate(tomllib.loads(new))
    except (ValidationError, tomllib.TOMLDecodeError) as exc:  # a bug here, not the user's
        print(f"newsmon sources add: the new entry does not validate: {exc}", file=ctx.stderr)
        return 1
    if args.dry_run:
        print(entry, file=ctx.stdout, end="")
        return 0
    path.write_text(new, encoding="utf-8")
    print(entry, file=ctx.stdout, end="")
    print(f"added source {name!r} ({url}) to {path}", file=ctx.stdout)
    return 0
