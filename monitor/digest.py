"""Build a Digest from storage, and write the scheduled digest files.

Grouping rules (documented here because every format follows them):
- a digest lists the articles first seen in [start, end) that match a topic, grouped by
  topic, then by story (an article without a story is its own story);
- one entry per story: the story's first article if it is in the window, else its
  highest-scoring article in the window; the others, and every other copy of the story
  known before ``end`` (exact duplicates included), are listed as "also reported by";
- stories are ranked by their best score in the window, then by first seen;
- a story first seen before the window is a follow-up (new copies of an older story).
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import tzlocal
from sqlalchemy.orm import Session

from monitor.digest_model import Copy, Digest, DigestStory, DigestTopic, Entry, outlet_name
from monitor.digest_render import EXTENSIONS, FORMATS, Format, render_digest
from storage.digest_queries import CopyRow, MatchedArticleRow, matched_articles, story_copies


def local_zone() -> tzinfo:
    """The machine's local time zone as a zone with its DST rules (honours TZ)."""
    return tzlocal.get_localzone()


def day_window(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of ``day`` in ``tz`` (local time by default), as UTC.

    Computed from wall-clock midnights, so a day with a DST change is 23 or 25 hours.
    """
    zone = tz or local_zone()
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _spans(raw: Any, length: int, offset: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if not isinstance(raw, list):
        return spans
    for pair in raw:
        if (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
            and 0 <= pair[0] < pair[1] <= length
        ):
            spans.append((pair[0] + offset, pair[1] + offset))
    return spans


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def snippet_with_highlights(
    snippet: str, keywords: Sequence[Any]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The match snippet and the keyword highlights that fall inside it.

    Each keyword carries its own snippet and spans relative to it; a keyword snippet found
    inside the match snippet contributes its spans, shifted. With no match snippet, the
    snippet of the most frequent keyword is used. Malformed entries are ignored.
    """
    kws = [k for k in keywords if isinstance(k, dict) and isinstance(k.get("snippet"), str)]
    if not snippet and kws:
        best = max(kws, key=lambda k: k.get("count", 0) if isinstance(k.get("count"), int) else 0)
        snippet = best["snippet"]
    spans: list[tuple[int, int]] = []
    for kw in kws:
        text: str = kw["snippet"]
        offset = snippet.find(text) if text else -1
        if offset >= 0:
            spans.extend(_spans(kw.get("highlights"), len(text), offset))
    return snippet, _merge(spans)


def keyword_tags(keywords: Sequence[Any]) -> tuple[str, ...]:
    """Tags hit, most frequent first (ties by name), each once."""
    counts: dict[str, int] = {}
    for kw in keywords:
        if isinstance(kw, dict) and isinstance(kw.get("tag"), str) and kw["tag"]:
            count = kw.get("count")
            counts[kw["tag"]] = counts.get(kw["tag"], 0) + (count if isinstance(count, int) else 1)
    return tuple(sorted(counts, key=lambda t: (-counts[t], t)))


def _entry(row: MatchedArticleRow) -> Entry:
    snippet, highlights = snippet_with_highlights(row.snippet, row.keywords)
    return Entry(
        article_id=row.article_id,
        title=row.title,
        url=row.url,
        source=row.source,
        site_name=row.site_name,
        published=row.published,
        first_seen=row.first_seen,
        language=row.language,
        score=row.score,
        tags=keyword_tags(row.keywords),
        snippet=snippet,
        highlights=highlights,
    )


def _copy(row: MatchedArticleRow | CopyRow) -> Copy:
    return Copy(
        article_id=row.article_id,
        outlet=outlet_name(row.site_name, row.source, row.url),
        url=row.url,
        title=row.title,
        language=row.language,
        first_seen=row.first_seen,
        published=row.published,
    )


class _CopyIndex:
    def __init__(self, copies: Iterable[CopyRow]) -> None:
        self.by_story: dict[int, list[CopyRow]] = defaultdict(list)
        self.by_original: dict[int, list[CopyRow]] = defaultdict(list)
        for c in copies:
            if c.story_id is not None:
                self.by_story[c.story_id].append(c)
            if c.duplicate_of_id is not None:
                self.by_original[c.duplicate_of_id].append(c)

    def for_group(self, story_id: int | None, members: list[MatchedArticleRow]) -> list[CopyRow]:
        found = list(self.by_story.get(story_id, [])) if story_id is not None else []
        for m in members:
            found.extend(self.by_original.get(m.article_id, []))
        return found


def _story(members: list[MatchedArticleRow], index: _CopyIndex) -> tuple[float, DigestStory]:
    first_id = members[0].story_first_article_id
    ranked = sorted(members, key=lambda r: (-r.score, r.first_seen, r.article_id))
    lead = next((r for r in ranked if r.article_id == first_id), ranked[0])
    taken = {m.article_id for m in members}
    copies = [_copy(r) for r in members if r is not lead]
    for c in index.for_group(lead.story_id, members):
        if c.article_id not in taken:
            taken.add(c.article_id)
            copies.append(_copy(c))
    copies.sort(key=lambda c: (c.first_seen, c.article_id))
    story = DigestStory(
        story_id=lead.story_id,
        entry=_entry(lead),
        also_reported_by=tuple(copies),
        first_seen=lead.story_first_seen or min(m.first_seen for m in members),
    )
    return ranked[0].score, story


def assemble_digest(
    rows: Iterable[MatchedArticleRow],
    copies: Iterable[CopyRow],
    start: datetime,
    end: datetime,
    generated_at: datetime,
    *,
    topics: Sequence[str] = (),
    tz: tzinfo = UTC,
    title: str = "newsmon digest",
) -> Digest:
    """Rows -> Digest (pure). ``topics`` are always listed, in that order, even if empty;
    other topics found in ``rows`` follow by name."""
    groups: dict[str, dict[tuple[str, int], list[MatchedArticleRow]]] = defaultdict(dict)
    for row in rows:
        key = ("s", row.story_id) if row.story_id is not None else ("a", row.article_id)
        groups[row.topic].setdefault(key, []).append(row)
    index = _CopyIndex(copies)
    names = list(dict.fromkeys(topics)) + sorted(set(groups) - set(topics))
    digest_topics = []
    for name in names:
        scored = [_story(members, index) for members in groups.get(name, {}).values()]
        scored.sort(key=lambda s: (-s[0], s[1].entry.first_seen, s[1].entry.article_id))
        stories = tuple(
            DigestStory(s.story_id, s.entry, s.also_reported_by, s.first_seen, rank)
            for rank, (_, s) in enumerate(scored, start=1)
        )
        digest_topics.append(DigestTopic(name=name, stories=stories))
    return Digest(
        start=start,
        end=end,
        generated_at=generated_at,
        topics=tuple(digest_topics),
        tz=tz,
        title=title,
    )


def build_digest(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    topic: str | None = None,
    topics: Sequence[str] = (),
    tz: tzinfo | None = None,
    now: datetime | None = None,
) -> Digest:
    """The digest of articles first seen in [start, end), optionally for one topic.

    ``topics`` (the configured ones) are listed even when empty so the digest says
    "nothing new" for them, and only they are: matches stored under a topic no longer
    configured are left out. With ``topic`` only that one is listed.
    """
    rows = matched_articles(session, start, end, topic)
    if topic is None and topics:
        wanted = set(topics)
        rows = [r for r in rows if r.topic in wanted]
    copies = story_copies(session, start, end, topic) if rows else []
    listed = [topic] if topic is not None else list(topics)
    return assemble_digest(
        rows,
        copies,
        start,
        end,
        now or datetime.now(UTC),
        topics=listed,
        tz=tz or local_zone(),
    )


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a digest."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, text)


def write_digest_files(
    session: Session,
    day: date,
    formats: Sequence[str],
    out_dir: Path,
    *,
    tz: tzinfo | None = None,
    topics: Sequence[str] = (),
    template_dir: Path | None = None,
    now: datetime | None = None,
) -> tuple[Digest, list[Path]]:
    """Write ``out_dir/YYYY-MM-DD.<ext>`` for each format; return the digest and the paths.

    ``day`` is a calendar day in ``tz`` (local by default). Unknown formats raise
    ValueError before anything is built or written. The digest is returned so that the
    scheduler mails what it wrote, built once: the mail and the files never differ.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown digest format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    start, end = day_window(day, tz)
    digest = build_digest(session, start, end, topics=topics, tz=tz, now=now)
    paths = []
    for fmt in dict.fromkeys(formats):
        path = out_dir / f"{day.isoformat()}.{EXTENSIONS[_as_format(fmt)]}"
        write_output(path, render_digest(digest, fmt, template_dir))
        paths.append(path)
    return digest, paths


def _as_format(fmt: str) -> Format:
    for known in FORMATS:
        if known == fmt:
            return known
    raise ValueError(fmt)
