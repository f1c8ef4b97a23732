"""Custom Scrapy signals: components report problems and outcomes, the run recorder listens."""

page_error = object()
"""Sent with source, url, reason (a short stable code) and detail (words for the user)."""

links_discovered = object()
"""Sent with source and count: links read from a feed, sitemap or listing."""

article_stored = object()
"""Sent with source, url, outcome ("new" | "duplicate" | "known") and matched (bool)."""
