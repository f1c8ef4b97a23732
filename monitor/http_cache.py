"""Conditional GET for feeds and sitemaps: send the validators of the last good fetch,
and keep the new ones only once that fetch has been fully used.

A validator saved too early would hide articles for good: if the crawl stops (or an
article request fails for a reason worth retrying) after the feed answered 200, the next
run's 304 would skip the items never fetched. So validators are kept in memory while the
crawl runs, dropped for any listing whose articles failed transiently, and written in one
transaction when the crawl finishes normally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.http_cache import Validators, get_validators, save_validators

TRANSIENT_REASONS = frozenset(
    {"timeout", "connection", "connection-refused", "dns", "too-many-redirects", "fetch-error"}
)


def is_transient(reason: str) -> bool:
    """Failures a later run may not repeat: worth refetching the listing for."""
    return (
        reason in TRANSIENT_REASONS
        or reason in ("http-429", "http-408")
        or (reason.startswith("http-5"))
    )


def validators_from_headers(url: str, headers: Mapping[bytes, object]) -> Validators:
    def first(name: bytes) -> str | None:
        value = headers.get(name)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if isinstance(value, bytes):
            text = value.decode("latin-1").strip()
            return text[:1000] or None
        return None

    return Validators(url, first(b"ETag"), first(b"Last-Modified"))


class ConditionalGet:
    """Validators to send per URL, and those to keep after the crawl."""

    def __init__(self, engine: Engine | None, enabled: bool = True) -> None:
        self.engine = engine
        self.enabled = enabled and engine is not None
        self.pending: dict[str, Validators] = {}
        self.tainted: set[str] = set()

    def request_headers(self, url: str) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for ``url`` (nothing when disabled or unknown)."""
        if not self.enabled or self.engine is None:
            return {}
        with Session(self.engine) as session:
            found = get_validators(session, [url]).get(url)
        headers: dict[str, str] = {}
        if found is not None and found.etag:
            headers["If-None-Match"] = found.etag
        if found is not None and found.last_modified:
            headers["If-Modified-Since"] = found.last_modified
        return headers

    def remember(self, url: str, headers: Mapping[bytes, object]) -> None:
        """A listing was parsed: keep its validators unless its articles fail transiently."""
        if self.enabled:
            self.pending[url] = validators_from_headers(url, headers)

    def taint(self, listing_url: str) -> None:
        self.tainted.add(listing_url)

    def save(self, now: Callable[[], datetime]) -> int:
        """Write the validators of every cleanly used listing; returns how many."""
        if not self.enabled or self.engine is None or not self.pending:
            return 0
        keep = [v for url, v in self.pending.items() if url not in self.tainted]
        gone = [Validators(url) for url in self.tainted if url in self.pending]
        with Session(self.engine) as session, session.begin():
            written = save_validators(session, [*keep, *gone], now())
        self.pending.clear()
        return written
