"""`newsmon alerts test|list|retry|deliver` and `newsmon sources health`.

Channel URLs are only ever shown masked (``${VAR}`` placeholders, starred passwords).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.commands.base import CommandContext


def register(sub: Any) -> None:
    a = sub.add_parser("alerts", help="alert watchers: test channels, list, retry, deliver")
    a_sub = a.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    t = a_sub.add_parser("test", help="send a test message through every channel of WATCHER")
    t.add_argument("watcher", metavar="WATCHER")
    t.set_defaults(handler=run_test)
    ls = a_sub.add_parser("list", help="alert deliveries, newest first")
    which = ls.add_mutually_exclusive_group()
    which.add_argument("--pending", action="store_true", help="not yet delivered")
    which.add_argument("--failed", action="store_true", help="given up after all attempts")
    ls.add_argument("--limit", type=int, default=50, help="at most N rows (default 50)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=run_list)
    r = a_sub.add_parser("retry", help="queue failed deliveries again")
    r.add_argument("ids", nargs="*", type=int, metavar="ID", help="only these deliveries")
    r.set_defaults(handler=run_retry)
    d = a_sub.add_parser("deliver", help="check source health, then one delivery pass")
    d.set_defaults(handler=run_deliver)
    # `newsmon sources health` (run_health below) is registered by monitor.commands.sources


def alerts_config(ctx: CommandContext) -> Any:
    from monitor.alerts import alerts_of

    return alerts_of(ctx.config)


def _templates(ctx: CommandContext) -> Any:
    return ctx.config.directory / "templates"


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def run_test(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.alerts.channels import SendError, send
    from monitor.alerts.render import MessageView, render

    config = alerts_config(ctx)
    try:
        watcher = config.get(args.watcher)
    except KeyError:
        names = ", ".join(w.name for w in config.watchers) or "none configured"
        print(f"newsmon alerts test: no watcher {args.watcher!r} ({names})", file=ctx.stderr)
        return 2
    message = render(
        MessageView(watcher=watcher.name, generated=datetime.now(UTC), test=True), _templates(ctx)
    )
    failed = 0
    for channel in watcher.channels:
        try:
            send(channel, message, watcher.retry.timeout_seconds)
        except SendError as exc:
            failed += 1
            print(f"FAILED {channel.label}: {channel.masker(str(exc))}", file=ctx.stdout)
        else:
            print(f"ok     {channel.label}", file=ctx.stdout)
    if not watcher.enabled:
        print(f"note: watcher {watcher.name} is disabled (enabled = false)", file=ctx.stdout)
    return 1 if failed else 0


def run_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.alerts import delivery_counts, list_deliveries, waiting_events

    status = "pending" if args.pending else "failed" if args.failed else None
    with ctx.session() as session:
        rows = list_deliveries(session, status, limit=max(args.limit, 1))
        waiting = waiting_events(session) if status in (None, "pending") else []
        counts = delivery_counts(session)
    if args.json:
        out = {
            "counts": counts,
            "deliveries": [
                {
                    "id": d.id,
                    "message": d.message_id,
                    "watcher": d.watcher,
                    "channel": d.label,
                    "status": d.status,
                    "attempts": d.attempts,
                    "next_attempt": d.next_attempt.isoformat() if d.status == "pending" else None,
                    "sent": d.sent.isoformat() if d.sent else None,
                    "last_error": d.last_error or None,
                }
                for d in rows
            ],
            "waiting": [
                {"watcher": e.watcher, "key": e.key, "due": e.due.isoformat()} for e in waiting
            ],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    print(
        f"deliveries: {counts['pending']} pending, {counts['failed']} failed, "
        f"{counts['sent']} sent; {counts['waiting']} events waiting for their batch/quiet hours",
        file=ctx.stdout,
    )
    for d in rows:
        when = (
            f"next {_iso(d.next_attempt)}"
            if d.status == "pending"
            else f"sent {_iso(d.sent)}"
            if d.status == "sent"
            else f"last try {_iso(d.last_attempt)}"
        )
        line = f"#{d.id} {d.status:<7} {d.watcher} -> {d.label}  attempts {d.attempts}, {when}"
        print(line, file=ctx.stdout)
        if d.last_error:
            print(f"    {d.last_error}", file=ctx.stdout)
    for e in waiting:
        print(f"waiting {e.watcher} {e.key} due {_iso(e.due)}", file=ctx.stdout)
    return 0


def run_retry(args: argparse.Namespace, ctx: CommandContext) -> int:
    from storage.alerts import retry_failed

    with ctx.session() as session:
        n = retry_failed(session, datetime.now(UTC), args.ids)
        session.commit()
    print(
        f"{n} failed deliveries queued again; `newsmon alerts deliver` sends them", file=ctx.stdout
    )
    return 0


def _source_names(ctx: CommandContext) -> Sequence[str] | None:
    sources = getattr(ctx.config, "sources", None)
    return [s.name for s in sources] if sources else None


def run_deliver(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.alerts.deliver import run_alerts

    config = alerts_config(ctx)
    report = run_alerts(
        ctx.session, config, sources=_source_names(ctx), templates_dir=_templates(ctx)
    )
    print(f"{report.health_events} source health changes; {report.summary()}", file=ctx.stdout)
    for error in report.errors:
        print(f"  {error}", file=ctx.stderr)
    return 0


def run_health(args: argparse.Namespace, ctx: CommandContext) -> int:
    from monitor.alerts.health import check_health

    config = alerts_config(ctx)
    with ctx.session() as session:
        states, _ = check_health(session, config.health, datetime.now(UTC), _source_names(ctx))
        session.rollback()  # a listing only: changes are recorded by `alerts deliver`
    if args.json:
        rows = [
            {
                "source": s.source,
                "state": s.state,
                "detail": s.detail,
                "last_success": s.last_success.isoformat() if s.last_success else None,
                "last_new": s.last_new.isoformat() if s.last_new else None,
                "runs": s.runs,
            }
            for s in states
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    width = max([len(s.source) for s in states] + [6])
    print(f"{'source':<{width}}  {'state':<11}  {'last success':<16}  detail", file=ctx.stdout)
    for s in states:
        print(
            f"{s.source:<{width}}  {s.state:<11}  {_iso(s.last_success):<16}  {s.detail}",
            file=ctx.stdout,
        )
    return 0
