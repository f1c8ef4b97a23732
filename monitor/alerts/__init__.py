"""Alerts: watchers (watchers.toml), the outbox, delivery through channels, source health.

Kept import-light: monitor.config imports monitor.alerts.watchers while loading, so the
heavy parts (Apprise, Jinja2, storage) are imported by their own modules only.
"""
