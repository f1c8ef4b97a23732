"""Repository functions for the user's corrections of the story grouping.

A correction is a pair of articles and a kind, "apart" or "together"
(storage.models.StoryOverride). Plain values in and out; the caller owns the session and
commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Article, StoryOverride

Kind = Literal["apart", "together"]


@dataclass(frozen=True, slots=True)
class OverrideRow:
    id: int
    kind: str
    article_id: int
    other_id: int
    created: datetime


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def record(session: Session, kind: Kind, pairs: Iterable[tuple[int, int]], at: datetime) -> int:
    """Record ``kind`` for each pair, replacing what was recorded about the pair before
    (the latest command wins). Returns how many earlier records of the other kind it
    replaced."""
    wanted = sorted({_pair(a, b) for a, b in pairs if a != b})
    if not wanted:
        return 0
    lifted = 0
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        match = or_(
            *(and_(StoryOverride.article_id == a, StoryOverride.other_id == b) for a, b in chunk)
        )
        replaced = session.execute(delete(StoryOverride).where(match, StoryOverride.kind != kind))
        lifted += int(getattr(replaced, "rowcount", 0) or 0)
        session.execute(delete(StoryOverride).where(match))
    session.execute(
        insert(StoryOverride),
        [{"kind": kind, "article_id": a, "other_id": b, "created": at} for a, b in wanted],
    )
    return lifted


def rows(session: Session, article_ids: Collection[int] | None = None) -> list[OverrideRow]:
    """Every correction, oldest first; or those naming one of ``article_ids``."""
    stmt = select(
        StoryOverride.id,
        StoryOverride.kind,
        StoryOverride.article_id,
        StoryOverride.other_id,
        StoryOverride.created,
    ).order_by(StoryOverride.id)
    if article_ids is not None:
        ids = list(article_ids)
        stmt = stmt.where(or_(StoryOverride.article_id.in_(ids), StoryOverride.other_id.in_(ids)))
    return [OverrideRow(*r) for r in session.execute(stmt)]


def generation(session: Session) -> int:
    """The highest correction id: it grows with every command (ids are never reused)."""
    return int(session.scalar(select(func.max(StoryOverride.id))) or 0)


def story_of(session: Session, article_ids: Collection[int]) -> dict[int, int | None]:
    """The current story of each article that still exists."""
    found = session.execute(
        select(Article.id, Article.story_id).where(Article.id.in_(list(article_ids)))
    )
    return {aid: sid for aid, sid in found}


def members(session: Session, story_id: int) -> list[tuple[int, int | None]]:
    """(id, exact copy of) of a story's articles, in id order."""
    found = session.execute(
        select(Article.id, Article.duplicate_of_id)
        .where(Article.story_id == story_id)
        .order_by(Article.id)
    )
    return [(aid, dup) for aid, dup in found]


def move_articles(session: Session, article_ids: Collection[int], story_id: int) -> None:
    session.execute(
        update(Article).where(Article.id.in_(list(article_ids))).values(story_id=story_id)
    )


def move_story(session: Session, from_story: int, to_story: int) -> list[int]:
    """Move every article of ``from_story`` into ``to_story``; returns their ids."""
    ids = [aid for aid, _ in members(session, from_story)]
    session.execute(update(Article).where(Article.story_id == from_story).values(story_id=to_story))
    return ids
