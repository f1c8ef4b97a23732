"""Pure discovery parsers: feeds, sitemaps, robots.txt, HTML listing pages and search
feeds -> article links. No Scrapy, no storage, no I/O; every parser returns a result and
never raises on any input. The implementation lives in monitor/discovery_*.py.
"""

from __future__ import annotations

from monitor.discovery_common import (
    DiscoveredLink,
    ParseResult,
    gunzip_bounded,
    parse_date,
    resolve_url,
)
from monitor.discovery_feeds import parse_feed, parse_json_feed

__all__ = [
    "DiscoveredLink",
    "ParseResult",
    "gunzip_bounded",
    "parse_date",
    "parse_feed",
    "parse_json_feed",
    "resolve_url",
]
