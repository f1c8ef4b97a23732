"""Where log lines go: one stderr handler whose level the command line decides."""

from __future__ import annotations

import logging


def set_log_level(verbose: bool) -> None:
    """WARNING (or INFO with -v) on stderr.

    The level is set on the handler, not only on the root logger: Scrapy sets its own
    loggers to DEBUG and resets the root level when a crawl starts.
    """
    level = logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    root.setLevel(level)
    for handler in root.handlers:
        handler.setLevel(level)
