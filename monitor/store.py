"""Store one extracted article: exact dedup, matches, story; the caller owns the transaction.

Shared by the crawler's StorePipeline and `newsmon ingest`, so both dedup the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session

from monitor.alerts.outbox import enqueue_for_article
from monitor.alerts.watchers import Watcher
from monitor.dedup import canonicalize_url, content_fingerprint, url_key
from monitor.extract import ExtractedArticle
from storage.articles import (
    MatchRecord,
    NewArticle,
    add_article,
    add_url_aliases,
    article_id_by_url_hash,
    article_ids_by_url_hash,
    original_by_fingerprint,
    originals_by_fingerprint,
)
from storage.models import Article, Story

if TYPE_CHECKING:
    from monitor.matching import TopicMatch
    from monitor.story_assign import StoryAssigner
    from monitor.story_features import StorySignature

Outcome = Literal["new", "duplicate", "known"]


@dataclass(frozen=True)
class StoreResult:
    outcome: Outcome
    article_id: int
    matched: bool
    duplicate_of: int | None = None


@dataclass
class BatchLookups:
    """What one batch needs to know of the stored articles, read in two queries.

    Kept current as the batch stores articles, so a later copy in the same batch finds
    the earlier one. Only valid inside the transaction that read it.
    """

    known: dict[str, int] = field(default_factory=dict)
    originals: dict[str, Article] = field(default_factory=dict)

    def remember(self, url_keys: Iterable[str], article_id: int) -> None:
        """URLs that lead to a stored article; a URL already known keeps its article."""
        for key in url_keys:
            self.known.setdefault(key, article_id)

    @classmethod
    def read(
        cls, session: Session, url_hashes: Iterable[str], fingerprints: Iterable[str]
    ) -> BatchLookups:
        return cls(
            article_ids_by_url_hash(session, url_hashes),
            originals_by_fingerprint(session, fingerprints),
        )


def canonical_key(final_url: str, article: ExtractedArticle) -> str:
    """The key an article is stored under: its rel=canonical/og:url, else the fetched URL."""
    return url_key(canonicalize_url(article.canonical_url or final_url))


def match_records(matches: Sequence[TopicMatch]) -> list[MatchRecord]:
    return [
        MatchRecord(
            topic=m.topic,
            matched=m.matched,
            score=m.score,
            keywords=m.to_json().get("keywords", []),
            snippet=m.snippet,
        )
        for m in matches
    ]


def store_article(
    session: Session,
    *,
    source: str,
    url: str,
    final_url: str,
    article: ExtractedArticle,
    matches: Sequence[TopicMatch],
    stories: StoryAssigner | None = None,
    feed_published: datetime | None = None,
    first_seen: datetime | None = None,
    alerts: Sequence[Watcher] = (),
    fingerprint: str | None = None,
    signature: StorySignature | None = None,
) -> StoreResult:
    """Insert the article unless its canonical URL is known; exact copies point to the first.

    The canonical URL is the page's rel=canonical/og:url when present, else the fetched URL.
    One article at a time: the reference for monitor.store_bulk, which stores a batch.
    """
    canonical = canonicalize_url(article.canonical_url or final_url)
    key = canonical_key(final_url, article)
    aliases = tuple(dict.fromkeys((url_key(url), url_key(final_url), key)))
    matched = any(m.matched for m in matches)
    existing = article_id_by_url_hash(session, key)
    if existing is not None:
        add_url_aliases(session, existing, aliases)
        return StoreResult("known", existing, matched)
    if fingerprint is None:
        fingerprint = content_fingerprint(article.text, article.title)
    original = original_by_fingerprint(session, fingerprint)
    new = NewArticle(
        url_hash=key,
        canonical_url=canonical,
        url=final_url,
        source=source,
        fingerprint=fingerprint,
        title=article.title,
        text=article.text,
        description=article.description,
        authors=article.authors,
        language=article.language,
        site_name=article.site_name,
        published=article.published or feed_published,
        first_seen=first_seen,
        url_hashes=aliases,
    )
    stored = add_article(session, new, match_records(matches), duplicate_of=original)
    if stories is not None:
        stored.story_id = stories.assign(
            session, stored, duplicate_of=original, signature=signature
        )
    if alerts:
        story = session.get(Story, stored.story_id) if stored.story_id is not None else None
        enqueue_for_article(
            session,
            alerts,
            stored,
            matches,
            stored.story_id,
            is_new_story=story is not None and story.size == 1,
        )
    if original is not None:
        return StoreResult("duplicate", stored.id, matched, duplicate_of=original.id)
    return StoreResult("new", stored.id, matched)
