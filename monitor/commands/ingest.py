"""`newsmon ingest FILE.jsonl`: articles from exports and archives, through the same steps."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError

from monitor.commands.base import CommandContext
from monitor.extract import ExtractedArticle, detect_language, extract_article
from monitor.matching import Matcher
from monitor.store import store_article
from monitor.story_features import signature
from monitor.story_lock import LockedStoryAssigner, serialise_transactions
from monitor.summary import format_run_table, run_to_json
from storage.models import CrawlRun
from storage.runs import ErrorRecord, SourceCounts, finish_run, run_errors, start_run


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ingest",
        help="store articles given as JSON lines (url, title, text or html, published, source)",
    )
    p.add_argument("file", metavar="FILE.jsonl", help="JSON lines file, or - for stdin")
    p.add_argument("--source", default="ingest", help="source name when a line has none")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run_ingest)


@dataclass(frozen=True)
class IngestLine:
    url: str
    source: str
    article: ExtractedArticle


class LineError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _parse_published(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise LineError("bad-field", f"published must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LineError("bad-field", f"published is not an ISO 8601 date: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_line(raw: str, default_source: str) -> IngestLine:
    """Validate one JSON line and turn it into an extracted article."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineError("bad-json", f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise LineError("bad-json", "each line must be a JSON object")
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise LineError("bad-field", "url is missing or not an http(s) URL")
    source = data.get("source") or default_source
    published = _parse_published(data.get("published"))
    title = str(data.get("title") or "")
    if isinstance(data.get("html"), str) and data["html"].strip():
        article = extract_article(data["html"], url)
        if article is None:
            raise LineError("empty-extraction", "the html has no extractable article text")
        article = ExtractedArticle(
            **{
                **article.__dict__,
                "title": article.title or title,
                "published": article.published or published,
            }
        )
    elif isinstance(data.get("text"), str) and data["text"].strip():
        text = data["text"].strip()
        article = ExtractedArticle(
            text=text,
            title=title,
            published=published,
            language=data.get("language") or detect_language(title + "\n" + text),
        )
    else:
        raise LineError("empty-extraction", "the line has neither text nor html")
    return IngestLine(url=url, source=str(source), article=article)


def _lines(path: str) -> Iterator[tuple[int, str]]:
    if path == "-":
        yield from _numbered(sys.stdin)
        return
    with Path(path).open(encoding="utf-8", errors="replace") as stream:
        yield from _numbered(stream)


def _numbered(stream: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def run_ingest(args: argparse.Namespace, ctx: CommandContext) -> int:
    if args.file != "-" and not Path(args.file).is_file():
        print(f"newsmon: {args.file}: no such file", file=sys.stderr)
        return 2
    matcher = Matcher.compile(ctx.config.topics)
    counts: dict[str, SourceCounts] = {}
    errors: list[ErrorRecord] = []
    # Workers may be storing into the same database: take their store lock and catch up
    # with what they committed, as they do (monitor.story_lock).
    serialise_transactions(ctx.engine)
    with ctx.session() as session, session.begin():
        run_id = start_run(session, "ingest").id
    with ctx.session() as session:
        stories = LockedStoryAssigner(session, ctx.config.settings.stories)
    for number, raw in _lines(args.file):
        where = f"{args.file}:{number}"
        try:
            line = parse_line(raw, args.source)
        except LineError as exc:
            c = counts.setdefault(args.source, SourceCounts(args.source))
            c.errors += 1
            c.errors_by_reason[exc.reason] = c.errors_by_reason.get(exc.reason, 0) + 1
            errors.append(ErrorRecord(args.source, where, exc.reason, f"line {number}: {exc}"))
            continue
        c = counts.setdefault(line.source, SourceCounts(line.source))
        c.links_seen += 1
        c.fetched += 1
        matches = matcher.match(line.article.title, line.article.text)
        # Computed before the store lock is taken, as the workers do, to hold it briefly.
        sig = signature(line.article.title, line.article.text, line.article.published)
        for attempt in (1, 2):
            try:
                with stories.tentative(), ctx.session() as session, session.begin():
                    result = store_article(
                        session,
                        source=line.source,
                        url=line.url,
                        final_url=line.url,
                        article=line.article,
                        matches=matches,
                        stories=stories,
                        alerts=ctx.config.alerts.enabled,
                        signature=sig,
                    )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        if result.outcome == "new":
            c.new += 1
            c.matched += int(result.matched)
        else:
            c.duplicates += 1
    status = "ok" if not counts or any(c.fetched for c in counts.values()) else "failed"
    with ctx.session() as session, session.begin():
        finish_run(
            session,
            run_id,
            status=status,
            finish_reason="finished",
            counts=list(counts.values()),
            errors=errors,
        )
    with ctx.session() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        errs = run_errors(session, run_id)
        if args.json:
            json.dump(run_to_json(run, errs), ctx.stdout, indent=2, ensure_ascii=False)
            ctx.stdout.write("\n")
        else:
            print(format_run_table(run, errs), file=ctx.stdout)
    return 0 if status == "ok" else 1
