"""Source health from the run records: failing, silent, volume drop; events on change.

A source is judged on its own last runs (storage.runs' per-source counters), newest
first, in this order of precedence:

- ``failing``: its last ``failing_runs`` runs all failed. A run failed for a source
  when it had errors and nothing new, and either the feed itself could not be read
  (no links seen) or every fetched page failed (errors >= fetched).
- ``silent``: its last ``silent_runs`` runs yielded no new item (feed read fine).
- ``volume-drop``: the mean of new items over the last ``volume_recent_runs`` runs is
  below ``volume_drop_ratio`` times the median of the ``volume_history_runs`` runs
  before them (needs ``volume_min_history`` of them and a median of at least
  ``volume_min_median``, so that quiet outlets are not flagged for noise).
- ``ok`` otherwise; ``unknown`` before its first finished run.

The state is stored per source (source_health); a change raises a HealthEvent (back to
ok from a problem: ``recovered``), which watchers subscribe to in watchers.toml.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.alerts.watchers import HealthSettings
from storage.alerts import RunPoint, health_states, save_health, source_runs

PROBLEMS = ("failing", "silent", "volume-drop")


@dataclass(frozen=True)
class SourceState:
    source: str
    state: str
    detail: str
    last_success: datetime | None
    last_new: datetime | None
    runs: int
    since: datetime | None = None


@dataclass(frozen=True)
class HealthEvent:
    """A source changed state; ``state`` is a problem or ``recovered``."""

    source: str
    state: str
    previous: str
    detail: str
    since: datetime
    last_success: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "state": self.state,
            "previous": self.previous,
            "detail": self.detail,
            "since": self.since.isoformat(),
            "last_success": self.last_success.isoformat() if self.last_success else None,
        }


def run_failed(p: RunPoint) -> bool:
    if p.errors == 0 or p.new > 0:
        return False
    return p.links_seen == 0 or p.errors >= p.fetched


def _reasons(points: Sequence[RunPoint]) -> str:
    counts: dict[str, int] = {}
    for p in points:
        for reason, n in p.errors_by_reason.items():
            counts[reason] = counts.get(reason, 0) + n
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return ", ".join(f"{r} x{n}" for r, n in top) or "errors"


def assess(source: str, points: Sequence[RunPoint], settings: HealthSettings) -> SourceState:
    """The health of one source from its runs, newest first (pure)."""
    last_success = next((p.started for p in points if not run_failed(p)), None)
    last_new = next((p.started for p in points if p.new > 0), None)

    def state(name: str, detail: str) -> SourceState:
        return SourceState(source, name, detail, last_success, last_new, len(points))

    if not points:
        return state("unknown", "no finished run yet")
    recent = points[: settings.failing_runs]
    if len(recent) == settings.failing_runs and all(run_failed(p) for p in recent):
        return state("failing", f"last {len(recent)} runs failed ({_reasons(recent)})")
    quiet = points[: settings.silent_runs]
    if len(quiet) == settings.silent_runs and all(p.new == 0 for p in quiet):
        return state("silent", f"no new items in the last {len(quiet)} runs")
    recent = points[: settings.volume_recent_runs]
    history = points[
        settings.volume_recent_runs : settings.volume_recent_runs + settings.volume_history_runs
    ]
    if len(recent) == settings.volume_recent_runs and len(history) >= settings.volume_min_history:
        median = statistics.median(p.new for p in history)
        mean = statistics.fmean(p.new for p in recent)
        if median >= settings.volume_min_median and mean < settings.volume_drop_ratio * median:
            return state(
                "volume-drop",
                f"{mean:.1f} new items per run lately against a usual {median:g}",
            )
    return state("ok", "")


def check_health(
    session: Session,
    settings: HealthSettings,
    now: datetime,
    sources: Collection[str] | None = None,
) -> tuple[list[SourceState], list[HealthEvent]]:
    """Assess every source (those configured, plus any with runs), store states, return changes.

    The caller commits (together with the events it enqueues from the changes).
    """
    depth = max(
        settings.failing_runs,
        settings.silent_runs,
        settings.volume_recent_runs + settings.volume_history_runs,
    )
    runs = source_runs(session, per_source=depth)
    stored = health_states(session)
    names = sorted(set(sources) if sources is not None else set(runs) | set(stored))
    states: list[SourceState] = []
    events: list[HealthEvent] = []
    for name in names:
        current = assess(name, runs.get(name, []), settings)
        before = stored.get(name)
        previous = before.state if before is not None else "unknown"
        since = before.since if before is not None and previous == current.state else now
        if previous != current.state:
            event_state = current.state
            if current.state == "ok" and previous in PROBLEMS:
                event_state = "recovered"
            if event_state in (*PROBLEMS, "recovered"):
                events.append(
                    HealthEvent(
                        source=name,
                        state=event_state,
                        previous=previous,
                        detail=current.detail or "back to normal",
                        since=since,
                        last_success=current.last_success,
                    )
                )
        save_health(
            session,
            source=name,
            state=current.state,
            since=since,
            last_success=current.last_success,
            last_new=current.last_new,
            detail=current.detail,
            checked=now,
        )
        states.append(
            SourceState(
                source=current.source,
                state=current.state,
                detail=current.detail,
                last_success=current.last_success,
                last_new=current.last_new,
                runs=current.runs,
                since=since,
            )
        )
    return states, events
