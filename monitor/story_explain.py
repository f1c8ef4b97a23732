"""Why two stored articles are, or are not, one story: the assigner's decision taken apart.

For `newsmon stories --why A B`. A user who sees two outlets' reports kept apart, or two
events merged, needs the figures the decision rests on next to the newsmon.toml settings
that set its thresholds, to tell a threshold worth changing from a case no threshold
fixes. The later article is compared with the earlier one as the assigner compares a new
article with a stored one: against the window of signatures seen before the later
article, with the earlier article's story's own counts left out of the rarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from monitor.dedup import canonicalize_url, url_key
from monitor.story_assign import StoryAssigner
from monitor.story_features import (
    StorySignature,
    feature_hash,
    jaccard_estimate,
    signature,
    strong_features,
    title_similarity,
    tokens,
)
from monitor.story_settings import StoriesSettings
from monitor.story_verify import (
    MAJORITY_CHECK,
    StoryCheck,
    Verdict,
    gap_days,
    names_keyed_across,
    names_overlap,
    rare_overlap,
    same_story,
)
from storage.articles import article_ids_by_url_hash
from storage.models import Article


class ArticleNotFound(LookupError):
    """Neither a stored article id nor a URL of a stored article."""


@dataclass(frozen=True, slots=True)
class Feature:
    """A rare feature (a name, a figure, a long word) and its weight in the window."""

    name: str
    weight: float


@dataclass(frozen=True, slots=True)
class Side:
    id: int
    url: str
    source: str
    language: str | None
    published: datetime | None
    first_seen: datetime
    story_id: int | None
    named_day: date | None
    exact_copy_of: int | None


@dataclass(frozen=True, slots=True)
class StoryWhy:
    earlier: Side
    later: Side
    indexed: bool
    """Whether the earlier article is in the window the later one was compared with
    (false: out of the window, or an exact copy, which the index does not hold)."""
    candidate: bool
    """Whether the index's search (LSH buckets, rare-feature postings) finds the earlier
    article for the later one: the assigner verifies only what it finds."""
    verdict: Verdict
    agreement: tuple[int, int] | None
    """For a rewrite: how many of the earlier story's other members (up to
    MAJORITY_CHECK) the later article also retells, and how many were checked."""
    jaccard: float
    gap_days: float | None
    title_similarity: float
    overlap: float | None
    shared: tuple[Feature, ...]
    common_shared: tuple[str, ...]
    """Features both hold that are too common in the window to count."""
    only_earlier: tuple[Feature, ...]
    only_later: tuple[Feature, ...]
    window_texts: int
    names: tuple[int, float] | None = None
    """Across two languages whose names are keyed alike: how many rare names and figures
    they share, and their share of the lighter side's (the rule for retellings in another
    language); None otherwise, or when a side has none."""
    correction: str | None = None
    """"apart" or "together" when a user's correction (`stories --split/--merge`) names
    the pair: it decides where restory puts them, whatever the figures say."""


def find_article(session: Session, ref: str) -> Article:
    """A stored article by id ("123" or "#123") or by any URL it was stored under."""
    key = ref.strip()
    if key.lstrip("#").isdigit():
        found = session.get(Article, int(key.lstrip("#")))
    else:
        # as fetched, or as canonicalised: the store keeps both keys
        keys = [url_key(canonicalize_url(key)), url_key(key)]
        ids = article_ids_by_url_hash(session, keys)
        article_id = next((ids[k] for k in keys if k in ids), None)
        found = session.get(Article, article_id) if article_id is not None else None
    if found is None:
        raise ArticleNotFound(
            f"no stored article {ref!r} (give its id, or a URL it was stored under)"
        )
    return found


def _signature(article: Article) -> StorySignature:
    return signature(
        article.title or "",
        article.text or "",
        article.published,
        article.first_seen,
        article.language,
    )


def _names(article: Article) -> dict[int, str]:
    """Feature hash -> readable name, as signature() picks the features."""
    found = strong_features(tokens(article.title or "") + tokens(article.text or ""))
    return {feature_hash(f): f.split(":", 1)[1] for f in found}


def _side(article: Article, sig: StorySignature) -> Side:
    return Side(
        id=article.id,
        url=article.url,
        source=article.source,
        language=article.language,
        published=article.published,
        first_seen=article.first_seen,
        story_id=article.story_id,
        named_day=sig.event_day,
        exact_copy_of=article.duplicate_of_id,
    )


def _ranked(
    weights: dict[int, float], names: dict[int, str], keys: set[int]
) -> tuple[Feature, ...]:
    picked = [Feature(names.get(k, f"#{k:x}"), weights[k]) for k in keys]
    return tuple(sorted(picked, key=lambda f: (-f.weight, f.name)))


def explain(
    session: Session, first: Article, second: Article, settings: StoriesSettings | None = None
) -> StoryWhy:
    """Compare the later-stored of two articles with the earlier one, as the assigner
    did when it placed the later one (with today's code and settings)."""
    settings = settings or StoriesSettings()
    earlier, later = sorted((first, second), key=lambda a: (a.first_seen, a.id))
    assigner = StoryAssigner(session, settings, lambda: later.first_seen, until=later.first_seen)
    index = assigner.index
    sig_later = _signature(later)
    indexed = earlier.id in index
    sig_earlier = index.signature_of(earlier.id) if indexed else _signature(earlier)
    story_id = index.story_of(earlier.id) if indexed else None
    agreement: tuple[int, int] | None = None
    if indexed and story_id is not None:
        check = StoryCheck(sig_later, index, story_id)
        verdict = check.verdict(earlier.id)
        if verdict.same and verdict.reason != "copy":
            others = [a for a in index.members(story_id) if a != earlier.id][:MAJORITY_CHECK]
            agreement = (sum(check.verdict(a).same for a in others), len(others))
        own = index.story_counts(story_id)
    else:
        verdict = same_story(sig_later, sig_earlier, index)
        own = None
    names = {**_names(earlier), **_names(later)}
    w_later = index.weights(sig_later.feature_ids(), own)
    w_earlier = index.weights(sig_earlier.feature_ids(), own)
    rare: set[int] = set()
    overlap: float | None = None
    if w_later and w_earlier:
        rare, overlap = rare_overlap(w_later, w_earlier)
    across: tuple[int, float] | None = None
    if w_later and w_earlier and names_keyed_across(sig_later.language, sig_earlier.language):
        found = names_overlap(w_later, w_earlier)
        across = None if found is None else (len(found[0]), found[1])
    raw = set(sig_later.feature_ids()) & set(sig_earlier.feature_ids())
    return StoryWhy(
        earlier=_side(earlier, sig_earlier),
        later=_side(later, sig_later),
        indexed=indexed,
        candidate=indexed and earlier.id in index.candidates(sig_later),
        verdict=verdict,
        agreement=agreement,
        jaccard=jaccard_estimate(sig_later, sig_earlier),
        gap_days=gap_days(sig_later, sig_earlier),
        title_similarity=title_similarity(sig_later, sig_earlier),
        overlap=overlap,
        shared=_ranked(w_later, names, rare),
        common_shared=tuple(sorted(names.get(k, f"#{k:x}") for k in raw - rare)),
        only_earlier=_ranked(w_earlier, names, w_earlier.keys() - rare),
        only_later=_ranked(w_later, names, w_later.keys() - rare),
        window_texts=index.independent,
        names=across,
        correction=assigner.overrides.between(earlier.id, later.id),
    )
