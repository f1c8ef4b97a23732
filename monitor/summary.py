"""Render a run record (from the database) as a table for people or JSON for machines."""

from __future__ import annotations

from typing import Any

from storage.models import CrawlRun, RunError

COLUMNS = ("source", "links", "fetched", "new", "dupes", "matched", "errors")


def run_to_json(run: CrawlRun, errors: list[RunError]) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "kind": run.kind,
        "status": run.status,
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat() if run.finished else None,
        "stats": run.stats,
        "sources": [
            {
                "source": s.source,
                "links_seen": s.links_seen,
                "fetched": s.fetched,
                "new": s.new,
                "duplicates": s.duplicates,
                "matched": s.matched,
                "errors": s.errors,
                "errors_by_reason": s.errors_by_reason,
            }
            for s in sorted(run.sources, key=lambda s: s.source)
        ],
        "errors": [
            {"source": e.source, "url": e.url, "reason": e.reason, "detail": e.detail}
            for e in errors
        ],
    }


def format_run_table(run: CrawlRun, errors: list[RunError], max_errors: int = 20) -> str:
    rows = [COLUMNS]
    for s in sorted(run.sources, key=lambda s: s.source):
        err = str(s.errors)
        if s.errors_by_reason:
            err += " (" + ", ".join(f"{k} {v}" for k, v in sorted(s.errors_by_reason.items())) + ")"
        rows.append(
            (
                s.source,
                str(s.links_seen),
                str(s.fetched),
                str(s.new),
                str(s.duplicates),
                str(s.matched),
                err,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [f"{run.kind} run {run.id}: {run.status}"]
    for i, r in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if j in (0, 6) else c.rjust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if errors:
        lines.append("")
        lines.append("errors:")
        for e in errors[:max_errors]:
            lines.append(f"  {e.source}: {e.reason}: {e.detail} <{e.url}>")
        if len(errors) > max_errors:
            lines.append(
                f"  ... and {len(errors) - max_errors} more (newsmon status, or --json for all)"
            )
    return "\n".join(lines)
