"""CPU cost of feed and sitemap parsing per 10k items (run with -s to see the figures).

The bound is loose (a shared 2-core machine): issue 7 allows 1 ms per known URL, i.e.
10,000 ms per 10k; measured figures are ~120-160 ms (RSS) and ~85-135 ms (sitemap).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from monitor.discovery import ParseResult, parse_feed, parse_sitemap

ITEMS = 50_000
BOUND_MS_PER_10K = 1_000


def _rss(count: int) -> bytes:
    items = b"".join(
        b"<item><title>Item %d about workers abroad</title>"
        b"<link>https://big.example.org/2025/01/a-%d.html</link>"
        b"<guid>https://big.example.org/2025/01/a-%d.html</guid>"
        b"<pubDate>Mon, 06 Jan 2025 %02d:%02d:00 GMT</pubDate>"
        b"<description>Summary of item %d.</description></item>"
        % (i, i, i, i // 60 % 24, i % 60, i)
        for i in range(count)
    )
    return b"<rss version='2.0'><channel><title>x</title>" + items + b"</channel></rss>"


def _sitemap(count: int) -> bytes:
    urls = b"".join(
        b"<url><loc>https://big.example.org/2025/01/a-%d.html</loc>"
        b"<lastmod>2025-01-06T%02d:%02d:00Z</lastmod></url>" % (i, i // 60 % 24, i % 60)
        for i in range(count)
    )
    return b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>" + urls + b"</urlset>"


def _cpu_ms_per_10k(parse: Callable[[], ParseResult]) -> tuple[float, ParseResult]:
    started = time.process_time()
    result = parse()
    return (time.process_time() - started) * 1000 * 10_000 / ITEMS, result


@pytest.mark.slow
def test_feed_and_sitemap_cost_per_10k_items() -> None:
    feed, sitemap = _rss(ITEMS), _sitemap(ITEMS)
    feed_ms, feed_result = _cpu_ms_per_10k(lambda: parse_feed(feed, "https://big.example.org/f"))
    map_ms, map_result = _cpu_ms_per_10k(
        lambda: parse_sitemap(sitemap, "https://big.example.org/s.xml")
    )
    print(f"\nparse_feed (RSS, max_items=500): {feed_ms:.0f} ms CPU per 10k items")
    print(f"parse_sitemap (urlset, all kept): {map_ms:.0f} ms CPU per 10k URLs")
    assert len(feed_result.links) == 500 and feed_result.truncated
    assert len(map_result.links) == ITEMS
    assert feed_ms < BOUND_MS_PER_10K
    assert map_ms < BOUND_MS_PER_10K
