"""Pure discovery parsers: feeds, sitemaps, robots.txt, HTML listing pages and search
feeds -> article links. No Scrapy, no storage, no I/O; every parser returns a result and
never raises on any input. The implementation lives in monitor/discovery_*.py.
"""

from __future__ import annotations

from monitor.discovery_common import (
    DiscoveredLink,
    LongLinks,
    LongLinkTally,
    ParseResult,
    parse_date,
    resolve_url,
)
from monitor.discovery_feeds import parse_feed, parse_json_feed
from monitor.discovery_filter import FilteredLinks, filter_links
from monitor.discovery_html import (
    compile_patterns,
    discover_feeds_in_html,
    extract_listing_links,
    find_next_page,
    same_site,
)
from monitor.discovery_safexml import (
    gunzip_bounded,
)
from monitor.discovery_search import (
    gdelt_language,
    gdelt_query_url,
    google_news_search_url,
    parse_gdelt_artlist,
    parse_google_news_rss,
)
from monitor.discovery_sitemaps import parse_sitemap, parse_text_sitemap, sitemaps_from_robots

__all__ = [
    "DiscoveredLink",
    "FilteredLinks",
    "LongLinkTally",
    "LongLinks",
    "ParseResult",
    "compile_patterns",
    "discover_feeds_in_html",
    "extract_listing_links",
    "filter_links",
    "find_next_page",
    "gdelt_language",
    "gdelt_query_url",
    "google_news_search_url",
    "gunzip_bounded",
    "parse_date",
    "parse_feed",
    "parse_gdelt_artlist",
    "parse_google_news_rss",
    "parse_json_feed",
    "parse_sitemap",
    "parse_text_sitemap",
    "resolve_url",
    "same_site",
    "sitemaps_from_robots",
]
