"""`newsmon digest`: the articles first seen in a window, by topic and story, in any format.

Window: ``--date D`` is the calendar day D in the digest time zone; ``--since T [--until
T]`` is any window (``--until`` defaults to now). Without either, today so far (the
local day). The time zone is ``--timezone`` or else the machine's local zone. Templates
in ``<config dir>/templates/`` override the built-in ones (digest.html.j2, ...).
``--email`` sends the HTML digest with a text alternative using [smtp] of newsmon.toml;
it prints the digest too only when ``--format`` or ``-o`` is given.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.commands.base import CommandContext
from monitor.digest import build_digest, day_window, local_zone, write_output
from monitor.digest_render import FORMATS, render_digest
from monitor.mailer import MailError, SmtpSettings, send_digest


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _moment(value: str) -> datetime:
    """An ISO date or datetime; naive values are read in the digest time zone later."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.combine(date.fromisoformat(value), time())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or datetime: {value!r} (e.g. 2026-11-25 or 2026-11-25T06:00)"
        ) from None


def _zone(value: str) -> tzinfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone: {value!r} (an IANA name such as Europe/Berlin or UTC)"
        ) from None


def register(sub: Any) -> None:
    p = sub.add_parser(
        "digest",
        help="the articles first seen in a day or window, by topic and story",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--date", type=_date, metavar="D", help="calendar day D (default: today)")
    when.add_argument("--since", type=_moment, metavar="T", help="window start (date/datetime)")
    p.add_argument("--until", type=_moment, metavar="T", help="window end (default: now)")
    p.add_argument("--topic", metavar="T", help="only topic T")
    p.add_argument("--format", choices=FORMATS, help="output format (default: md)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE")
    p.add_argument("--email", action="store_true", help="e-mail it using [smtp] settings")
    p.add_argument("--timezone", type=_zone, metavar="ZONE", help="default: local time zone")
    p.set_defaults(handler=run_digest)


def _window(args: argparse.Namespace, tz: tzinfo, now: datetime) -> tuple[datetime, datetime]:
    if args.since is None:
        day = args.date or now.astimezone(tz).date()
        return day_window(day, tz)

    def aware(moment: datetime) -> datetime:
        return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(UTC)

    return aware(args.since), aware(args.until) if args.until else now


def smtp_settings(ctx: CommandContext) -> SmtpSettings | None:
    """[smtp] of newsmon.toml, when the config has it."""
    found = getattr(getattr(ctx.config, "settings", None), "smtp", None)
    if found is None or isinstance(found, SmtpSettings):
        return found
    return SmtpSettings.model_validate(
        found.model_dump() if hasattr(found, "model_dump") else found
    )


def template_dir(ctx: CommandContext) -> Path | None:
    directory = getattr(ctx.config, "directory", None)
    return Path(directory) / "templates" if directory is not None else None


def run_digest(args: argparse.Namespace, ctx: CommandContext, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    if args.until is not None and args.since is None:
        print("newsmon digest: --until needs --since", file=ctx.stderr)
        return 2
    tz = args.timezone or local_zone()
    start, end = _window(args, tz, now)
    if end <= start:
        print(
            f"newsmon digest: empty window: {start:%Y-%m-%d %H:%M} is not before "
            f"{end:%Y-%m-%d %H:%M} (UTC)",
            file=ctx.stderr,
        )
        return 2
    topics = [t.name for t in getattr(ctx.config, "topics", [])]
    if args.topic is not None and topics and args.topic not in topics:
        print(
            f"newsmon digest: unknown topic {args.topic!r}; configured: {', '.join(topics)}",
            file=ctx.stderr,
        )
        return 2
    smtp = smtp_settings(ctx) if args.email else None
    if args.email and smtp is None:
        print("newsmon digest: --email needs an [smtp] table in newsmon.toml", file=ctx.stderr)
        return 2
    with ctx.session() as session:
        digest = build_digest(session, start, end, topic=args.topic, topics=topics, tz=tz, now=now)
    templates = template_dir(ctx)
    if not args.email or args.format or args.output:
        text = render_digest(digest, args.format or "md", templates)
        if args.output:
            write_output(args.output, text)
            print(f"digest: wrote {args.output} ({digest.story_count} stories)", file=ctx.stderr)
        else:
            ctx.stdout.write(text)
    if smtp is not None:
        try:
            refused = send_digest(smtp, digest, templates)
        except MailError as exc:
            print(f"newsmon digest: e-mail not sent: {exc}", file=ctx.stderr)
            return 1
        sent = len(smtp.to_addrs) - len(refused)
        print(
            f"digest: e-mailed to {sent} recipient(s)"
            + (f"; refused: {', '.join(refused)}" if refused else ""),
            file=ctx.stderr,
        )
    return 0
