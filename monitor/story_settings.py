"""`[stories]` of newsmon.toml: the window and thresholds of story clustering (pure)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoriesSettings(BaseModel):
    """`[stories]` in newsmon.toml. The defaults were tuned on tests/data/stories/pairs.jsonl
    (see docs/relevance.md, "Story clustering")."""

    model_config = ConfigDict(extra="forbid")

    window_days: float = Field(
        30, gt=0, description="How far back a new article is compared (days of first_seen)."
    )
    copy_jaccard: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Estimated 3-word-shingle Jaccard from which two texts are copies of one "
        "another (syndication, other boilerplate, an edited paragraph), whatever their dates.",
    )
    rewrite_overlap: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of rare-feature weight (names, places, figures, long words; weighted by "
        "rarity) that a rewrite must share with an article of the story, relative to the "
        "article with fewer such features.",
    )
    sparse_rewrite_overlap: float = Field(
        0.2,
        ge=0,
        le=1,
        description="`rewrite_overlap` while the window holds fewer than `informed_docs` "
        'independent texts: until then a topic\'s own words ("North Korean", "sanctions") '
        "still count as rare, so a rewrite must share more.",
    )
    informed_docs: int = Field(
        100,
        ge=1,
        description="Independent texts from which the window's rarity is trusted (see "
        "`sparse_rewrite_overlap`).",
    )
    word_weight: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Weight of a plain word (a long lower-case word, or a capitalised noun in a "
        "language that capitalises nouns) relative to a name or a figure of equal rarity.",
    )
    rewrite_min_shared: int = Field(
        5, ge=1, description="Rare features a rewrite must share, at least."
    )
    title_similarity: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Title word Jaccard from which a rewrite needs only `title_min_shared` "
        "rare features in common.",
    )
    title_min_shared: int = Field(
        2, ge=1, description="Rare features a rewrite with a similar title must share."
    )
    rewrite_gap_days: float = Field(
        2,
        ge=0,
        description="Rewrites are linked only if published (or seen) at most this many days "
        "apart; copies are linked across the whole window. Retellings of one event come "
        "within a day or two; follow-up events (the arrests after a killing, a summit's "
        "second day) a few days later, sharing every name.",
    )
    event_days: bool = Field(
        True,
        description='Keep apart rewrites whose openings name different days ("on '
        'Tuesday", "5 January", "16日"): a follow-up shares every name with the event '
        "it follows, but not its day. Copies are not affected.",
    )
    event_day_slack_days: int = Field(
        1,
        ge=0,
        description="Days by which the named days may differ and still be one event (time "
        'zones; "late on Monday" against "on Tuesday").',
    )
    cross_language: bool = Field(
        True,
        description="Link retellings in another language by their names and figures alone "
        "(the page's language must be known on both sides).",
    )
    cross_overlap: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Share of rare name and figure weight that a retelling in another "
        "language must share, relative to the side with less of it.",
    )
    cross_min_shared: int = Field(
        3, ge=1, description="Rare names and figures a retelling in another language must share."
    )
    rare_max_share: float = Field(
        0.01,
        gt=0,
        le=1,
        description="A feature in more than this share of the window's independent texts "
        "(articles that are not near-copies of another; and in more "
        "than `rare_min_docs`) is common: it neither finds nor weighs candidates.",
    )
    rare_min_docs: int = Field(
        10, ge=1, description="Independent texts up to which a feature is always rare."
    )
    idf_floor_docs: int = Field(
        1000,
        ge=1,
        description="Rarity is computed as if the window held at least this many texts, "
        "so that a fresh database does not treat every name as unique.",
    )
