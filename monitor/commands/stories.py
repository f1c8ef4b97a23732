"""`newsmon stories` (list stories with their copies, why two articles are one story or
not, and the user's corrections: monitor.commands.story_corrections) and `newsmon
restory` (recompute)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlalchemy.orm import Session

from monitor.commands.base import CommandContext
from monitor.commands.story_corrections import add_arguments, run_correction, run_list
from monitor.jsonable import jsonable
from monitor.story_explain import ArticleNotFound, Feature, Side, StoryWhy, explain, find_article
from monitor.story_lock import held
from monitor.story_restory import restory
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
    p.add_argument(
        "--why",
        nargs=2,
        metavar=("A", "B"),
        help="why two stored articles (ids or URLs) are, or are not, one story: the "
        "figures the assigner decides on, beside the [stories] settings",
    )
    add_arguments(p)
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
    modes = [f for f in ("why", "split", "merge", "corrections") if getattr(args, f)]
    if len(modes) > 1:
        given = " and ".join(f"--{m}" for m in modes)
        print(f"newsmon stories: {given} cannot be used together", file=ctx.stderr)
        return 2
    if args.why:
        return run_why(args, ctx)
    if args.split or args.merge:
        return run_correction(args, ctx)
    if args.corrections:
        return run_list(args, ctx)
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


def _side_line(label: str, side: Side) -> str:
    when = (side.published or side.first_seen).strftime("%Y-%m-%d %H:%M")
    story = f"story #{side.story_id}" if side.story_id is not None else "no story"
    lang = side.language or "?"
    return f"{label:<8} #{side.id} {when} {side.source} [{lang}] {side.url}  {story}"


def _features(items: tuple[Feature, ...], limit: int = 12) -> str:
    shown = ", ".join(f"{f.name} {f.weight:.1f}" for f in items[:limit])
    more = f" (+{len(items) - limit})" if len(items) > limit else ""
    return (shown or "none") + more


def print_why(why: StoryWhy, s: StoriesSettings, out: TextIO) -> None:
    """The comparison as lines of 'what / figure (setting = threshold)'."""
    e, later, v = why.earlier, why.later, why.verdict
    lines = [_side_line("earlier", e), _side_line("later", later)]
    if e.story_id is not None and e.story_id == later.story_id:
        lines.append(f"stored in one story (#{e.story_id})")
    else:
        lines.append("stored in different stories")
    if why.correction is not None:
        lines.append(
            f"a user's correction keeps them {why.correction} (stories --corrections): "
            "restory places them so, whatever the figures below say"
        )
    if later.exact_copy_of == e.id:
        lines.append("the later is an exact copy of the earlier (same text): it joins its story")
        print("\n".join(lines), file=out)
        return
    lines.append(
        f"compared now, with the window before the later article ({why.window_texts:,} texts):"
    )
    lines.append(f"  verdict     {'same story: ' + v.reason if v.same else 'not the same story'}")
    if not why.indexed:
        found = "the earlier is not in that window (too old, or an exact copy)"
    elif why.candidate:
        found = "the index finds the earlier for the later"
    else:
        found = (
            "the index does not find the earlier: no shared LSH band, and too few of the "
            "later's rarest features in common; it is never verified"
        )
    lines.append(f"  candidate   {found}")
    lines.append(
        f"  copy        shingle Jaccard ~{why.jaccard:.2f} (copy_jaccard = {s.copy_jaccard})"
    )
    gap = "unknown" if why.gap_days is None else f"{why.gap_days:.2f} days"
    lines.append(f"  gap         {gap} (rewrite_gap_days = {s.rewrite_gap_days})")
    if s.event_days:
        days = " / ".join(str(d) if d else "none" for d in (e.named_day, later.named_day))
        lines.append(f"  named days  {days} (event_day_slack_days = {s.event_day_slack_days})")
    overlap = "none (a side has no rare feature)" if why.overlap is None else f"{why.overlap:.2f}"
    lines.append(
        f"  overlap     {overlap} of the smaller side's rare weight "
        f"(rewrite_overlap = {s.rewrite_overlap})"
    )
    lines.append(
        f"  shared      {len(why.shared)} rare features (rewrite_min_shared = "
        f"{s.rewrite_min_shared}; title_min_shared = {s.title_min_shared} with similar titles)"
    )
    if why.names is not None and s.cross_language:
        count, share = why.names
        lines.append(
            f"  languages   {e.language} / {later.language}: {count} rare names and figures "
            f"shared, {share:.2f} of the smaller side's (cross_min_shared = "
            f"{s.cross_min_shared}, cross_overlap = {s.cross_overlap})"
        )
    lines.append(
        f"  titles      word Jaccard {why.title_similarity:.2f} "
        f"(title_similarity = {s.title_similarity})"
    )
    if why.agreement is not None:
        agree, checked = why.agreement
        lines.append(
            f"  majority    retells {agree} of {checked} other articles of the story "
            "(a rewrite must agree with half)"
        )
    lines.append(f"shared rare:     {_features(why.shared)}")
    lines.append(f"too common:      {', '.join(why.common_shared[:12]) or 'none'}")
    lines.append(f"only in earlier: {_features(why.only_earlier)}")
    lines.append(f"only in later:   {_features(why.only_later)}")
    lines.append("(names as they are compared: folded across spellings and scripts)")
    print("\n".join(lines), file=out)


def run_why(args: argparse.Namespace, ctx: CommandContext) -> int:
    settings = stories_settings(ctx)
    with ctx.session() as session:
        try:
            a, b = (find_article(session, ref) for ref in args.why)
        except ArticleNotFound as exc:
            print(f"newsmon stories --why: {exc}", file=ctx.stderr)
            return 2
        why = explain(session, a, b, settings)
    if args.json:
        json.dump(jsonable(dataclasses.asdict(why)), ctx.stdout, ensure_ascii=False, indent=2)
        ctx.stdout.write("\n")
    else:
        print_why(why, settings, ctx.stdout)
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
