"""`newsmon articles`: list stored articles, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from monitor.commands.base import CommandContext
from storage.articles import list_articles
from storage.models import Article


def parse_since(value: str) -> datetime:
    """A date or datetime in ISO 8601; naive values are UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or datetime: {value!r} (e.g. 2026-11-26)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def register(sub: Any) -> None:
    p = sub.add_parser("articles", help="list stored articles")
    p.add_argument("--since", type=parse_since, metavar="DATE", help="first seen on or after")
    p.add_argument("--topic", metavar="T", help="only articles with a match row for topic T")
    p.add_argument("--matched", action="store_true", help="only articles matching a topic")
    p.add_argument("--limit", type=int, default=None, help="at most N articles")
    p.add_argument("--json", action="store_true", help="a JSON array on stdout")
    p.set_defaults(handler=run_articles)


def article_to_json(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "source": a.source,
        "site_name": a.site_name,
        "published": a.published.isoformat() if a.published else None,
        "first_seen": a.first_seen.isoformat(),
        "language": a.language,
        "authors": a.authors,
        "story_id": a.story_id,
        "topics": {
            m.topic: {
                "matched": m.matched,
                "score": m.score,
                "keywords": [k.get("tag") for k in m.keywords],
                "snippet": m.snippet,
            }
            for m in a.matches
        },
    }


def run_articles(args: argparse.Namespace, ctx: CommandContext) -> int:
    with ctx.session() as session:
        rows = list_articles(
            session, since=args.since, topic=args.topic, matched_only=args.matched, limit=args.limit
        )
        if args.json:
            json.dump([article_to_json(a) for a in rows], ctx.stdout, indent=2, ensure_ascii=False)
            ctx.stdout.write("\n")
            return 0
        for a in rows:
            tags = sorted({k.get("tag", "") for m in a.matches if m.matched for k in m.keywords})
            topics = ",".join(sorted(m.topic for m in a.matches if m.matched)) or "-"
            day = (a.published or a.first_seen).date().isoformat()
            print(
                f"{day}  {a.source:<16} {a.language or '??':<3} {topics:<20} {a.title[:80]}",
                file=ctx.stdout,
            )
            print(
                f"            {a.url}" + (f"  [{', '.join(tags)}]" if tags else ""), file=ctx.stdout
            )
        print(f"{len(rows)} article(s)", file=ctx.stdout)
    return 0
