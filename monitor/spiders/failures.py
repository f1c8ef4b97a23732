"""Turn a failed request or a bad response into a stable reason code and a sentence.

Reason codes are stable (they are stored in run_errors and counted in summaries); the
sentence is for people. Scrapy >= 2.14 wraps Twisted's errors in its own exception
types (DownloadTimeoutError, CannotResolveHostError, ...); both spellings are handled.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

_TIMEOUTS: tuple[type[BaseException], ...] = (
    scrapy_errors.DownloadTimeoutError,
    net_error.TimeoutError,
    net_error.TCPTimedOutError,
)
_DNS: tuple[type[BaseException], ...] = (
    scrapy_errors.CannotResolveHostError,
    net_error.DNSLookupError,
)
_REFUSED: tuple[type[BaseException], ...] = (
    scrapy_errors.DownloadConnectionRefusedError,
    net_error.ConnectionRefusedError,
)
_CANCELLED: tuple[type[BaseException], ...] = (scrapy_errors.DownloadCancelledError, CancelledError)
_CONNECTION: tuple[type[BaseException], ...] = (
    scrapy_errors.DownloadFailedError,
    scrapy_errors.ResponseDataLossError,
    ResponseNeverReceived,
    ResponseFailed,
    net_error.ConnectionLost,
    net_error.ConnectionDone,
)


def _redirect_origin(request: Any) -> str:
    urls = getattr(request, "meta", {}).get("redirect_urls") or []
    return f" (started at {urls[0]})" if urls else ""


def _http_error(exc: HttpError, request: Any) -> tuple[str, str]:
    status = exc.response.status
    if 300 <= status < 400:
        location = (exc.response.headers.get(b"Location") or b"").decode("latin-1")
        scheme = urlsplit(location).scheme.lower()
        if location and scheme not in ("", "http", "https"):
            return (
                "blocked-address",
                f"redirect to a non-HTTP URL refused (scheme {scheme!r})",
            )
        if not location:
            return "bad-redirect", f"HTTP {status} without a Location header"
        return "bad-redirect", f"HTTP {status} redirect not followed"
    return f"http-{status}", f"HTTP {status} from the server"


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(reason, detail) for a failed request; reason codes are stable, detail is for people."""
    exc: Any = failure.value
    request = getattr(failure, "request", None)
    if isinstance(exc, HttpError):
        return _http_error(exc, request)
    if isinstance(exc, _DNS):
        return "dns", "the host name could not be resolved"
    if isinstance(exc, _TIMEOUTS):
        return "timeout", "no complete answer within the download timeout"
    if isinstance(exc, _REFUSED):
        return "connection-refused", "the server refused the connection"
    if isinstance(exc, _CANCELLED):
        text = str(exc)
        return "too-large", (text or "the response exceeded the size limit and was cancelled")
    if isinstance(exc, IgnoreRequest):
        return _ignored(str(exc) or type(exc).__name__, request)
    if isinstance(exc, _CONNECTION):
        inner = getattr(exc, "reasons", None)
        detail = str(inner[0].value) if inner else str(exc)
        if "maxsize" in detail.lower() or "max size" in detail.lower():
            return "too-large", detail
        return "connection", f"the connection failed: {detail or type(exc).__name__}"
    return "fetch-error", f"{type(exc).__name__}: {exc}"


def _ignored(text: str, request: Any) -> tuple[str, str]:
    lowered = text.lower()
    if "robots.txt" in lowered:
        return "robots", "forbidden by the site's robots.txt"
    if "download_maxsize" in lowered or "maxsize" in lowered or "max size" in lowered:
        return "too-large", text
    if lowered.startswith("redirect loop"):
        return "redirect-loop", text + _redirect_origin(request)
    if "max redirections" in lowered:
        return "too-many-redirects", f"gave up following redirects{_redirect_origin(request)}"
    if "blocked address" in lowered:
        return "blocked-address", text + _redirect_origin(request)
    return "ignored", text


def looks_binary(body: bytes) -> bool:
    """True when a body served as HTML is binary data: NUL bytes or mostly control bytes
    in its first 4 KB (text in any charset, UTF-16 aside, has neither)."""
    head = body[:4096]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    return control > len(head) // 10
