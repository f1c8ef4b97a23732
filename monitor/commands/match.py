"""`newsmon match`: what one document matches, and why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor.commands.base import CommandContext
from monitor.extract import extract_article
from monitor.matching import Matcher


def register(sub: Any) -> None:
    p = sub.add_parser("match", help="show what one document matches and why")
    p.add_argument("file", metavar="FILE", help="an HTML page (or text with --text); - for stdin")
    p.add_argument("--topic", metavar="T", help="only this topic")
    p.add_argument(
        "--text", action="store_true", help="the input is plain text (first line is the title)"
    )
    p.add_argument("--explain", action="store_true", help="show which clauses fired and where")
    p.add_argument("--json", action="store_true", help="JSON on stdout")
    p.set_defaults(handler=run_match)


def run_match(args: argparse.Namespace, ctx: CommandContext) -> int:
    raw = (
        sys.stdin.read()
        if args.file == "-"
        else Path(args.file).read_text(encoding="utf-8", errors="replace")
    )
    topics = ctx.config.topics
    if args.topic:
        topics = [t for t in topics if t.name == args.topic]
        if not topics:
            print(f"newsmon: no topic named {args.topic!r} in topics.toml", file=sys.stderr)
            return 2
    if args.text:
        title, _, text = raw.partition("\n")
    else:
        article = extract_article(raw)
        if article is None:
            print(
                f"newsmon: {args.file}: no article text could be extracted "
                "(use --text for plain text)",
                file=sys.stderr,
            )
            return 1
        title, text = article.title, article.text
    matcher = Matcher.compile(topics)
    matches = matcher.match(title, text)
    if args.json:
        out: dict[str, Any] = {"title": title, "matches": [m.to_json() for m in matches]}
        if args.explain:
            out["explanation"] = matcher.explain(title, text, args.topic)
        json.dump(out, ctx.stdout, indent=2, ensure_ascii=False)
        ctx.stdout.write("\n")
        return 0
    if not matches:
        print("no topic matched and no keyword hit", file=ctx.stdout)
    for m in matches:
        verdict = "MATCH" if m.matched else "no match (keywords only)"
        tags = ", ".join(f"{k.tag} x{k.count}" for k in m.keywords) or "-"
        print(f"{m.topic}: {verdict}, score {m.score:.2f}; keywords: {tags}", file=ctx.stdout)
        if m.snippet:
            print(f"  {m.snippet}", file=ctx.stdout)
    if args.explain:
        print(matcher.explain(title, text, args.topic), file=ctx.stdout)
    return 0
