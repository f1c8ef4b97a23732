"""`newsmon search QUERY` and `newsmon rematch`: the query language over the archive."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from monitor.commands.articles import article_to_json, parse_since
from monitor.commands.base import CommandContext
from monitor.matching import Matcher, QuerySyntaxError, TopicMatch, compile_query
from monitor.store import match_records
from storage.articles import iter_article_ids, replace_matches
from storage.search import candidate_ids, load_articles, load_texts, recent_ids


def register(sub: Any) -> None:
    p = sub.add_parser("search", help="search stored articles with the query language")
    p.add_argument(
        "query", metavar="QUERY", help="e.g. '\"north korean\" AND (worker* OR labo*r*)'"
    )
    p.add_argument("--since", type=parse_since, metavar="DATE", help="first seen on or after")
    p.add_argument("--limit", type=int, default=20, help="results shown (default 20)")
    p.add_argument(
        "--candidates",
        type=int,
        default=2000,
        help="at most this many full-text candidates, best ranked first, are tested (default 2000)",
    )
    p.add_argument("--json", action="store_true", help="a JSON array on stdout")
    p.set_defaults(handler=run_search)
    r = sub.add_parser(
        "rematch",
        help="recompute topic matches of stored articles "
        "(after editing topics.toml); no refetching",
    )
    r.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="T",
        help="only this topic (repeatable); default: all topics",
    )
    r.add_argument("--since", type=parse_since, metavar="DATE", help="first seen on or after")
    r.set_defaults(handler=run_rematch)


def run_search(args: argparse.Namespace, ctx: CommandContext) -> int:
    try:
        query = compile_query(args.query)
    except QuerySyntaxError as exc:
        print(f"newsmon: bad query: {exc}", file=sys.stderr)
        return 2
    with ctx.session() as session:
        ids = candidate_ids(session, query.narrowing(), since=args.since, limit=args.candidates)
        if ids is None:
            print(
                f"newsmon: the query cannot use the full-text index; testing the newest "
                f"{args.candidates} articles",
                file=sys.stderr,
            )
            ids = recent_ids(session, since=args.since, limit=args.candidates)
        found = [
            (m, article_id)
            for article_id, title, body in load_texts(session, ids)
            if (m := query.match(title, body)) is not None
        ]
        found.sort(key=lambda r: (-r[0].score, -r[1]))
        top = found[: args.limit]
        rows = {a.id: a for a in load_articles(session, [i for _, i in top])}
        shown: list[tuple[TopicMatch, Any]] = [(m, rows[i]) for m, i in top if i in rows]
        if args.json:
            out = [
                {
                    **article_to_json(a),
                    "score": m.score,
                    "snippet": m.snippet,
                    "highlights": [list(h) for h in m.highlights],
                }
                for m, a in shown
            ]
            json.dump(out, ctx.stdout, indent=2, ensure_ascii=False)
            ctx.stdout.write("\n")
            return 0
        for m, a in shown:
            day = (a.published or a.first_seen).date().isoformat()
            print(f"{m.score:6.2f}  {day}  {a.source}  {a.title[:90]}", file=ctx.stdout)
            print(f"        {a.url}", file=ctx.stdout)
            if m.snippet:
                print(f"        {_highlight(m.snippet, m.highlights)}", file=ctx.stdout)
        print(f"{len(found)} match(es), {len(shown)} shown", file=ctx.stdout)
    return 0


def _highlight(snippet: str, spans: tuple[tuple[int, int], ...]) -> str:
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(snippet[pos:start] + "[" + snippet[start:end] + "]")
        pos = end
    return "".join(out) + snippet[pos:]


def run_rematch(args: argparse.Namespace, ctx: CommandContext) -> int:
    topics = ctx.config.topics
    if args.topic:
        known = {t.name for t in topics}
        unknown = [t for t in args.topic if t not in known]
        if unknown:
            print(
                f"newsmon: no topic named {', '.join(map(repr, unknown))} in topics.toml",
                file=sys.stderr,
            )
            return 2
        topics = [t for t in topics if t.name in args.topic]
    matcher = Matcher.compile(topics)
    scope = [t.name for t in topics] if args.topic else None
    with ctx.session() as session:
        ids = iter_article_ids(session, since=args.since)
    changed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        with ctx.session() as session, session.begin():
            for article in load_articles(session, chunk):
                before = {
                    (m.topic, m.matched)
                    for m in article.matches
                    if scope is None or m.topic in scope
                }
                matches = matcher.match(article.title, article.text)
                replace_matches(session, article.id, scope, match_records(matches))
                after = {(m.topic, m.matched) for m in matches}
                changed += int(before != after)
        done = min(start + 500, len(ids))
        print(
            f"\rrematch: {done}/{len(ids)} articles ({done * 100 // max(len(ids), 1)}%)",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    print(f"rematched {len(ids)} article(s); {changed} changed verdicts", file=ctx.stdout)
    return 0
