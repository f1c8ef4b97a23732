"""`newsmon stories` (list stories with their copies) and `newsmon restory` (recompute)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from monitor.commands.base import CommandContext
from monitor.story_assign import restory
from monitor.story_lock import held
from monitor.story_settings import StoriesSettings
from storage.stories import StoryView, list_stories


def _since(value: str) -> datetime:
    """DATE or DATETIME in ISO form; naive values are UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not an ISO date or datetime: {value!r} (e.g. 2025-02-01)"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def register(sub: Any) -> None:
    p = sub.add_parser("stories", help="list stories (an article and its copies/rewrites)")
    p.add_argument("--since", type=_since, help="stories with an article seen since DATE")
    p.add_argument("--topic", help="only stories with an article matching topic T")
    p.add_argument("--json", action="store_true", help="print a JSON array of stories")
    p.add_argument("--limit", type=int, default=50, help="at most N stories (default 50)")
    p.set_defaults(handler=run_stories)
    r = sub.add_parser("restory", help="recompute the stories of articles seen since DATE")
    r.add_argument("--since", type=_since, required=True, metavar="DATE")
    r.set_defaults(handler=run_restory)


def stories_settings(ctx: CommandContext) -> StoriesSettings:
    """`[stories]` of newsmon.toml when the config has it, else the defaults."""
    found = getattr(getattr(ctx.config, "settings", None), "stories", None)
    return found if isinstance(found, StoriesSettings) else StoriesSettings()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def story_json(story: StoryView) -> dict[str, Any]:
    return {
        "id": story.id,
        "title": story.title,
        "first_seen": _iso(story.first_seen),
        "first_published": _iso(story.first_published),
        "last_seen": _iso(story.last_seen),
        "first_source": story.first_source,
        "size": story.size,
        "articles": [
            {
                "id": a.id,
                "url": a.url,
                "source": a.source,
                "title": a.title,
                "language": a.language,
                "published": _iso(a.published),
                "first_seen": _iso(a.first_seen),
                "exact_copy_of": a.duplicate_of_id,
            }
            for a in story.articles
        ],
    }


def run_stories(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.limit is not None and args.limit < 1:
        print("newsmon stories: --limit must be at least 1", file=ctx.stderr)
        return 2
    with ctx.session() as session:
        found = list_stories(session, since=args.since, topic=args.topic, limit=args.limit)
    if args.json:
        json.dump([story_json(s) for s in found], ctx.stdout, ensure_ascii=False, indent=2)
        ctx.stdout.write("\n")
        return 0
    if not found:
        print("no stories", file=ctx.stdout)
    for s in found:
        when = (s.first_published or s.first_seen).strftime("%Y-%m-%d %H:%M")
        others = sorted({a.source for a in s.articles} - {s.first_source or ""})
        also = f"; also {', '.join(others)}" if others else ""
        print(f"#{s.id} {s.title}", file=ctx.stdout)
        print(f"    {s.size} article(s), first {s.first_source} {when}{also}", file=ctx.stdout)
        for a in s.articles:
            day = (a.published or a.first_seen).strftime("%Y-%m-%d")
            print(f"    - {day} {a.source} [{a.language or '?'}] {a.url}", file=ctx.stdout)
    return 0


def run_restory(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = stories_settings(ctx)

    def progress(done: int, total: int) -> None:
        print(f"restory: {done}/{total} articles", file=ctx.stderr, flush=True)

    # One connection holds the store lock for the whole run (PostgreSQL): workers and
    # ingest wait rather than store articles into stories that are being taken apart.
    with (
        ctx.engine.connect() as conn,
        held(conn),
        Session(conn, expire_on_commit=False) as session,
    ):
        count, stories = restory(session, args.since, settings, progress=progress)
    print(
        f"restory: {count} articles since {args.since:%Y-%m-%d} in {stories} stories",
        file=ctx.stdout,
    )
    return 0
