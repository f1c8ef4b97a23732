"""newsmon: a news-monitoring crawler built on Scrapy."""

__version__ = "0.1.0"
