"""Put each stored article into a story, inside the caller's transaction.

The persisted signatures (storage.stories) are the source of truth; the StoryIndex is a
cache of the window rebuilt from them at start and topped up from them every
``catch_up_seconds`` so that several crawler processes sharing one database see each
other's articles (eventually: an article another process has not committed yet is
missed, and `newsmon restory` repairs such rare splits).
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from monitor.story_bands import band_key_matrix
from monitor.story_features import (
    LOADABLE_VERSIONS,
    MIN_SHINGLES,
    SIGNATURE_VERSION,
    StorySignature,
    language_tag,
    pack,
    signature,
)
from monitor.story_index import StoryIndex
from monitor.story_overrides import StoryOverrides
from monitor.story_settings import StoriesSettings
from monitor.story_verify import Candidate
from storage import stories as repo
from storage import story_overrides
from storage.models import Article, Story

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Another process's article may be committed this long after its first_seen.
CATCH_UP_SLACK = timedelta(minutes=2)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A naive datetime is UTC (as SQLite hands it back)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the window is loaded: the load allocates a few
    objects per row, which would set off full collections that scan every object the
    process holds (all the more in a process that already holds an index), and it makes
    no cycles for them to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _packed(hashes: bytes | None, names: str) -> bytes:
    """Version 2 rows hold packed hashes; version 1 rows newline-joined names."""
    if hashes is not None:
        return hashes
    return pack(names.split("\n")) if names else b""


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
        now = as_utc(until or clock())
        self._until = until
        self._last_catch_up = now
        self._journal: list[int] | None = None
        self._frozen = False
        # indexed (or unreadable) signatures that an older version computed
        self.outdated = 0
        self.overrides = StoryOverrides.of(story_overrides.rows(session))
        with _gc_paused():
            self.loaded = self._load(session, now - self.window, until)
        if self.outdated and until is None:
            logger.warning(
                "stories: %d article signatures in the window were computed by an older "
                "newsmon (version < %d) and miss what it now compares; `newsmon restory "
                "--since %s` recomputes them",
                self.outdated,
                SIGNATURE_VERSION,
                f"{now - self.window:%Y-%m-%d}",
            )

    def _load(self, session: Session, since: datetime, until: datetime | None = None) -> int:
        """Index the persisted signatures seen in [since, until); return how many.

        Into an empty index (start-up) rows whose near-copy flag is persisted go in one
        bulk_load; otherwise (catch-up, version 1 rows) row by row, with band keys
        computed a batch at a time.
        """
        index = self.index
        bulk = len(index) == 0
        ids: list[int] = []
        story_ids: list[int] = []
        sigs: list[StorySignature] = []
        ats: list[datetime] = []
        flags: list[bool | None] = []
        for b in repo.load_signatures(session, since, until):
            for k, (aid, sid, version) in enumerate(
                zip(b.article_ids, b.story_ids, b.versions, strict=True)
            ):
                if sid is None or aid in index:
                    continue
                if version < SIGNATURE_VERSION:
                    self.outdated += 1
                if version not in LOADABLE_VERSIONS:
                    continue
                ids.append(aid)
                story_ids.append(sid)
                ats.append(b.seen[k])
                flags.append(b.near_copy[k])
                sigs.append(
                    StorySignature(
                        minhash=b.minhashes[k],
                        shingles=b.shingles[k],
                        features=_packed(b.feature_hashes[k], b.features[k]),
                        title=_packed(b.title_hashes[k], b.title_words[k]),
                        published=b.published[k],
                        seen=b.seen[k],
                        event_day=b.event_days[k],
                        language=language_tag(b.languages[k]),
                    )
                )
            if not bulk and sigs:
                self._add_rows(ids, story_ids, sigs, ats, flags)
                ids, story_ids, sigs, ats, flags = [], [], [], [], []
        if bulk and all(f is not None for f in flags):
            index.bulk_load(ids, story_ids, sigs, ats, [not f for f in flags])
            return len(ids)
        return self._add_rows(ids, story_ids, sigs, ats, flags) if sigs else 0

    def _add_rows(
        self,
        ids: list[int],
        story_ids: list[int],
        sigs: list[StorySignature],
        ats: list[datetime],
        flags: list[bool | None],
    ) -> int:
        keys = band_key_matrix(b"".join(s.minhash for s in sigs), len(sigs)).tolist()
        for aid, sid, sig, at, flag, row_keys in zip(
            ids, story_ids, sigs, ats, flags, keys, strict=True
        ):
            self.index.add(
                aid,
                sid,
                sig,
                at,
                row_keys if sig.shingles >= MIN_SHINGLES else [],
                None if flag is None else not flag,
            )
        return len(ids)

    def _catch_up(self, session: Session) -> None:
        if self.catch_up_seconds is None:
            return
        now = as_utc(self.clock())
        if (now - self._last_catch_up).total_seconds() < self.catch_up_seconds:
            return
        if self.corrected(session):
            self._rebuild(session)
        else:
            self._load(session, self._last_catch_up - CATCH_UP_SLACK)
        self._last_catch_up = now

    def corrected(self, session: Session) -> bool:
        """True when a user corrected the grouping since the index was built
        (monitor.story_regroup): the index's stories are out of date, and it must be
        rebuilt. Asked only while the open transaction has indexed no article that is
        not written yet (a batch decided in memory), which a rebuild would lose."""
        return not self._journal and (
            story_overrides.generation(session) != self.overrides.generation
        )

    def forget(self, article_id: int) -> None:
        """Drop an article from the index (its transaction was rolled back)."""
        self.index.remove(article_id)

    @contextmanager
    def tentative(self) -> Iterator[None]:
        """Wrap a transaction: if it fails, the articles it indexed leave the index again,
        so that storing them once more does not find them as their own copies."""
        journal: list[int] = []
        self._journal = journal
        try:
            yield
        except BaseException:
            for article_id in journal:
                self.forget(article_id)
            raise
        finally:
            self._journal = None

    def _best_existing(
        self, session: Session, sig: StorySignature, excluded: frozenset[int] = frozenset()
    ) -> Story | None:
        """The story of the best verified candidate that still exists in the database.

        A candidate whose story is gone while the article itself is now in another one
        means `newsmon restory` regrouped the window since the index was built: the index
        is rebuilt from the database (once), instead of starting a story beside it.
        """
        rebuilt = False
        for _ in range(3):
            best = self.best_candidate(sig, excluded)
            if best is None:
                return None
            story = session.get(Story, best.story_id)
            if story is not None:
                return story
            candidate = session.get(Article, best.article_id)
            if not rebuilt and candidate is not None and candidate.story_id is not None:
                self._rebuild(session)
                rebuilt = True
            else:
                self.index.drop_story(best.story_id)  # rolled back or deleted meanwhile
        return None

    def freeze(self) -> None:
        """Keep the garbage collector from scanning the index again and again (a
        long-lived process: the crawler); a rebuild freezes the new index too."""
        self._frozen = True
        gc.collect()
        gc.freeze()

    def _rebuild(self, session: Session) -> None:
        self.index = StoryIndex(self.settings)
        self.overrides = StoryOverrides.of(story_overrides.rows(session))
        now = as_utc(self._until or self.clock())
        with _gc_paused():
            self.loaded = self._load(session, now - self.window, self._until)
        if self._frozen:
            self.freeze()

    def assign(
        self,
        session: Session,
        article: Article,
        duplicate_of: Article | None = None,
        signature: StorySignature | None = None,
    ) -> int:
        """Put a flushed ``article`` into a story and return the story id.

        An exact duplicate joins its original's story (and is not indexed: it adds no
        evidence). Otherwise the article joins the story of its best verified candidate
        or starts a new one, and its signature is persisted. The caller commits.
        ``signature``, when given, was computed elsewhere (the crawler's extraction
        processes) from the article's title and text; its dates are set here.
        """
        if article.id is None:
            session.flush()
        seen = as_utc(article.first_seen or self.clock())
        if article.first_seen is None:
            article.first_seen = seen
        if duplicate_of is not None:
            story_id = duplicate_of.story_id or self.assign(session, duplicate_of)
            story = session.get(Story, story_id)
            if story is not None:
                repo.add_to_story(session, story, article)
                return story.id
        self.prepare(session, seen)
        sig = self.sign(
            signature, article.title, article.text, article.published, seen, article.language
        )
        joins, excluded = self.overrides.placement(
            article.id, lambda ids: story_overrides.story_of(session, ids)
        )
        story = None if joins is None else session.get(Story, joins)
        if story is None:
            story = self._best_existing(session, sig, excluded)
        if story is None:
            story = repo.create_story(session, article)
        repo.add_to_story(session, story, article)
        independent = self.index_article(article.id, story.id, sig, seen)
        try:
            repo.save_signature(session, self.signature_row(article.id, sig, seen, not independent))
        except Exception:
            self.index.remove(article.id)
            raise
        return story.id

    def prepare(self, session: Session, seen: datetime) -> None:
        """Before placing an article seen at ``seen``: take in what other processes
        stored meanwhile, and let the window move on."""
        self._catch_up(session)
        self.index.expire(seen - self.window)

    @staticmethod
    def sign(
        given: StorySignature | None,
        title: str | None,
        text: str | None,
        published: datetime | None,
        seen: datetime,
        language: str | None = None,
    ) -> StorySignature:
        """The article's signature: ``given`` (computed by an extraction process from
        the same title and text) with its dates and language set, else computed here."""
        if given is None:
            return signature(title or "", text or "", published, seen, language)
        return dataclasses.replace(
            given, published=published, seen=seen, language=language_tag(language)
        )

    def best_candidate(
        self, sig: StorySignature, excluded: frozenset[int] = frozenset()
    ) -> Candidate | None:
        """The best verified candidate in the index outside the ``excluded`` stories; its
        story may be gone from the database (see _best_existing), which the caller
        checks."""
        if not excluded:
            return self.index.best_story(sig)
        return next((c for c in self.index.query(sig) if c.story_id not in excluded), None)

    def index_article(
        self, article_id: int, story_id: int, sig: StorySignature, seen: datetime
    ) -> bool:
        """Index a placed article; True when it is independent (not a near-copy)."""
        independent = self.index.add(article_id, story_id, sig, seen)
        if self._journal is not None:
            self._journal.append(article_id)
        return independent

    @staticmethod
    def signature_row(
        article_id: int, sig: StorySignature, seen: datetime, near_copy: bool
    ) -> dict[str, object]:
        return repo.signature_row(
            article_id=article_id,
            seen=seen,
            published=sig.published,
            version=SIGNATURE_VERSION,
            shingles=sig.shingles,
            minhash=sig.minhash,
            feature_hashes=sig.features,
            title_hashes=sig.title,
            near_copy=near_copy,
            event_day=sig.event_day,
        )
