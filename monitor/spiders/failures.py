"""Turn a Twisted failure into a stable reason code and a sentence for the user."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(reason, detail) for a failed request; reason codes are stable, detail is for people."""
    exc: Any = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http-{status}", f"HTTP {status} from the server"
    if isinstance(exc, net_error.DNSLookupError):
        return "dns", "the host name could not be resolved"
    if isinstance(exc, net_error.TimeoutError | net_error.TCPTimedOutError):
        return "timeout", "no complete answer within the download timeout"
    if isinstance(exc, net_error.ConnectionRefusedError):
        return "connection-refused", "the server refused the connection"
    if isinstance(exc, CancelledError):
        return "too-large", "the response exceeded the size limit and was cancelled"
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or type(exc).__name__
        if "robots.txt" in text:
            return "robots", "forbidden by the site's robots.txt"
        if "DOWNLOAD_MAXSIZE" in text or "maxsize" in text.lower():
            return "too-large", text
        if "address" in text.lower():
            return "blocked-address", text
        return "ignored", text
    if isinstance(
        exc,
        ResponseNeverReceived
        | ResponseFailed
        | net_error.ConnectionLost
        | net_error.ConnectionDone,
    ):
        inner = getattr(exc, "reasons", None)
        detail = str(inner[0].value) if inner else str(exc)
        if "maxsize" in detail.lower() or "DOWNLOAD_MAXSIZE" in detail:
            return "too-large", detail
        return "connection", f"the connection failed: {detail or type(exc).__name__}"
    return "fetch-error", f"{type(exc).__name__}: {exc}"
