"""Store a batch of extracted articles in a few statements: the crawler's fast path.

The same decisions as monitor.store.store_article, article after article in the given
order (exact dedup by canonical URL and text, matches, story placement, alert events),
made in memory and written with one multi-row statement per table (storage.bulk)
instead of six to eight statements per article. The stored stories the batch joins are
read together at the end, in one statement, and their aggregates then updated in the
articles' order. The caller owns the transaction: everything commits together or not at
all. A case this path leaves alone (a story gone from the database since the index was
built, a stored original without a story) raises ``SlowPathNeeded``; the caller rolls
back and stores the batch with store_article, which repairs them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from monitor.alerts.outbox import enqueue_for_article
from monitor.alerts.watchers import Watcher
from monitor.dedup import canonicalize_url, content_fingerprint, url_key
from monitor.extract import ExtractedArticle
from monitor.store import BatchLookups, StoreResult, match_records
from storage import bulk
from storage.models import Article, ArticleSignature, Match, utcnow
from storage.stories import add_member

if TYPE_CHECKING:
    from monitor.matching import TopicMatch
    from monitor.story_assign import StoryAssigner
    from monitor.story_features import StorySignature


class SlowPathNeeded(Exception):
    """The batch holds a case for store_article (see the module docstring)."""


@dataclass(frozen=True)
class ToStore:
    """One analysed page, as the crawler hands it to storage."""

    source: str
    url: str
    final_url: str
    article: ExtractedArticle
    matches: Sequence[TopicMatch] = ()
    feed_published: datetime | None = None
    fingerprint: str | None = None
    signature: StorySignature | None = None

    @cached_property
    def canonical(self) -> str:
        return canonicalize_url(self.article.canonical_url or self.final_url)

    def text_fingerprint(self) -> str:
        return self.fingerprint or content_fingerprint(self.article.text, self.article.title)


def add_to_story(story: bulk.StoryRow, row: dict[str, Any]) -> None:
    """As storage.stories.add_to_story, on a batch's plain rows."""
    seen, published = row["first_seen"], row["published"]
    if add_member(story, row["id"], row["title"], seen, published, lambda: story.first_key):
        story.first_key = published or seen


@dataclass
class _Alert:
    article: Article  # transient: the fields the watchers' filters read
    matches: Sequence[TopicMatch]
    story_id: int | None
    is_new_story: bool


@dataclass
class BatchWriter:
    """Decides each article of a batch in order and collects its rows; ``write`` sends
    them, one statement per table."""

    session: Session
    stories: StoryAssigner | None
    remaining: int
    """Items of the batch after the one being stored."""
    articles: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[tuple[str, int]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, object]] = field(default_factory=list)
    alerts: list[_Alert] = field(default_factory=list)
    story_rows: dict[int, bulk.StoryRow] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    joins: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(story id, article row) in the batch's order, applied by ``write``."""
    originals: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    _article_ids: list[int] = field(default_factory=list)
    _story_ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._reserve_articles = bulk.article_reserver(self.session)
        self._reserve_stories = bulk.story_reserver(self.session)

    def _next_id(self, spare: list[int], reserver: bulk.IdReserver) -> int:
        """Ids are reserved for this item and every one still to come, so that a batch of
        new articles costs one reservation."""
        if not spare:
            spare.extend(reserver.take(self.remaining + 1))
        return spare.pop(0)

    def _new_story(self, row: dict[str, Any]) -> int:
        story = bulk.StoryRow(
            id=self._next_id(self._story_ids, self._reserve_stories),
            first_article_id=None,
            first_key=None,
            title=row["title"] or "",
            first_seen=row["first_seen"],
            first_published=row["published"],
            last_seen=row["first_seen"],
            size=0,
        )
        self.story_rows[story.id] = story
        self.created.append(story.id)
        return story.id

    def _original(self, lookups: BatchLookups, fingerprint: str) -> tuple[int, int | None] | None:
        found = self.originals.get(fingerprint)
        if found is None and (stored := lookups.originals.get(fingerprint)) is not None:
            found = self.originals[fingerprint] = (stored.id, stored.story_id)
        return found

    def _place(
        self,
        assigner: StoryAssigner,
        row: dict[str, Any],
        given: StorySignature | None,
        original: tuple[int, int | None] | None,
    ) -> tuple[int, bool]:
        """As StoryAssigner.assign: an exact copy joins its original's story, any other
        article its best verified candidate's story, or a new one. Returns the story id
        and whether the article starts it."""
        if original is not None:
            if original[1] is None:
                raise SlowPathNeeded(f"original article {original[0]} has no story")
            self.joins.append((original[1], row))
            return original[1], False
        seen = row["first_seen"]
        assigner.prepare(self.session, seen)
        sig = assigner.sign(
            given, row["title"], row["text"], row["published"], seen, row["language"]
        )
        best = assigner.best_candidate(sig)
        story_id = self._new_story(row) if best is None else best.story_id
        self.joins.append((story_id, row))
        independent = assigner.index_article(row["id"], story_id, sig, seen)
        self.signatures.append(assigner.signature_row(row["id"], sig, seen, not independent))
        return story_id, best is None

    def store(self, item: ToStore, lookups: BatchLookups, alerts: bool) -> StoreResult:
        """Decide one article; an earlier article of the batch is already in ``lookups``."""
        self.remaining -= 1
        article = item.article
        canonical = item.canonical
        key = url_key(canonical)
        aliases = tuple(dict.fromkeys((url_key(item.url), url_key(item.final_url), key)))
        matched = any(m.matched for m in item.matches)
        existing = lookups.known.get(key)
        if existing is not None:
            self.aliases.extend((a, existing) for a in aliases)
            lookups.remember(aliases, existing)
            return StoreResult("known", existing, matched)
        fingerprint = item.text_fingerprint()
        original = self._original(lookups, fingerprint)
        article_id = self._next_id(self._article_ids, self._reserve_articles)
        row: dict[str, Any] = {
            "id": article_id,
            "url_hash": key,
            "canonical_url": canonical,
            "url": item.final_url,
            "source": item.source,
            "fingerprint": fingerprint,
            "title": article.title,
            "text": article.text,
            "description": article.description,
            "authors": list(article.authors),
            "language": article.language,
            "site_name": article.site_name,
            "published": article.published or item.feed_published,
            "first_seen": utcnow(),
            "duplicate_of_id": original[0] if original else None,
            "story_id": original[1] if original else None,
        }
        self.aliases.extend((a, article_id) for a in (key, *aliases))
        self.matches.extend(
            {
                "article_id": article_id,
                "topic": m.topic,
                "matched": m.matched,
                "score": m.score,
                "keywords": m.keywords,
                "snippet": m.snippet,
                "computed_at": row["first_seen"],
            }
            for m in match_records(item.matches)
        )
        is_new_story = False
        if self.stories is not None:
            row["story_id"], is_new_story = self._place(self.stories, row, item.signature, original)
        self.articles.append(row)
        if alerts and matched:
            self.alerts.append(_Alert(_transient(row), item.matches, row["story_id"], is_new_story))
        lookups.remember(aliases, article_id)
        if original is None:
            self.originals[fingerprint] = (article_id, row["story_id"])
            return StoreResult("new", article_id, matched)
        return StoreResult("duplicate", article_id, matched, duplicate_of=original[0])

    def _apply_joins(self) -> None:
        """Read the stored stories the batch joins, in one statement, and count each
        article in its story in the batch's order (the first article's rule depends on
        it). A story gone since the index was built (restory) is the slow path's."""
        wanted = {sid for sid, _ in self.joins if sid not in self.story_rows}
        self.story_rows.update(bulk.story_rows(self.session, wanted))
        if gone := wanted - self.story_rows.keys():
            raise SlowPathNeeded(f"stories {sorted(gone)[:5]} are gone (restory?)")
        for story_id, row in self.joins:
            add_to_story(self.story_rows[story_id], row)

    def write(self, watchers: Sequence[Watcher]) -> None:
        """Stories first (without their first article), then the articles that point to
        them and what points to the articles, then the stories' final aggregates."""
        session = self.session
        self._apply_joins()
        bulk.insert_stories(session, [self.story_rows[i] for i in self.created])
        bulk.insert_rows(session, Article, self.articles)
        bulk.insert_url_aliases(session, self.aliases)
        bulk.insert_rows(session, Match, self.matches)
        bulk.insert_rows(session, ArticleSignature, self.signatures)
        bulk.update_stories(session, list(self.story_rows.values()))
        for alert in self.alerts:
            enqueue_for_article(
                session,
                watchers,
                alert.article,
                alert.matches,
                alert.story_id,
                is_new_story=alert.is_new_story,
            )


def _transient(row: dict[str, Any]) -> Article:
    return Article(
        id=row["id"],
        source=row["source"],
        language=row["language"],
        published=row["published"],
        first_seen=row["first_seen"],
        duplicate_of_id=row["duplicate_of_id"],
    )


def store_batch(
    session: Session,
    items: Sequence[ToStore],
    *,
    stories: StoryAssigner | None = None,
    alerts: Sequence[Watcher] = (),
) -> list[StoreResult]:
    """Store ``items`` in this order (the earliest copy of a text first: it becomes the
    original); one result per item. Raises SlowPathNeeded (nothing to undo but the
    caller's transaction and the story index: see StoryAssigner.tentative)."""
    items = [
        i if i.fingerprint else dataclasses.replace(i, fingerprint=i.text_fingerprint())
        for i in items
    ]
    lookups = BatchLookups.read(
        session,
        (url_key(i.canonical) for i in items),
        (i.text_fingerprint() for i in items),
    )
    writer = BatchWriter(session, stories, len(items))
    results = [writer.store(item, lookups, bool(alerts)) for item in items]
    writer.write(alerts)
    return results
