"""Discovery from a big sitemap index when almost every URL is already stored.

    python -m bench discovery [--urls 50000] [--known 49000] [--children 50] [--no-write]

A local server (127.0.0.1, counting every request) serves a sitemap index of
``--children`` sitemaps holding ``--urls`` article URLs, and an invented page for each
article. ``--known`` of those URLs are put into article_urls first (storage functions),
then:

  in-process  the discovery path of the spider without the network: parse every sitemap,
              filter by date/language, look the URL keys up in storage. Time per URL and
              per known URL, and the peak of Python allocations (tracemalloc).
  crawl 1     `newsmon crawl` of that one sitemap source: wall time, peak RSS, and the
              requests the server saw by kind (must be the sitemaps + the new articles).
  crawl 2     the same again: the leaf sitemaps answer 304 (conditional GET), nothing is
              parsed and no article is requested.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import ROOT, append_results

HEADING = "## Discovery"


class CountingSite:
    """Sitemap index, sitemaps (with ETags) and article pages, generated on request."""

    def __init__(self, urls: int, children: int) -> None:
        self.urls, self.children = urls, children
        self.per_child = -(-urls // children)
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, body, ctype, etag = site.answer(
                    self.path, self.headers.get("If-None-Match")
                )
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def article_url(self, i: int) -> str:
        return f"{self.base}/news/{i}.html"

    def child_xml(self, c: int) -> bytes:
        start, stop = c * self.per_child, min(self.urls, (c + 1) * self.per_child)
        rows = "".join(
            f"<url><loc>{self.article_url(i)}</loc><lastmod>2026-11-20</lastmod></url>"
            for i in range(start, stop)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
        ).encode()

    def index_xml(self) -> bytes:
        rows = "".join(
            f"<sitemap><loc>{self.base}/sitemaps/{c}.xml</loc></sitemap>"
            for c in range(self.children)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}'
            "</sitemapindex>"
        ).encode()

    def answer(self, path: str, if_none_match: str | None) -> tuple[int, bytes, str, str]:
        with self.lock:
            kind = path.split("/")[1] if path.count("/") > 1 else path.lstrip("/")
            self.hits[kind] += 1
        if path == "/sitemaps/index.xml":
            return 200, self.index_xml(), "application/xml", ""
        if path.startswith("/sitemaps/"):
            etag = f'"{path}-v1"'
            if if_none_match == etag:
                with self.lock:
                    self.hits["304"] += 1
                return 304, b"", "application/xml", etag
            return 200, self.child_xml(int(path[10:-4])), "application/xml", etag
        if path.startswith("/news/"):
            n = path[6:-5]
            text = "".join(
                f"<p>Dispatch {n}, part {k}: the harbour authority of town {n} counted "
                f"{k * 7} cranes and {k * 3} ships waiting outside the breakwater today.</p>"
                for k in range(1, 5)
            )
            page = f"<html><head><title>Dispatch {n}</title></head><body><article>"
            page += f"<h1>Dispatch {n}</h1>{text}</article></body></html>"
            return 200, page.encode(), "text/html; charset=utf-8", ""
        return 404, b"not here", "text/plain", ""

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def seed_known(db_url: str, urls: list[str]) -> float:
    """Store one article and make ``urls`` its aliases; seconds taken."""
    from sqlalchemy.orm import Session

    from monitor.dedup import url_key
    from storage.articles import NewArticle, add_article, add_url_aliases
    from storage.engine import open_database

    started = time.perf_counter()
    engine = open_database(db_url)
    keys = [url_key(u) for u in urls]
    with Session(engine) as session, session.begin():
        first = NewArticle(
            url_hash=keys[0], canonical_url=urls[0], url=urls[0], source="seed", fingerprint="0"
        )
        article = add_article(session, first, [])
        for start in range(0, len(keys), 5000):
            add_url_aliases(session, article.id, keys[start : start + 5000])
    engine.dispose()
    return time.perf_counter() - started


def discovery_in_process(site: CountingSite, db_url: str) -> tuple[float, int, int]:
    """(seconds, links kept, links known) for the spider's discovery path, no network."""
    from sqlalchemy.orm import Session

    from monitor.dedup import url_key
    from monitor.discovery import parse_sitemap
    from monitor.spiders.source_kinds import Cutoffs, plan_links
    from storage.articles import known_url_hashes
    from storage.engine import open_database

    bodies = [site.child_xml(c) for c in range(site.children)]
    engine = open_database(db_url)
    now = datetime.now(UTC)
    kept = known = 0
    started = time.perf_counter()
    with Session(engine) as session:
        for c, body in enumerate(bodies):
            result = parse_sitemap(body, f"{site.base}/sitemaps/{c}.xml")
            plan = plan_links(result.links, Cutoffs(None, None, ()), now)
            keys = {url_key(link.url): link for link in plan.kept}
            found = known_url_hashes(session, keys)
            known += len(found)
            kept += len(keys) - len(found)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, kept, known


def peak_alloc_mb(run: Callable[[], Any]) -> float:
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def crawl(config: Path, db_url: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "--db",
            db_url,
            "crawl",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed: {proc.stderr[-3000:]}")
    summary: dict[str, Any] = json.loads(proc.stdout)
    return summary, time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench discovery")
    parser.add_argument("--urls", type=int, default=50_000)
    parser.add_argument("--known", type=int, default=49_000)
    parser.add_argument("--children", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/")
    args = parser.parse_args(argv)
    site = CountingSite(args.urls, args.children)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            db_url = f"sqlite:///{work / 'bench.db'}"
            seed_seconds = seed_known(db_url, [site.article_url(i) for i in range(args.known)])
            seconds, kept, known = discovery_in_process(site, db_url)
            peak_mb = peak_alloc_mb(lambda: discovery_in_process(site, db_url))
            config = work / "config"
            config.mkdir()
            (config / "newsmon.toml").write_text(
                "[crawl]\nautothrottle = false\nconcurrent_requests = 16\n"
                "concurrent_requests_per_domain = 16\n",
                encoding="utf-8",
            )
            (config / "sources.toml").write_text(
                f'[[source]]\nname = "big"\nkind = "sitemap"\n'
                f'url = "{site.base}/sitemaps/index.xml"\nallow_private = true\n',
                encoding="utf-8",
            )
            (config / "topics.toml").write_bytes((ROOT / "config" / "topics.toml").read_bytes())
            first, first_wall = crawl(config, db_url)
            hits_first = dict(site.hits)
            site.hits.clear()
            second, second_wall = crawl(config, db_url)
            hits_second = dict(site.hits)
    finally:
        site.close()
    body = report(
        args,
        seed_seconds,
        seconds,
        kept,
        known,
        peak_mb,
        first,
        first_wall,
        hits_first,
        second,
        second_wall,
        hits_second,
    )
    print(body)
    if not args.no_write:
        append_results(HEADING, body)
    expected_new = args.urls - args.known
    ok = hits_first.get("news", 0) == expected_new and hits_second.get("news", 0) == 0
    return 0 if ok else 1


def report(
    args: argparse.Namespace,
    seed_seconds: float,
    seconds: float,
    kept: int,
    known: int,
    peak_mb: float,
    first: dict[str, Any],
    first_wall: float,
    hits_first: dict[str, int],
    second: dict[str, Any],
    second_wall: float,
    hits_second: dict[str, int],
) -> str:
    def row(name: str, summary: dict[str, Any], wall: float, hits: dict[str, int]) -> str:
        stats = summary.get("stats", {})
        rss = stats.get("memusage/max")
        src = summary["sources"][0] if summary.get("sources") else {}
        return (
            f"| {name} | {wall:.1f} | {rss / 1e6 if rss else float('nan'):.0f} | "
            f"{hits.get('sitemaps', 0)} ({hits.get('304', 0)} x 304) | {hits.get('news', 0)} | "
            f"{sum(hits.values()) - hits.get('304', 0)} | {src.get('new', 0)} |"
        )

    per_known_ms = seconds / max(known, 1) * 1000
    lines = [
        f"`python -m bench discovery --urls {args.urls} --known {args.known} "
        f"--children {args.children}`: a sitemap index of {args.children} sitemaps, "
        f"{args.urls} article URLs, {args.known} of them already in article_urls "
        f"(seeded in {seed_seconds:.1f} s). SQLite.",
        "",
        f"In-process discovery (parse every sitemap, filter, look up the URL keys): "
        f"{seconds:.2f} s for {args.urls} URLs = **{per_known_ms:.3f} ms per known URL** "
        f"(target <= 1 ms; the whole cost divided by the known URLs); {kept} new, {known} "
        f"known; peak Python allocations {peak_mb:.0f} MB.",
        "",
        "| run | wall s | peak RSS MB | sitemap requests | article requests | all requests "
        "| new articles |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row("crawl 1", first, first_wall, hits_first),
        row("crawl 2 (conditional GET)", second, second_wall, hits_second),
        "",
        "Requests are counted at the server (robots.txt included in 'all'). Article requests "
        "must equal the new URLs in crawl 1 and be 0 in crawl 2.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
