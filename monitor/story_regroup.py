"""The user's corrections of the story grouping: split articles out, merge stories.

No threshold fixes every grouping: two day-by-day developments of one event may share
every name, and a retelling may share none. `newsmon stories --split` and `--merge`
regroup the stored articles at once and record the correction
(storage.story_overrides), so that `newsmon restory` and every running crawler's story
index (which rebuilds when it sees a new correction) keep to it. Alert events follow
their articles, as after a restory: a watcher told about a story is not told again
about what it became. The caller holds the store lock and commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from monitor.alerts.outbox import follow_regrouped_articles
from storage import stories as stories_repo
from storage import story_overrides as repo
from storage.models import Article, StoryOverride


class RegroupError(ValueError):
    """The correction cannot be made as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class SplitResult:
    old_story: int
    new_story: int
    moved: tuple[int, ...]
    """The named articles and their exact copies, now in ``new_story``."""
    kept: int
    apart: int
    """Pairs recorded: each named article with each other text left in ``old_story``."""
    lifted: int


@dataclass(frozen=True, slots=True)
class MergeResult:
    story: int
    merged: tuple[int, ...]
    """The stories that no longer exist: their articles are in ``story``."""
    moved: tuple[int, ...]
    together: int
    lifted: int


def _stories(session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    found = repo.story_of(session, article_ids)
    for aid in article_ids:
        if aid not in found:
            raise RegroupError(f"no stored article #{aid}")
        if found[aid] is None:
            raise RegroupError(
                f"article #{aid} is in no story (a restory is running, or stories are off)"
            )
    return {aid: sid for aid, sid in found.items() if sid is not None}


def split(session: Session, article_ids: Sequence[int], at: datetime) -> SplitResult:
    """Take ``article_ids`` (and their exact copies) out of their story into a new one,
    and keep them apart from every other text of it."""
    named = list(dict.fromkeys(article_ids))
    stories = _stories(session, named)
    distinct = sorted(set(stories.values()))
    if len(distinct) > 1:
        where = "; ".join(
            f"#{sid}: " + ", ".join(f"#{a}" for a in named if stories[a] == sid) for sid in distinct
        )
        raise RegroupError(f"the articles are in different stories ({where}): split one at a time")
    old = distinct[0]
    members = repo.members(session, old)
    copy_of = dict(members)
    for aid in named:
        original = copy_of.get(aid)
        if original is not None and original not in named:
            raise RegroupError(
                f"article #{aid} is an exact copy of #{original} (the same text) and goes "
                f"where it goes: split #{original}"
            )
    given = set(named)
    moved = [aid for aid, original in members if aid in given or original in given]
    kept = [aid for aid, original in members if aid not in moved]
    if not kept:
        raise RegroupError(f"story #{old} holds only these articles and their copies")
    first = session.get(Article, moved[0])
    assert first is not None
    new = stories_repo.create_story(session, first)  # its first article: recompute_story
    repo.move_articles(session, moved, new.id)
    session.expire_all()
    follow_regrouped_articles(session, moved)
    stories_repo.recompute_story(session, new.id)
    stories_repo.recompute_story(session, old)
    texts = [aid for aid in kept if copy_of.get(aid) is None]
    pairs = [(a, b) for a in named for b in texts]
    lifted = repo.record(session, "apart", pairs, at)
    return SplitResult(old, new.id, tuple(moved), len(kept), len(pairs), lifted)


def merge(session: Session, article_ids: Sequence[int], at: datetime) -> MergeResult:
    """Put the stories of ``article_ids`` together, into the story of the first."""
    named = list(dict.fromkeys(article_ids))
    if len(named) < 2:
        raise RegroupError("merge takes at least two articles")
    stories = _stories(session, named)
    target = stories[named[0]]
    others = sorted({sid for sid in stories.values()} - {target})
    if not others:
        raise RegroupError(f"the articles are already one story (#{target})")
    moved: list[int] = []
    for sid in others:
        moved.extend(repo.move_story(session, sid, target))
    session.expire_all()
    follow_regrouped_articles(session, moved)
    for sid in others:
        stories_repo.recompute_story(session, sid)
    stories_repo.recompute_story(session, target)
    lifted = _lift_apart_within(session, target)
    lifted += repo.record(session, "together", [(named[0], b) for b in named[1:]], at)
    return MergeResult(target, tuple(others), tuple(moved), len(named) - 1, lifted)


def _lift_apart_within(session: Session, story_id: int) -> int:
    """Drop "apart" corrections between articles now in one story: the merge is the
    later word on them."""
    in_story = select(Article.id).where(Article.story_id == story_id)
    where = and_(
        StoryOverride.kind == "apart",
        StoryOverride.article_id.in_(in_story),
        StoryOverride.other_id.in_(in_story),
    )
    result = session.execute(delete(StoryOverride).where(where))
    return int(getattr(result, "rowcount", 0) or 0)
