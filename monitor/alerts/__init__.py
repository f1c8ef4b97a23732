"""Alerts: watchers (watchers.toml), the outbox, delivery through channels, source health.

Kept import-light: monitor.config imports monitor.alerts.watchers while loading, so the
heavy parts (Apprise, Jinja2, storage) are imported by their own modules only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.alerts.deliver import DeliveryReport
    from monitor.alerts.watchers import AlertsConfig


def alerts_of(config: Any) -> AlertsConfig:
    """The AlertsConfig of a loaded AppConfig (``config.alerts``), else watchers.toml read now."""
    from monitor.alerts.watchers import AlertsConfig, load_alerts

    found = getattr(config, "alerts", None)
    if isinstance(found, AlertsConfig):
        return found
    topics = [t.name for t in getattr(config, "topics", [])]
    return load_alerts(config.directory, topics)


def deliver_pending(
    *, sessions: Callable[[], Session], config: Any, now: datetime | None = None
) -> DeliveryReport:
    """The scheduler's alert job (monitor.scheduler's ALERTS_HOOK): source health, then one
    delivery pass (monitor.alerts.deliver.run_alerts)."""
    from monitor.alerts.deliver import run_alerts, utcnow

    sources = [s.name for s in getattr(config, "sources", [])] or None
    clock = utcnow if now is None else (lambda: now)
    return run_alerts(
        sessions,
        alerts_of(config),
        clock,
        sources=sources,
        templates_dir=config.directory / "templates",
    )
