"""The story index (pure): the window's signatures and the search for candidates.

The index holds the signatures (monitor.story_features) of the articles seen in the last
``window_days``. For a new article it finds candidates two ways, both O(1) in the index
size: MinHash LSH buckets (copies; keys from monitor.story_bands) and an inverted index
on rare features (rewrites; rarity from monitor.story_rarity), then verifies each
candidate (monitor.story_verify). Features are 64-bit hashes (their low bits the class:
figure, name, word); the bulky tables are numpy arrays (monitor.story_tables), and a
start-up rebuild fills an empty index in one ``bulk_load``. The article joins the story
of the best verified candidate, or starts a new one. Nothing here does I/O: the glue
that persists signatures and stories is monitor.story_assign.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import numpy as np

from monitor.story_bands import LSH_BANDS, band_key_matrix, band_keys
from monitor.story_features import (
    MIN_SHINGLES,
    WORD,
    StorySignature,
    feature_class,
    feature_hash,
    jaccard_estimate,
)
from monitor.story_postings import MAX_POSTINGS, Postings, list_article, readable, sweep
from monitor.story_rarity import common_df, rare_weights
from monitor.story_settings import StoriesSettings
from monitor.story_tables import LshTable, postings_and_df
from monitor.story_verify import Candidate, StoryCheck, agrees_with_story, names_keyed

LOOKUP_FEATURES = 16
LOOKUP_NAMES = 8
MAX_VERIFY = 8
LOOKUP_MIN_HITS = 2
COUNTS_CACHE = 4096


@dataclass(slots=True)
class _Entry:
    """One indexed article. Its band keys are not kept (16 big ints per article): they
    are recomputed from the MinHash on removal."""

    sig: StorySignature
    story_id: int
    at: datetime
    independent: bool


class StoryIndex:
    """Signatures of the window's articles, with LSH buckets and rare-feature postings.

    Rarity counts *independent texts*: an article indexed while a near-copy of it (by
    MinHash alone) is already there adds nothing to the feature frequencies, so fifty
    copies of one wire story keep its names rare, while a name used by many separately
    written articles ("Pyongyang" for a North Korea topic) becomes common. Copies are
    found without the features, so merges cannot feed back into rarity. Posting lists
    are bounded and cleaned lazily (monitor.story_postings).
    """

    def __init__(self, settings: StoriesSettings) -> None:
        self.settings = settings
        self._entries: dict[int, _Entry] = {}
        self._buckets = LshTable()
        self._postings: Postings = {}
        self._stale = 0  # removed articles still listed in postings
        self._df: Counter[int] = Counter()  # independent texts holding a feature (rarity)
        self._independent = 0
        self._members: dict[int, list[int]] = {}  # story -> its indexed articles
        self._counts: dict[int, Counter[int]] = {}  # story_counts cache, dropped on change
        self._expiry: list[tuple[datetime, int]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: int) -> bool:
        return article_id in self._entries

    @property
    def independent(self) -> int:
        """Indexed articles that were not near-copies of an earlier indexed article."""
        return self._independent

    def story_of(self, article_id: int) -> int | None:
        entry = self._entries.get(article_id)
        return entry.story_id if entry else None

    # -- rarity -----------------------------------------------------------------------
    def weight(self, feature: str | int, own: Counter[int] | None = None) -> float:
        """Inverse frequency of a feature among the window's independent texts; 0 if common.

        ``feature``: a name ("w:kursk") or its feature_hash. ``own``: feature counts of
        the story being compared with, left out of the frequency, so that a story retold
        many times keeps its own names rare.
        """
        fid = feature_hash(feature) if isinstance(feature, str) else feature
        return self.weights([fid], own).get(fid, 0.0)

    def members(self, story_id: int) -> list[int]:
        """Indexed articles of a story, in the order they were indexed."""
        return list(self._members.get(story_id, ()))

    def story_counts(self, story_id: int) -> Counter[int]:
        """How many independent texts of a story hold each feature (up to 64 members).

        Cached per story until one of its members changes: a query verifies several
        candidates of one story, and a big story's 64 members are costly to count.
        """
        counts = self._counts.get(story_id)
        if counts is None:
            counts = Counter()
            for aid in self._members.get(story_id, ())[:64]:
                entry = self._entries.get(aid)
                if entry is not None and entry.independent:
                    counts.update(entry.sig.feature_ids())
            if len(self._counts) >= COUNTS_CACHE:
                self._counts.clear()
            self._counts[story_id] = counts
        return counts

    # -- updates ----------------------------------------------------------------------
    def _lsh_hits(self, keys: list[int]) -> set[int]:
        return self._buckets.hits(keys)

    def _is_copy(self, sig: StorySignature, keys: list[int]) -> bool:
        limit = self.settings.copy_jaccard
        for aid in self._lsh_hits(keys):
            entry = self._entries.get(aid)
            if entry is not None and jaccard_estimate(sig, entry.sig) >= limit:
                return True
        return False

    def add(
        self,
        article_id: int,
        story_id: int,
        sig: StorySignature,
        at: datetime,
        keys: list[int] | None = None,
        independent: bool | None = None,
    ) -> bool:
        """Index an article (replacing an earlier entry of the same id).

        ``keys``: its band_keys when already computed (band_key_matrix, for rebuilds).
        ``independent``: whether it is not a near-copy of an earlier article, when known
        (persisted with the signature, so that a rebuild skips the check). Returns it.
        """
        if article_id in self._entries:
            self.remove(article_id)
        if keys is None:
            keys = band_keys(sig)
        if independent is None:
            independent = not self._is_copy(sig, keys)
        self._entries[article_id] = _Entry(sig, story_id, at, independent)
        self._members.setdefault(story_id, []).append(article_id)
        self._counts.pop(story_id, None)
        self._buckets.add(keys, article_id, self._entries.keys)
        features = sig.feature_ids()
        list_article(self._postings, features, article_id, self._entries)
        if independent:
            self._independent += 1
            self._df.update(features)
        heapq.heappush(self._expiry, (at, article_id))
        return independent

    def bulk_load(
        self,
        article_ids: list[int],
        story_ids: list[int],
        sigs: list[StorySignature],
        ats: list[datetime],
        independent: list[bool],
    ) -> None:
        """Fill an empty index with rows in time order whose near-copy flags are known.

        The same result as ``add`` row by row, built with numpy sorts and C-level dict
        construction instead of ~80 dict operations per row: this is the start-up
        rebuild of every crawler process (100k rows in ~1-2 s instead of ~9).
        """
        if self._entries:
            raise ValueError("bulk_load needs an empty index")
        n = len(article_ids)
        if n == 0:
            return
        entries = self._entries
        members = self._members
        for aid, sid, sig, at, ind in zip(
            article_ids, story_ids, sigs, ats, independent, strict=True
        ):
            entries[aid] = _Entry(sig, sid, at, ind)
            group = members.get(sid)
            if group is None:
                members[sid] = [aid]
            else:
                group.append(aid)
        self._expiry = list(zip(ats, article_ids, strict=True))
        heapq.heapify(self._expiry)
        ids = np.asarray(article_ids, dtype=np.int64)
        # LSH buckets: one key per band of every row long enough to tell.
        long_enough = np.fromiter((s.shingles >= MIN_SHINGLES for s in sigs), bool, n)
        keys = band_key_matrix(b"".join(s.minhash for s in sigs), n)[long_enough]
        self._buckets.load(keys.ravel(), np.repeat(ids[long_enough], LSH_BANDS))
        # Postings (newest MAX_POSTINGS + 1 per feature) and rarity (independent rows).
        counts = np.fromiter((len(s.features) // 8 for s in sigs), np.int64, n)
        feats = np.frombuffer(b"".join(s.features for s in sigs), dtype="<u8")
        flags = np.asarray(independent, dtype=bool)
        self._postings, df = postings_and_df(
            feats, np.repeat(ids, counts), np.repeat(flags, counts), MAX_POSTINGS + 1
        )
        self._df = Counter(df)
        self._independent = int(flags.sum())

    def remove(self, article_id: int) -> None:
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        members = self._members.get(entry.story_id)
        self._counts.pop(entry.story_id, None)
        if members is not None:
            if article_id in members:
                members.remove(article_id)
            if not members:
                del self._members[entry.story_id]
        self._buckets.remove(band_keys(entry.sig), article_id)
        if entry.independent:
            self._independent -= 1
            df = self._df
            for f in entry.sig.feature_ids():
                n = df[f] - 1
                if n > 0:
                    df[f] = n
                else:
                    del df[f]
        self._stale += 1
        if self._stale > max(1000, len(self._entries)):
            sweep(self._postings, self._entries)
            self._stale = 0

    def set_story(self, article_id: int, story_id: int) -> None:
        entry = self._entries.get(article_id)
        if entry is not None and entry.story_id != story_id:
            self._counts.pop(entry.story_id, None)
            self._counts.pop(story_id, None)
            self._members[entry.story_id].remove(article_id)
            if not self._members[entry.story_id]:
                del self._members[entry.story_id]
            entry.story_id = story_id
            self._members.setdefault(story_id, []).append(article_id)

    def drop_story(self, story_id: int) -> None:
        """Forget every article of a story (e.g. one whose transaction was rolled back)."""
        for aid in list(self._members.get(story_id, ())):
            self.remove(aid)

    def expire(self, before: datetime) -> int:
        """Drop articles indexed with a time before ``before``; return how many."""
        dropped = 0
        while self._expiry and self._expiry[0][0] < before:
            at, aid = heapq.heappop(self._expiry)
            entry = self._entries.get(aid)
            if entry is not None and entry.at == at:
                self.remove(aid)
                dropped += 1
        return dropped

    # -- queries ----------------------------------------------------------------------
    def candidates(self, sig: StorySignature) -> list[int]:
        """Ids sharing an LSH bucket or enough rare features with ``sig`` (unverified).

        Only the query's LOOKUP_FEATURES rarest known features are looked up, none held by
        more than MAX_POSTINGS articles, and at most MAX_VERIFY feature candidates (most
        shared first) are returned: a rewrite shares several of the rarest facts, so these
        suffice, and the cost per article stays flat as the window grows.
        """
        found = self._lsh_hits(band_keys(sig))
        common = common_df(self._independent, self.settings)
        df_get = self._df.get
        known = sorted((df, f) for f in sig.feature_ids() if 0 < (df := df_get(f, 0)) <= common)
        looked = known[:LOOKUP_FEATURES]
        if self.settings.cross_language and names_keyed(sig.language):
            # A minority language's plain words are the window's rarest features; its
            # names and figures are what another language's retelling can share.
            looked += [k for k in known[LOOKUP_FEATURES:] if feature_class(k[1]) != WORD][
                :LOOKUP_NAMES
            ]
        lists = []
        for df, f in looked:
            plist = readable(self._postings, f, df, self._stale, self._entries)
            if plist is not None:
                lists.append(plist)
        hits = Counter(chain.from_iterable(lists))
        need = min(LOOKUP_MIN_HITS, self.settings.rewrite_min_shared)
        ranked = [a for a, n in hits.most_common() if n >= need and a not in found]
        out = [a for a in found if a in self._entries]
        out.extend(a for a in ranked[:MAX_VERIFY] if a in self._entries)
        return out

    def signature_of(self, article_id: int) -> StorySignature:
        """The indexed signature of an article (KeyError when it is not indexed)."""
        return self._entries[article_id].sig

    def weights(self, features: list[int], own: Counter[int] | None = None) -> dict[int, float]:
        """Rare features of one side with their weights (common ones left out)."""
        return rare_weights(features, self._df, self._independent, self.settings, own)

    def query(self, sig: StorySignature) -> list[Candidate]:
        """Verified candidates, best first, at most one per story.

        A copy of any article joins its story. A rewrite must also agree with at least
        half of the story's other articles (up to MAJORITY_CHECK of them): single links
        would let a story grow by chaining (A retells B, B shares names with C) until
        unrelated stories of one topic merge.
        """
        best: dict[int, Candidate] = {}
        stories: dict[int, StoryCheck] = {}
        for aid in self.candidates(sig):
            sid = self._entries[aid].story_id
            if sid in best and best[sid].verdict.reason == "copy":
                continue
            check = stories.get(sid)
            if check is None:
                check = stories[sid] = StoryCheck(sig, self, sid)
            verdict = check.verdict(aid)
            if not verdict.same:
                continue
            if verdict.reason != "copy" and not agrees_with_story(
                check.verdict(a).same for a in self._members.get(sid, ()) if a != aid
            ):
                continue
            held = best.get(sid)
            if held is None or verdict.score > held.verdict.score:
                best[sid] = Candidate(aid, sid, verdict)
        return sorted(best.values(), key=lambda c: (-c.verdict.score, c.article_id))

    def best_story(self, sig: StorySignature) -> Candidate | None:
        found = self.query(sig)
        return found[0] if found else None
