"""Downloader middlewares: the address guard against server-side request forgery."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and other non-public literal addresses."""
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not addr.is_global


class AddressGuardMiddleware:
    """Refuse requests to non-public addresses and non-HTTP schemes.

    A feed can point anywhere and a redirect can lead anywhere; only a source configured
    with ``allow_private = true`` may reach loopback or private addresses. Redirects keep
    the meta of the request they came from, so they are checked by the same rule.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls()

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise IgnoreRequest(f"blocked address: scheme {parts.scheme!r} is not http(s)")
        if request.meta.get("newsmon_allow_private"):
            return
        if request.url.endswith("/robots.txt") and "newsmon_source" not in request.meta:
            host = parts.hostname or ""
            if is_private_host(host):
                return
        if is_private_host(parts.hostname or ""):
            raise IgnoreRequest(
                f"blocked address: {parts.hostname} is not a public address "
                "(set allow_private = true on the source to allow it)"
            )
