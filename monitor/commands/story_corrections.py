"""`newsmon stories --split / --merge / --corrections`: the user's corrections of the
grouping (monitor.story_regroup), and the list of those in force."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.commands.base import CommandContext
from monitor.story_explain import ArticleNotFound, find_article
from monitor.story_lock import held
from monitor.story_regroup import MergeResult, RegroupError, SplitResult, merge, split
from storage import story_overrides
from storage.models import Article

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--split",
        nargs="+",
        metavar="ARTICLE",
        help="take these articles (ids or URLs, of one story) and their exact copies out "
        "of their story into a new one, and keep them apart from the rest of it",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="ARTICLE",
        help="put the stories of these articles (two or more) together into the first's",
    )
    p.add_argument(
        "--corrections",
        action="store_true",
        help="list the corrections made with --split and --merge (restory keeps to them)",
    )


def _resolve(session: Session, refs: list[str]) -> list[int]:
    return [find_article(session, ref).id for ref in refs]


def run_correction(args: argparse.Namespace, ctx: CommandContext, clock: Clock = _now) -> int:
    """--split or --merge, holding the store lock (as restory does) so that no article
    is stored into the stories being regrouped."""
    name = "--split" if args.split else "--merge"
    refs: list[str] = args.split or args.merge
    if args.merge and len(refs) < 2:
        print("newsmon stories --merge: give two or more articles", file=ctx.stderr)
        return 2
    with (
        ctx.engine.connect() as conn,
        held(conn),
        Session(conn, expire_on_commit=False) as session,
    ):
        try:
            ids = _resolve(session, refs)
            result: SplitResult | MergeResult = (
                split(session, ids, clock()) if args.split else merge(session, ids, clock())
            )
        except (ArticleNotFound, RegroupError) as exc:
            session.rollback()
            print(f"newsmon stories {name}: {exc}", file=ctx.stderr)
            return 2
        session.commit()
    if args.json:
        json.dump(dataclasses.asdict(result), ctx.stdout, indent=2)
        ctx.stdout.write("\n")
    elif isinstance(result, SplitResult):
        named = len(set(ids))
        copies = len(result.moved) - named
        also = f" with {copies} exact cop{'y' if copies == 1 else 'ies'}" if copies else ""
        print(
            f"story #{result.new_story}: {named} article(s){also} split "
            f"out of #{result.old_story}, where {result.kept} stay",
            file=ctx.stdout,
        )
        _recorded(ctx, f"kept apart from {result.apart} text(s) of #{result.old_story}", result)
    else:
        merged = ", ".join(f"#{s}" for s in result.merged)
        print(
            f"story #{result.story}: {merged} merged into it ({len(result.moved)} article(s))",
            file=ctx.stdout,
        )
        _recorded(ctx, f"{result.together} pair(s) kept together", result)
    return 0


def _recorded(ctx: CommandContext, what: str, result: SplitResult | MergeResult) -> None:
    lifted = f"; replaces {result.lifted} earlier correction(s)" if result.lifted else ""
    print(
        f"recorded: {what}{lifted}. `newsmon restory` and running crawlers keep to it; "
        "`newsmon stories --corrections` lists what is recorded",
        file=ctx.stdout,
    )


def run_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    with ctx.session() as session:
        found = story_overrides.rows(session)
        ids = {a for r in found for a in (r.article_id, r.other_id)}
        stmt = select(Article.id, Article.url).where(Article.id.in_(ids))
        urls: dict[int, str] = {aid: url for aid, url in session.execute(stmt)}
    if args.json:
        out: list[dict[str, Any]] = [
            {
                "id": r.id,
                "kind": r.kind,
                "created": r.created.isoformat(),
                "articles": [{"id": a, "url": urls.get(a)} for a in (r.article_id, r.other_id)],
            }
            for r in found
        ]
        json.dump(out, ctx.stdout, ensure_ascii=False, indent=2)
        ctx.stdout.write("\n")
        return 0
    if not found:
        print("no corrections", file=ctx.stdout)
    for r in found:
        print(
            f"{r.created:%Y-%m-%d %H:%M} {r.kind:<8} #{r.article_id} {urls.get(r.article_id)}"
            f"  |  #{r.other_id} {urls.get(r.other_id)}",
            file=ctx.stdout,
        )
    return 0
