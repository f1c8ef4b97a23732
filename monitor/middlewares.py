"""Downloader middlewares: the address guard against server-side request forgery."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

from monitor.config import ConfigError, load_config

Resolve = Callable[[str], Awaitable[str | None]]
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any spelling a resolver accepts
    ("127.0.0.1", "[::1]", "2130706433", "0x7f.1", "017700000001"), or None for a name."""
    host = host.strip("[]").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC_HOST.match(host) or not any(c.isdigit() for c in host):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, shared, reserved...: anything not globally routable."""
    return not address.is_global or address.is_multicast


def is_private_host(host: str) -> bool:
    """True for loopback, private, link-local and other non-public literal addresses and
    for the names that always mean this machine (localhost and its variants)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and is_private_address(address)


async def _reactor_resolve(host: str) -> str | None:
    """Resolve through the crawler's own (caching) resolver, so the connection that
    follows uses the very address checked here; None when the name does not resolve
    (the download then fails with a "dns" reason)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor

    resolver: Any = getattr(reactor, "resolver", None)
    if resolver is None:
        return None
    try:
        address: str = await maybe_deferred_to_future(resolver.getHostByName(host))
    except Exception:
        return None
    return address


class AddressGuardMiddleware:
    """Refuse requests to non-public addresses and non-HTTP schemes, before any connection.

    A feed can point anywhere and a redirect can lead anywhere. A source configured with
    ``allow_private = true`` may reach the private host its own URL names (an intranet
    feed, a local test site) and nothing else that is private: a redirect or a link from
    it to 169.254.169.254 or 10.0.0.1 is still refused. Host names are resolved first and
    the address is checked, so a public-looking name pointing at a private address is
    refused too. Redirects and robots.txt requests pass through here like any request.
    """

    def __init__(self, private_hosts: Mapping[str, str], resolve: Resolve | None = None) -> None:
        self.private_hosts = {k: v.lower() for k, v in private_hosts.items()}
        self.any_private = frozenset(self.private_hosts.values())
        self.resolve = resolve or _reactor_resolve

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        directory = Path(crawler.settings.get("NEWSMON_CONFIG_DIR", "config"))
        try:
            sources = load_config(directory).sources
        except ConfigError:
            sources = []
        return cls(
            {
                s.name: urlsplit(s.url).hostname or ""
                for s in sources
                if s.allow_private and urlsplit(s.url).hostname
            }
        )

    def _allowed_private(self, request: Request) -> frozenset[str]:
        source = request.meta.get("newsmon_source")
        if source is None:  # robots.txt and other requests made on a request's behalf
            return self.any_private
        if request.meta.get("newsmon_allow_private") and source in self.private_hosts:
            return frozenset({self.private_hosts[source]})
        return frozenset()

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise IgnoreRequest(f"blocked address: scheme {parts.scheme!r} is not http(s)")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise IgnoreRequest("blocked address: the URL has no host")
        if host in self._allowed_private(request):
            return
        if is_private_host(host):
            raise IgnoreRequest(
                f"blocked address: {host} is not a public address "
                "(only a source's own host may be private, with allow_private = true)"
            )
        if literal_address(host) is not None:
            return
        resolved = await self.resolve(host)
        if resolved is not None and is_private_host(resolved):
            raise IgnoreRequest(
                f"blocked address: {host} resolves to {resolved}, not a public address "
                "(only a source's own host may be private, with allow_private = true)"
            )


def _same_page(a: str, b: str) -> bool:
    return a.partition("#")[0] == b.partition("#")[0]


class RedirectLoopMiddleware:
    """Name a circular redirect for what it is, before Scrapy's duplicate filter silently
    drops the request that would close the circle (A -> B -> A is never fetched twice,
    so without this it vanishes without a record). Runs just before RedirectMiddleware
    sees the response (DOWNLOADER_MIDDLEWARES priority above 600)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopMiddleware:
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not 300 <= response.status < 400 or not location:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        seen = [*request.meta.get("redirect_urls", []), request.url]
        if any(_same_page(target, url) for url in seen):
            raise IgnoreRequest(
                f"redirect loop: {request.url} redirects back to {target} "
                f"after {len(seen) - 1} redirect(s)"
            )
        return response


_SINGLE_BYTE_LABELS = frozenset({"latin1", "iso8859-1", "cp1252", "ascii"})


def _strict_decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def repaired_encoding(body: bytes, header_encoding: str | None) -> str | None:
    """The encoding a page really uses when its HTTP header lies, else None.

    Two lies are common and detectable: a header naming a multi-byte charset (UTF-8)
    for bytes that are not valid in it while the page's own <meta charset> decodes them
    cleanly (old Cyrillic and Bulgarian sites behind a UTF-8 proxy); and a header naming
    Latin-1 for bytes that are valid UTF-8 with non-ASCII characters (which Latin-1
    text practically never is).
    """
    from w3lib.encoding import html_body_declared_encoding, resolve_encoding

    header = resolve_encoding(header_encoding or "") if header_encoding else None
    if header is None:
        return None
    if header in _SINGLE_BYTE_LABELS:
        if not body.isascii() and _strict_decodes(body, "utf-8"):
            return "utf-8"
        return None
    if _strict_decodes(body, header):
        return None
    declared = html_body_declared_encoding(body)
    declared = resolve_encoding(declared) if declared else None
    if declared and declared != header and _strict_decodes(body, declared):
        return declared
    return None


class CharsetRepairMiddleware:
    """Decode a page with the charset it really uses when the HTTP header lies (see
    repaired_encoding); counted under newsmon/charset-repaired. Runs after decompression
    (DOWNLOADER_MIDDLEWARES priority below 590)."""

    def __init__(self, stats: Any = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CharsetRepairMiddleware:
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        from w3lib.encoding import http_content_type_encoding

        header = http_content_type_encoding(
            (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        )
        encoding = repaired_encoding(response.body, header)
        if encoding is None:
            return response
        if self.stats is not None:
            self.stats.inc_value("newsmon/charset-repaired")
        return response.replace(encoding=encoding)
