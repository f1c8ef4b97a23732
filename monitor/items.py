"""The item that travels through the pipelines: a fetched page, enriched step by step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.extract import ExtractedArticle

if TYPE_CHECKING:
    from monitor.matching import TopicMatch
    from monitor.story_features import StorySignature


@dataclass
class PageItem:
    """A page fetched for one source; pipelines fill ``article`` then ``matches``."""

    source: str
    url: str
    final_url: str
    html: str
    feed_title: str | None = None
    feed_published: datetime | None = None
    feed_language: str | None = None
    article: ExtractedArticle | None = None
    fingerprint: str | None = None
    signature: StorySignature | None = None
    matches: list[TopicMatch] = field(default_factory=list)
