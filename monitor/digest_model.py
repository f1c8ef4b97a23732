"""What a digest is, independent of storage and of output format.

A digest covers one time window [start, end). It lists topics; each topic lists stories
ranked by score; each story is one entry (the article shown) plus the copies "also
reported by" other outlets. Renderers (monitor/digest_render.py) read only these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit


def outlet_name(site_name: str | None, source: str, url: str) -> str:
    """The name a reader recognises: the site's own name, else the source, else the host."""
    for candidate in (site_name, source):
        if candidate and candidate.strip():
            return candidate.strip()
    return urlsplit(url).hostname or url


@dataclass(frozen=True, slots=True)
class Copy:
    """Another outlet's copy or rewrite of a story."""

    article_id: int
    outlet: str
    url: str
    title: str
    language: str | None
    first_seen: datetime
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """The article that stands for a story in the digest."""

    article_id: int
    title: str
    url: str
    source: str
    site_name: str | None
    published: datetime | None
    first_seen: datetime
    language: str | None
    score: float
    tags: tuple[str, ...]
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()

    @property
    def outlet(self) -> str:
        return outlet_name(self.site_name, self.source, self.url)

    def snippet_parts(self) -> list[tuple[str, bool]]:
        """The snippet cut at its highlights: (text, highlighted) pairs, in order."""
        parts: list[tuple[str, bool]] = []
        pos = 0
        for start, end in sorted(self.highlights):
            start, end = max(start, pos), min(end, len(self.snippet))
            if start >= end:
                continue  # overlapping, empty or out of range: nothing more to mark
            if start > pos:
                parts.append((self.snippet[pos:start], False))
            parts.append((self.snippet[start:end], True))
            pos = end
        if pos < len(self.snippet):
            parts.append((self.snippet[pos:], False))
        return parts


@dataclass(frozen=True, slots=True)
class DigestStory:
    """One story: its entry, and the copies collapsed under "also reported by"."""

    story_id: int | None
    entry: Entry
    also_reported_by: tuple[Copy, ...] = ()
    first_seen: datetime | None = None
    """When the story itself was first seen; before the window means a follow-up."""
    rank: int = 0

    @property
    def key(self) -> str:
        """Stable identifier across digests: the story, else the article."""
        if self.story_id is not None:
            return f"story-{self.story_id}"
        return f"article-{self.entry.article_id}"

    def is_follow_up(self, window_start: datetime) -> bool:
        return self.first_seen is not None and self.first_seen < window_start


@dataclass(frozen=True, slots=True)
class DigestTopic:
    name: str
    stories: tuple[DigestStory, ...] = ()

    @property
    def article_count(self) -> int:
        return sum(1 + len(s.also_reported_by) for s in self.stories)


@dataclass(frozen=True, slots=True)
class Digest:
    """A digest of the window [start, end), generated at ``generated_at``.

    Datetimes are aware and in UTC; ``tz`` is the zone in which people read it (the
    renderers show times there).
    """

    start: datetime
    end: datetime
    generated_at: datetime
    topics: tuple[DigestTopic, ...] = ()
    tz: tzinfo = field(default=UTC)
    title: str = "newsmon digest"

    @property
    def is_empty(self) -> bool:
        return not any(t.stories for t in self.topics)

    @property
    def story_count(self) -> int:
        return sum(len(t.stories) for t in self.topics)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)
