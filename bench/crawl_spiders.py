"""Reference spiders for `python -m bench crawl`: the ceiling and the naive pipeline.

    python -m bench.crawl_spiders fetch|inline FEED_URL [FEED_URL ...]

``fetch`` reads the feeds and downloads every page, doing nothing with them (what Scrapy
alone reaches on this machine); ``inline`` also runs extract_article in the callback, in
the crawler's process (what a straightforward Scrapy + trafilatura project does).
Both print their Scrapy stats as JSON on the last line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from monitor.discovery import parse_feed
from monitor.extract import extract_article


class FeedSpider(Spider):
    name = "bench"

    def __init__(self, feeds: list[str], extract: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds = feeds
        self.extract = extract
        self.extracted = 0

    async def start(self) -> AsyncIterator[Request]:
        for url in self.feeds:
            yield Request(url, callback=self.parse_feed, dont_filter=True, priority=10)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        for link in parse_feed(response.body, response.url, max_items=1_000_000).links:
            yield Request(link.url, callback=self.parse_page)

    def parse_page(self, response: Response) -> None:
        if self.extract and extract_article(response.text, response.url) is not None:
            self.extracted += 1


def settings() -> dict[str, Any]:
    return {
        "LOG_LEVEL": "WARNING",
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "AUTOTHROTTLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
    }


def main(argv: list[str]) -> int:
    mode, feeds = argv[0], argv[1:]
    process = CrawlerProcess(settings())
    crawler = process.create_crawler(FeedSpider)
    process.crawl(crawler, feeds=feeds, extract=mode == "inline")
    process.start()
    assert crawler.stats is not None
    stats = {
        k: (v if isinstance(v, int | float | str) else str(v))
        for k, v in crawler.stats.get_stats().items()
    }
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
