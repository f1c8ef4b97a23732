"""Rarity of story features (pure): which shared facts count, and how much.

A feature's weight is its inverse frequency among the window's independent texts (the
index counts them, monitor.story_index); a feature held by too many of them is common and
weighs nothing, so it neither finds candidates nor links a rewrite. Plain words weigh
``word_weight`` of a name or a figure of equal rarity.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from monitor.story_features import WORD
from monitor.story_settings import StoriesSettings


def common_df(independent: int, settings: StoriesSettings) -> float:
    """Frequency above which a feature is common, among ``independent`` texts.

    ``rare_min_docs`` texts, or ``rare_max_share`` of them in a large window; in a
    nearly empty window (a new topic) a feature in over a quarter of the few texts
    (and at least three) is common already: the topic's own names, not a story's.
    """
    floor = min(float(settings.rare_min_docs), 2 + independent / 4)
    return max(floor, settings.rare_max_share * independent)


def rare_weights(
    features: list[int],
    df: Mapping[int, int],
    independent: int,
    settings: StoriesSettings,
    own: Counter[int] | None = None,
) -> dict[int, float]:
    """Rare features of one side with their weights (common ones left out).

    ``df``: independent texts holding each feature. ``own``: feature counts of the story
    being compared with, left out of the frequency, so that a story retold many times
    keeps its own names rare.
    """
    df_get = df.get
    common = common_df(independent, settings)
    log_n = math.log(max(independent, settings.idf_floor_docs) + 1)
    log = math.log
    word = settings.word_weight
    out = {}
    for f in features:
        n = df_get(f, 0)
        if own:
            n -= own.get(f, 0)
        if n <= common:
            w = log_n - log(n + 1)
            out[f] = w * word if f & 3 == WORD else w
    return out
