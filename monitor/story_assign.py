"""Put each stored article into a story, inside the caller's transaction.

The persisted signatures (storage.stories) are the source of truth; the StoryIndex is a
cache of the window rebuilt from them at start and topped up from them every
``catch_up_seconds`` so that several crawler processes sharing one database see each
other's articles (eventually: an article another process has not committed yet is
missed, and `newsmon restory` repairs such rare splits).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from monitor.stories import Candidate, StoriesSettings, StoryIndex, band_keys_many
from monitor.story_features import SIGNATURE_VERSION, StorySignature, signature
from storage import stories as repo
from storage.models import Article, Story

Clock = Callable[[], datetime]
# Another process's article may be committed this long after its first_seen.
CATCH_UP_SLACK = timedelta(minutes=2)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def signature_of(article: Article, seen: datetime) -> StorySignature:
    return signature(article.title or "", article.text or "", article.published, seen)


def _from_row(row: repo.SignatureRow) -> StorySignature:
    return StorySignature(
        minhash=row.minhash,
        shingles=row.shingles,
        features=row.features,
        title=row.title_words,
        published=row.published,
        seen=row.seen,
    )


class StoryAssigner:
    """Assigns articles to stories; one per process (crawler, ingest, restory)."""

    def __init__(
        self,
        session: Session,
        settings: StoriesSettings | None = None,
        clock: Clock = _utcnow,
        *,
        catch_up_seconds: float | None = 5.0,
        until: datetime | None = None,
    ) -> None:
        """Rebuild the index from the signatures seen in the window before ``clock()``.

        ``until`` (restory) loads only signatures seen before it and turns catch-up off.
        """
        self.settings = settings or StoriesSettings()
        self.clock = clock
        self.index = StoryIndex(self.settings)
        self.window = timedelta(days=self.settings.window_days)
        self.catch_up_seconds = None if until is not None else catch_up_seconds
        now = _aware(until or clock())
        self._last_catch_up = now
        self.loaded = self._load(session, now - self.window, until)

    def _load(self, session: Session, since: datetime, until: datetime | None = None) -> int:
        added = 0
        batch: list[repo.SignatureRow] = []

        def flush() -> None:
            sigs = [_from_row(r) for r in batch]
            for row, sig, keys in zip(batch, sigs, band_keys_many(sigs), strict=True):
                self.index.add(row.article_id, row.story_id or 0, sig, row.seen, keys)
            batch.clear()

        for row in repo.load_signatures(session, since):
            if until is not None and row.seen >= until:
                break
            if row.story_id is None or row.version != SIGNATURE_VERSION:
                continue
            if row.article_id in self.index:
                continue
            batch.append(row)
            added += 1
            if len(batch) >= 2000:
                flush()
        flush()
        return added

    def _catch_up(self, session: Session) -> None:
        if self.catch_up_seconds is None:
            return
        now = _aware(self.clock())
        if (now - self._last_catch_up).total_seconds() < self.catch_up_seconds:
            return
        self._load(session, self._last_catch_up - CATCH_UP_SLACK)
        self._last_catch_up = now

    def forget(self, article_id: int) -> None:
        """Drop an article from the index (its transaction was rolled back)."""
        self.index.remove(article_id)

    def _best_existing(self, session: Session, sig: StorySignature) -> Story | None:
        """The story of the best verified candidate that still exists in the database."""
        for _ in range(3):
            best: Candidate | None = self.index.best_story(sig)
            if best is None:
                return None
            story = session.get(Story, best.story_id)
            if story is not None:
                return story
            self.index.drop_story(best.story_id)  # rolled back or deleted meanwhile
        return None

    def assign(
        self, session: Session, article: Article, duplicate_of: Article | None = None
    ) -> int:
        """Put a flushed ``article`` into a story and return the story id.

        An exact duplicate joins its original's story (and is not indexed: it adds no
        evidence). Otherwise the article joins the story of its best verified candidate
        or starts a new one, and its signature is persisted. The caller commits.
        """
        if article.id is None:
            session.flush()
        seen = _aware(article.first_seen or self.clock())
        if article.first_seen is None:
            article.first_seen = seen
        if duplicate_of is not None:
            story_id = duplicate_of.story_id or self.assign(session, duplicate_of)
            story = session.get(Story, story_id)
            if story is not None:
                repo.add_to_story(session, story, article)
                return story.id
        self._catch_up(session)
        self.index.expire(seen - self.window)
        sig = signature_of(article, seen)
        story = self._best_existing(session, sig)
        if story is None:
            story = repo.create_story(session, article)
        repo.add_to_story(session, story, article)
        repo.save_signature(
            session,
            article_id=article.id,
            seen=seen,
            published=article.published,
            version=SIGNATURE_VERSION,
            shingles=sig.shingles,
            minhash=sig.minhash,
            features=sig.features,
            title_words=sig.title,
        )
        self.index.add(article.id, story.id, sig, seen)
        return story.id


def restory(
    session: Session,
    since: datetime,
    settings: StoriesSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    commit_every: int = 500,
) -> tuple[int, int]:
    """Recompute the stories of the articles first seen at or after ``since``.

    Earlier articles keep their stories and serve as the index (window before ``since``).
    Commits every ``commit_every`` articles so that a long run holds no long lock.
    Returns (articles assigned, stories now holding them).
    """
    since = _aware(since)
    touched = repo.detach_articles(session, since)
    repo.delete_signatures(session, since)
    for story_id in touched:
        repo.recompute_story(session, story_id)
    session.commit()
    assigner = StoryAssigner(session, settings, until=since)
    ids = repo.article_ids_since(session, since)
    stories: set[int] = set()
    for n, article_id in enumerate(ids, 1):
        article = session.get(Article, article_id)
        if article is None or article.story_id is not None:
            continue  # gone, or already placed as the original of an earlier duplicate
        original = (
            session.get(Article, article.duplicate_of_id) if article.duplicate_of_id else None
        )
        stories.add(assigner.assign(session, article, original))
        if n % commit_every == 0:
            session.commit()
            session.expunge_all()
        if progress is not None and (n % 100 == 0 or n == len(ids)):
            progress(n, len(ids))
    session.commit()
    return len(ids), len(stories)
