"""Scrapy settings of the newsmon project (scrapy.cfg points here).

Values that come from config/newsmon.toml are applied on top of these by
monitor.crawl_settings when a crawl starts; these are the fixed parts and safe defaults.
"""

BOT_NAME = "newsmon"
SPIDER_MODULES = ["monitor.spiders"]
NEWSPIDER_MODULE = "monitor.spiders"

NEWSMON_CONFIG_DIR = "config"
NEWSMON_DATABASE_URL = ""

USER_AGENT = "newsmon/0.1 (news monitoring)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio tasks for the output of every response (default 100),
# yet an article page yields one item and a feed only requests: 100 tasks a page were
# about a tenth of the crawler process's CPU.
CONCURRENT_ITEMS = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10_000_000
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "monitor.pipelines.ExtractPipeline": 100,
    "monitor.pipelines.MatchPipeline": 200,
    "monitor.pipelines.StorePipeline": 300,
}

EXTENSIONS = {
    "monitor.recorder.RunRecorder": 500,
}

DOWNLOADER_MIDDLEWARES = {
    "monitor.middlewares.AddressGuardMiddleware": 50,
    # Scrapy 2.19's robots.txt middleware lets through requests that waited for the
    # file after the first one: the shared one hands each its own answer.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "monitor.spiders.politeness.SharedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "monitor.spiders.politeness.PoliteRetryMiddleware": 550,
    "monitor.spiders.politeness.SourceDelayMiddleware": 560,
    "monitor.middlewares.CharsetRepairMiddleware": 560,
    "monitor.middlewares.RedirectLoopMiddleware": 650,
}
LOG_FORMATTER = "monitor.logformatter.NewsmonLogFormatter"
