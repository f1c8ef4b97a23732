"""`newsmon status`: what the scheduler does and did, read from the database.

Works whether or not `newsmon run` is running: the jobs and next run times come from the
running scheduler's heartbeat when it holds the lock, else from the plan a scheduler
started now would follow (monitor.schedule_plan.preview).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from monitor.jsonable import jsonable
from monitor.schedule_plan import JobPreview, Plan, preview
from monitor.story_features import SIGNATURE_VERSION
from storage import scheduler_state as state
from storage.alerts import delivery_counts
from storage.stories import signature_versions


@dataclass(frozen=True)
class Failure:
    at: datetime | None
    what: str
    reason: str
    detail: str


@dataclass
class StatusReport:
    now: datetime
    scheduler: str
    running: bool
    jobs_from: str  # "scheduler" (live) or "plan" (if started now)
    jobs: list[JobPreview]
    sources: list[state.SourceLastRun]
    never_run: list[str]
    failures: list[Failure]
    digests: list[dict[str, Any]] = field(default_factory=list)
    unfinished_runs: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, int] = field(default_factory=dict)
    outdated_signatures: int = 0
    """Signatures in the story window computed by an older newsmon (restory updates them)."""
    stories_since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = jsonable(asdict(self))
        return out


def _ago(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][-300:] if lines else ""


def gather(
    session: Session,
    plan: Plan,
    source_names: list[str],
    now: datetime,
    *,
    stories_window: timedelta,
    failures: int = 15,
) -> StatusReport:
    lock = state.read_lock(session)
    running = lock is not None and lock.is_held(now)
    if lock is None or lock.holder is None:
        line = "not running"
    elif running:
        line = f"running: {lock.holder}, since {lock.acquired:%Y-%m-%d %H:%M} UTC, " + (
            f"heartbeat {_ago(now, lock.heartbeat)}"
        )
    else:
        line = (
            f"not running: {lock.holder} stopped answering (heartbeat "
            f"{_ago(now, lock.heartbeat)}); its lock is stale and will be taken over"
        )
    if running and lock is not None and lock.jobs:
        jobs = [
            JobPreview(
                str(j.get("id")),
                str(j.get("rule", "")),
                datetime.fromisoformat(j["next_run"]) if j.get("next_run") else None,
                str(j.get("detail", "")),
            )
            for j in lock.jobs
        ]
        jobs_from = "scheduler"
    else:
        jobs = preview(plan, now, lambda job: state.last_scheduled_start(session, job.id))
        jobs_from = "plan"
    sources = state.last_run_per_source(session)
    seen = {s.source for s in sources}
    found: list[Failure] = []
    for crawl in state.failed_scheduled_crawls(session, failures):
        code = f", exit code {crawl.exit_code}" if crawl.exit_code is not None else ""
        found.append(
            Failure(
                crawl.finished or crawl.started,
                crawl.job,
                f"{crawl.outcome}{code}",
                _last_line(crawl.detail),
            )
        )
    for err in state.recent_errors(session, failures):
        found.append(
            Failure(
                err.at,
                err.source,
                err.reason,
                f"{err.detail} ({err.url})" if err.url else err.detail,
            )
        )
    digests = []
    for d in state.recent_digests(session, 10):
        digests.append(
            {
                "day": d.day,
                "topic": d.topic,
                "status": d.status,
                "finished": d.finished,
                "files": list(d.files),
                "emailed": d.emailed,
                "detail": d.detail,
            }
        )
        if d.status == "failed":
            found.append(Failure(d.finished, f"digest {d.day}", "failed", d.detail))
    found.sort(key=lambda f: f.at or now, reverse=True)
    unfinished = [{"run_id": r.id, "started": r.started} for r in state.unfinished_runs(session)]
    stories_since = now - stories_window
    versions = signature_versions(session, stories_since)
    return StatusReport(
        now=now,
        scheduler=line,
        running=running,
        jobs_from=jobs_from,
        jobs=jobs,
        sources=sources,
        never_run=sorted(set(source_names) - seen),
        failures=found[:failures],
        digests=digests,
        unfinished_runs=unfinished,
        alerts=delivery_counts(session),
        outdated_signatures=sum(n for v, n in versions.items() if v < SIGNATURE_VERSION),
        stories_since=stories_since,
    )


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return out


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "-"


def format_report(report: StatusReport) -> str:
    lines = [f"scheduler: {report.scheduler}", ""]
    title = "jobs" if report.jobs_from == "scheduler" else "jobs (as a scheduler started now)"
    lines.append(f"{title}:")
    lines += [
        "  " + ln
        for ln in _table(
            ["job", "rule", "next run", "sources"],
            [[j.id, j.rule, _when(j.next_run), j.detail] for j in report.jobs],
        )
    ]
    lines += ["", "last run per source:"]
    rows = [
        [
            s.source,
            _when(s.started),
            s.status,
            str(s.links_seen),
            str(s.fetched),
            str(s.new),
            str(s.duplicates),
            str(s.matched),
            str(s.errors),
            ", ".join(f"{k} {v}" for k, v in sorted(s.errors_by_reason.items())),
        ]
        for s in report.sources
    ]
    rows += [[name, "never", "-", "", "", "", "", "", "", ""] for name in report.never_run]
    lines += [
        "  " + ln
        for ln in _table(
            [
                "source",
                "last run",
                "status",
                "links",
                "fetched",
                "new",
                "dup",
                "matched",
                "errors",
                "reasons",
            ],
            rows,
        )
    ]
    if report.unfinished_runs:
        runs = ", ".join(
            f"{r['run_id']} (since {_when(r['started'])})" for r in report.unfinished_runs
        )
        lines += ["", f"crawl runs still open: {runs}"]
    lines += ["", "recent failures:" if report.failures else "recent failures: none"]
    for f in report.failures:
        lines.append(
            f"  {_when(f.at)}  {f.what}: {f.reason}" + (f": {f.detail}" if f.detail else "")
        )
    if report.alerts:
        a = report.alerts
        lines += [
            "",
            f"alerts: {a.get('pending', 0)} pending, {a.get('waiting', 0)} waiting for a batch, "
            f"{a.get('sent', 0)} sent, {a.get('failed', 0)} failed"
            + (" (newsmon alerts list --failed)" if a.get("failed") else ""),
        ]
    if report.outdated_signatures and report.stories_since is not None:
        lines += [
            "",
            f"stories: {report.outdated_signatures} article signatures in the window were "
            f"computed by an older newsmon (version < {SIGNATURE_VERSION}) and miss what it "
            "now compares; `newsmon restory --since "
            f"{report.stories_since:%Y-%m-%d}` recomputes them",
        ]
    if report.digests:
        lines += ["", "recent digests:"]
        for d in report.digests:
            extra = ", e-mailed" if d["emailed"] else ""
            lines.append(
                f"  {d['day']} {d['topic']}: {d['status']}, {len(d['files'])} file(s){extra}"
            )
    return "\n".join(lines) + "\n"
