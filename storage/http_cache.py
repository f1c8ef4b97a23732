"""Validators for conditional GET (ETag / Last-Modified), one row per exact URL.

The crawler sends them back as If-None-Match / If-Modified-Since so that an unchanged
feed or sitemap costs a 304 and no parsing. The caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import HttpCacheEntry, utcnow


@dataclass(frozen=True)
class Validators:
    url: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.etag or self.last_modified)


def cache_key(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def get_validators(session: Session, urls: Iterable[str]) -> dict[str, Validators]:
    """The stored validators of those ``urls`` that have any, keyed by URL."""
    by_key = {cache_key(u): u for u in urls}
    found: dict[str, Validators] = {}
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        rows = session.scalars(
            select(HttpCacheEntry).where(HttpCacheEntry.url_hash.in_(keys[start : start + 500]))
        )
        for row in rows:
            found[row.url] = Validators(row.url, row.etag, row.last_modified)
    return found


def save_validators(
    session: Session, entries: Iterable[Validators], now: datetime | None = None
) -> int:
    """Insert or replace validators; entries without any are deleted. Returns rows written."""
    stamp = now or utcnow()
    rows = {
        cache_key(e.url): {
            "url_hash": cache_key(e.url),
            "url": e.url,
            "etag": e.etag,
            "last_modified": e.last_modified,
            "updated": stamp,
        }
        for e in entries
    }
    empty = [key for key, row in rows.items() if not (row["etag"] or row["last_modified"])]
    if empty:
        session.execute(delete(HttpCacheEntry).where(HttpCacheEntry.url_hash.in_(empty)))
    values = [row for key, row in rows.items() if key not in empty]
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        for start in range(0, len(values), 200):
            stmt = insert(HttpCacheEntry).values(values[start : start + 200])
            stmt = stmt.on_conflict_do_update(
                index_elements=[HttpCacheEntry.url_hash],
                set_={
                    "url": stmt.excluded.url,
                    "etag": stmt.excluded.etag,
                    "last_modified": stmt.excluded.last_modified,
                    "updated": stmt.excluded.updated,
                },
            )
            session.execute(stmt)
    else:
        for row in values:
            session.merge(HttpCacheEntry(**row))
    return len(values)


def forget_validators(session: Session, urls: Iterable[str]) -> None:
    keys = [cache_key(u) for u in urls]
    for start in range(0, len(keys), 500):
        session.execute(
            delete(HttpCacheEntry).where(HttpCacheEntry.url_hash.in_(keys[start : start + 500]))
        )
