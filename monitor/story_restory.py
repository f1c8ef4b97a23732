"""`newsmon restory`: recompute the stories of the articles seen since a date.

After a change of `[stories]` settings or of the signature, the window's articles are
placed again, in the order they were seen, against the stories of the articles before
them; the user's corrections (monitor.story_overrides) hold as they were made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from monitor.alerts.outbox import follow_regrouped_articles
from monitor.story_assign import StoryAssigner, as_utc
from monitor.story_settings import StoriesSettings
from storage import stories as repo
from storage.models import Article


def restory(
    session: Session,
    since: datetime,
    settings: StoriesSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    commit_every: int = 500,
) -> tuple[int, int]:
    """Recompute the stories of the articles first seen at or after ``since``.

    Earlier articles keep their stories and serve as the index (window before ``since``).
    Commits every ``commit_every`` articles so that a long run holds no long SQLite lock
    (on PostgreSQL `newsmon restory` holds the store lock throughout: monitor.story_lock).
    Enqueues no alert; the alert events of the regrouped articles move with them, so a
    watcher told about a story is not told again about what it became.
    Returns (articles assigned, stories now holding them).
    """
    since = as_utc(since)
    touched = repo.detach_articles(session, since)
    repo.delete_signatures(session, since)
    for story_id in touched:
        repo.recompute_story(session, story_id)
    session.commit()
    assigner = StoryAssigner(session, settings, until=since)
    ids = repo.article_ids_since(session, since)
    stories: set[int] = set()
    for start in range(0, len(ids), commit_every):
        chunk = ids[start : start + commit_every]
        for n, article_id in enumerate(chunk, start + 1):
            article = session.get(Article, article_id)
            if article is not None and article.story_id is None:
                # (else gone, or already placed as the original of an earlier duplicate)
                original = (
                    session.get(Article, article.duplicate_of_id)
                    if article.duplicate_of_id
                    else None
                )
                stories.add(assigner.assign(session, article, original))
            if progress is not None and (n % 100 == 0 or n == len(ids)):
                progress(n, len(ids))
        follow_regrouped_articles(session, chunk)
        session.commit()
        session.expunge_all()
    return len(ids), len(stories)
