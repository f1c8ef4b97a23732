"""Whether two articles tell one story (pure): the copy and rewrite rules, and the
majority check that keeps a story from growing by chaining.

The index (monitor.story_index) finds candidates cheaply and unverified; every candidate
goes through :func:`same_story`, and a rewrite also through :func:`agrees_with_story`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING

from monitor.story_features import (
    WORD,
    StorySignature,
    feature_class,
    jaccard_estimate,
    title_similarity,
)

if TYPE_CHECKING:
    from monitor.story_index import StoryIndex

MAJORITY_CHECK = 6


@dataclass(frozen=True, slots=True)
class Verdict:
    same: bool
    score: float
    reason: str
    """"copy", "rewrite", "title+rewrite" or "" when not the same story."""


@dataclass(frozen=True, slots=True)
class Candidate:
    article_id: int
    story_id: int
    verdict: Verdict


def _when(sig: StorySignature) -> datetime | None:
    return sig.published or sig.seen


def gap_days(a: StorySignature, b: StorySignature) -> float | None:
    ta, tb = _when(a), _when(b)
    if ta is None or tb is None:
        return None
    ta = ta if ta.tzinfo else ta.replace(tzinfo=UTC)
    tb = tb if tb.tzinfo else tb.replace(tzinfo=UTC)
    return abs((ta - tb) / timedelta(days=1))


def different_days(a: StorySignature, b: StorySignature, slack_days: int) -> bool:
    """Whether the two openings name days more than ``slack_days`` apart (a day of slack
    by default: time zones, and "late on Monday" against "on Tuesday")."""
    if a.event_day is None or b.event_day is None:
        return False
    return abs((a.event_day - b.event_day).days) > slack_days


def rare_overlap(wa: dict[int, float], wb: dict[int, float]) -> tuple[set[int], float]:
    """The rare features both sides hold, and their weight as a share of the lighter
    side's rare-feature weight (both non-empty; a feature weighs the same on both)."""
    shared = wa.keys() & wb.keys()
    return shared, sum(wa[f] for f in shared) / min(sum(wa.values()), sum(wb.values()))


def same_story(
    a: StorySignature,
    b: StorySignature,
    index: StoryIndex,
    weights_a: Callable[[], dict[int, float]] | None = None,
    weigh: Callable[[list[int]], dict[int, float]] | None = None,
) -> Verdict:
    """Decide whether ``a`` and ``b`` tell the same story.

    1. Copy: estimated shingle Jaccard >= ``copy_jaccard``. Syndicated copies with
       another headline, leftover boilerplate or one rewritten paragraph stay well above
       0.5; unrelated articles on one topic stay below 0.15.
    2. Rewrite (within ``rewrite_gap_days``, and unless the openings name days apart:
       :func:`different_days`): the rare features both share weigh at least
       ``rewrite_overlap`` of the smaller side's rare-feature weight (``sparse_rewrite_overlap``
       while the window is too small to know what is common), and they number at least
       ``rewrite_min_shared`` (``title_min_shared`` when the titles are similar).
       Rarity comes from the index: a name in 1% of the window's texts ("Russia" for a
       Russia topic) neither links nor weighs, so two stories on one topic on one day
       need their own facts in common.

    ``weights_a`` gives ``a``'s weights and ``weigh`` any side's (default: the index's
    rarity), so that a caller comparing one article with many can compute what they
    share once, and only when a verdict gets that far.
    """
    s = index.settings
    jac = jaccard_estimate(a, b)
    if jac >= s.copy_jaccard:
        return Verdict(True, 1.0 + jac, "copy")
    gap = gap_days(a, b)
    if gap is not None and gap > s.rewrite_gap_days:
        return Verdict(False, jac, "")
    if s.event_days and different_days(a, b, s.event_day_slack_days):
        return Verdict(False, jac, "")
    weigh = weigh or index.weights
    wa = weigh(a.feature_ids()) if weights_a is None else weights_a()
    wb = weigh(b.feature_ids())
    if not wa or not wb:
        return Verdict(False, jac, "")
    shared, overlap = rare_overlap(wa, wb)
    tsim = title_similarity(a, b)
    needed = s.rewrite_overlap
    if index.independent < s.informed_docs:
        needed = max(needed, s.sparse_rewrite_overlap)
    if overlap >= needed:
        if len(shared) >= s.rewrite_min_shared:
            return Verdict(True, overlap, "rewrite")
        if tsim >= s.title_similarity and len(shared) >= s.title_min_shared:
            return Verdict(True, overlap, "title+rewrite")
    if s.cross_language and names_keyed_across(a.language, b.language):
        found = names_overlap(wa, wb)
        if found and found[1] >= s.cross_overlap and len(found[0]) >= s.cross_min_shared:
            return Verdict(True, found[1], "translation")
    return Verdict(False, max(jac, overlap), "")


# Languages whose names are written in Han, kana or Hangul, which are not keyed across
# scripts (monitor.story_features.name_key covers Latin and Cyrillic): two such
# articles could share only figures and Latin acronyms, too little to tell a story.
_UNKEYED_NAMES = frozenset({"zh", "ja", "ko"})


def names_keyed(language: str | None) -> bool:
    """Whether a known language's names are keyed across languages (Latin, Cyrillic)."""
    return bool(language) and language not in _UNKEYED_NAMES


def names_keyed_across(a: str | None, b: str | None) -> bool:
    """Whether two articles are in two known languages whose names are keyed alike."""
    return a != b and names_keyed(a) and names_keyed(b)


def names_overlap(wa: dict[int, float], wb: dict[int, float]) -> tuple[set[int], float] | None:
    """:func:`rare_overlap` of the names and figures alone (None when a side has none):
    across two languages the plain words cannot match, and counting them would hold a
    retelling to a share it can never reach."""
    na = {f: w for f, w in wa.items() if feature_class(f) != WORD}
    nb = {f: w for f, w in wb.items() if feature_class(f) != WORD}
    return rare_overlap(na, nb) if na and nb else None


def agrees_with_story(agreements: Iterable[bool]) -> bool:
    """Whether a rewrite of one article of a story agrees with at least half of the
    story's other articles (the first MAJORITY_CHECK of ``agreements``, read lazily):
    single links would let a story grow by chaining (A retells B, B shares names with C)
    until unrelated stories of one topic merge."""
    checked = list(islice(agreements, MAJORITY_CHECK))
    if not checked:
        return True
    agree = 1 + sum(checked)  # and the matched article
    return 2 * agree >= len(checked) + 1


class StoryCheck:
    """One article against the members of one story, each verdict decided once.

    A query verifies several members of a story, and each rewrite among them is checked
    against the others: without the memo that is quadratic in the story's candidates.
    The story's own feature counts, and the article's rare-feature weights given them,
    are computed when a verdict first needs them (a copy, or a member more than
    ``rewrite_gap_days`` or a named day away, needs neither) and shared by every verdict.
    """

    __slots__ = ("_index", "_mine", "_own", "_sig", "_story_id", "_verdicts")

    def __init__(self, sig: StorySignature, index: StoryIndex, story_id: int) -> None:
        self._sig = sig
        self._index = index
        self._story_id = story_id
        self._own: Counter[int] | None = None
        self._mine: dict[int, float] | None = None
        self._verdicts: dict[int, Verdict] = {}

    def _weigh(self, features: list[int]) -> dict[int, float]:
        if self._own is None:
            self._own = self._index.story_counts(self._story_id)
        return self._index.weights(features, self._own)

    def _weights(self) -> dict[int, float]:
        if self._mine is None:
            self._mine = self._weigh(self._sig.feature_ids())
        return self._mine

    def verdict(self, article_id: int) -> Verdict:
        found = self._verdicts.get(article_id)
        if found is None:
            other = self._index.signature_of(article_id)
            found = same_story(self._sig, other, self._index, self._weights, self._weigh)
            self._verdicts[article_id] = found
        return found
