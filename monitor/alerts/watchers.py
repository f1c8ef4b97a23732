"""watchers.toml: who is told about what, through which channels, and when.

Channel URLs are Apprise URLs (plus newsmon's own ``webhook+http(s)://`` and
``slackhook+http(s)://``, see monitor.alerts.channels). ``${NAME}`` is replaced by the
environment variable NAME when the file is loaded; the expanded URL is kept as a
SecretStr and only the masked ``label`` (placeholders back in, passwords starred) is
ever printed, logged or stored.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Collection, Mapping
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.validation import check_unique_names

WATCHERS_FILE = "watchers.toml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
HealthState = Literal["failing", "silent", "volume-drop", "recovered"]
HEALTH_STATES: tuple[HealthState, ...] = ("failing", "silent", "volume-drop", "recovered")
Format = Literal["text", "markdown", "html"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Masker:
    """Replaces every secret value (expanded ``${VAR}``, URL passwords) by a placeholder."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        # Longest first, so that a secret containing another is replaced whole.
        items = sorted((secrets or {}).items(), key=lambda kv: -len(kv[1]))
        self._secrets = [(value, name) for name, value in items if len(value) >= 3]

    def __call__(self, text: str) -> str:
        for value, name in self._secrets:
            text = text.replace(value, name)
        return text

    def merged(self, other: Masker) -> Masker:
        out = Masker()
        out._secrets = sorted({*self._secrets, *other._secrets}, key=lambda vn: -len(vn[0]))
        return out


def _mask_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.rsplit("@", 1)
        user = (parts.username or "") + ":****"
        return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))
    return url


class Channel(_Strict):
    """One destination: an Apprise URL (or webhook+/slackhook+), with its format."""

    url: SecretStr = Field(description="Expanded URL; never printed.")
    template: str = Field(description="The URL as written, ${VAR} unexpanded.")
    format: Format | None = Field(
        None, description="Body format; default html for e-mail, text for json://, else markdown."
    )
    unresolved: list[str] = Field(
        [], description="Unset environment variables (allowed in disabled watchers only)."
    )
    _masker: Masker = PrivateAttr(default_factory=Masker)

    @property
    def label(self) -> str:
        """The URL with secrets replaced: safe for logs, status output and the database."""
        masked = self._masker(self.url.get_secret_value())
        return _mask_userinfo(masked)

    @property
    def key(self) -> str:
        """Stable identity of the channel, stored with deliveries (a hash: no secret)."""
        return hashlib.sha256(self.url.get_secret_value().encode()).hexdigest()[:32]

    @property
    def masker(self) -> Masker:
        return self._masker

    @property
    def scheme(self) -> str:
        return self.url.get_secret_value().split("://", 1)[0].lower()

    @property
    def body_format(self) -> Format:
        if self.format is not None:
            return self.format
        if self.scheme in ("mailto", "mailtos", "email"):
            return "html"
        if self.scheme in ("json", "jsons", "webhook+http", "webhook+https"):
            return "text"
        return "markdown"


class RetryPolicy(_Strict):
    max_attempts: int = Field(6, ge=1, le=100, description="Attempts before giving up.")
    backoff_seconds: float = Field(60.0, gt=0, description="Wait after the first failure.")
    backoff_max_seconds: float = Field(3600.0, gt=0, description="Longest wait between tries.")
    timeout_seconds: float = Field(20.0, gt=0, description="Seconds before a send fails.")

    def delay(self, attempt: int) -> timedelta:
        """Wait after failed attempt number ``attempt`` (1-based): doubles each time."""
        seconds = self.backoff_seconds * 2 ** max(attempt - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


class QuietHours(_Strict):
    start: time = Field(description='Local time quiet hours begin, "22:00".')
    end: time = Field(description='Local time they end, "07:00" (may be the next day).')
    timezone: str = Field("UTC", description="IANA time zone, e.g. Europe/Berlin.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def _quiet(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime) -> datetime:
        """``moment`` if it is outside quiet hours, else the end of the quiet period."""
        local = moment.astimezone(self.zone)
        if self.start == self.end or not self._quiet(local.time().replace(tzinfo=None)):
            return moment
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(moment.tzinfo)


class WatcherFilter(_Strict):
    """Which articles a watcher hears about. Empty lists mean "any"."""

    topics: list[str] = Field([], description="Topic names; any matched topic when empty.")
    keywords: list[str] = Field([], description="Keyword tags; at least one must be hit.")
    min_score: float = Field(0.0, ge=0, description="Minimum match score.")
    languages: list[str] = Field([], description="ISO 639-1 codes of the article language.")
    sources: list[str] = Field([], description="Source names (also limits health events).")
    max_age_hours: float | None = Field(
        72.0,
        gt=0,
        description="Ignore articles published longer ago than this (backfills, archives).",
    )


class Watcher(_Strict):
    """One [[watcher]] table."""

    name: str
    enabled: bool = True
    filter: WatcherFilter = WatcherFilter()
    channels: list[Channel] = Field(min_length=1)
    policy: Literal["immediate", "batched"] = "immediate"
    batch_minutes: int = Field(60, ge=1, le=24 * 60, description="Batch window length.")
    quiet_hours: QuietHours | None = None
    health: list[HealthState] = Field(
        [], description="Source-health events to receive: failing, silent, volume-drop, recovered."
    )
    retry: RetryPolicy = RetryPolicy()
    max_items: int = Field(50, ge=1, le=500, description="Most events in one message.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use 1-100 letters, digits, '.', '_' or '-', starting alphanumeric")
        return value

    @property
    def masker(self) -> Masker:
        out = Masker()
        for channel in self.channels:
            out = out.merged(channel.masker)
        return out

    def due(self, created: datetime) -> datetime:
        """When an event created at ``created`` may be sent: batch window end, after quiet hours."""
        due = created
        if self.policy == "batched":
            step = self.batch_minutes * 60
            epoch = int(created.timestamp())
            due = datetime.fromtimestamp((epoch // step + 1) * step, tz=created.tzinfo)
        if self.quiet_hours is not None:
            due = self.quiet_hours.release(due)
        return due


class HealthSettings(_Strict):
    """When a source counts as unhealthy (the [health] table)."""

    failing_runs: int = Field(3, ge=1, description="Consecutive failed runs => failing.")
    silent_runs: int = Field(5, ge=1, description="Consecutive runs without new items => silent.")
    volume_recent_runs: int = Field(3, ge=1, description="Recent runs compared with history.")
    volume_history_runs: int = Field(20, ge=2, description="Older runs forming the baseline.")
    volume_min_history: int = Field(5, ge=1, description="Baseline runs needed to judge volume.")
    volume_min_median: float = Field(
        3.0, ge=0, description="Ignore sources whose usual new items per run is below this."
    )
    volume_drop_ratio: float = Field(
        0.25, gt=0, lt=1, description="Recent mean below ratio x baseline median => volume-drop."
    )


class AlertsConfig(_Strict):
    """The validated watchers.toml."""

    watcher: list[Watcher] = []
    health: HealthSettings = HealthSettings()

    @property
    def watchers(self) -> list[Watcher]:
        return self.watcher

    @property
    def enabled(self) -> list[Watcher]:
        return [w for w in self.watcher if w.enabled]

    def get(self, name: str) -> Watcher:
        for w in self.watcher:
            if w.name == name:
                return w
        raise KeyError(name)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsConfig:
        check_unique_names((w.name for w in self.watcher), "watcher")
        return self


def _expand(
    value: str, env: Mapping[str, str], used: dict[str, str], missing: list[str] | None = None
) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            if missing is None:
                raise KeyError(name)
            missing.append(name)
            return m.group(0)
        used["${" + name + "}"] = env[name]
        return env[name]

    return _ENV_REF.sub(sub, value)


def _channel(raw: Any, env: Mapping[str, str], key: str, enabled: bool = True) -> Channel:
    entry = {"url": raw} if isinstance(raw, str) else raw
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise _Problem(key, 'a channel is a URL string or a table {url = "...", format = "..."}')
    template = entry["url"].strip()
    used: dict[str, str] = {}
    missing: list[str] | None = None if enabled else []
    try:
        expanded = _expand(template, env, used, missing)
    except KeyError as exc:
        raise _Problem(key, f"environment variable {exc.args[0]} is not set") from None
    if not _SCHEME.match(expanded):
        raise _Problem(key, "not a channel URL (expected scheme://..., e.g. mailto:// or json://)")
    if not missing:
        from monitor.alerts.channels import check_url

        problem = check_url(expanded)
        if problem:
            raise _Problem(key, Masker(used)(problem))
    extra = {k: v for k, v in entry.items() if k not in ("url", "unresolved")}
    try:
        channel = Channel(
            url=SecretStr(expanded), template=template, unresolved=missing or [], **extra
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise _Problem(f"{key}.{where}", str(err["msg"])) from None
    channel._masker = Masker(used)
    return channel


class _Problem(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def parse_alerts(
    data: dict[str, Any], topics: Collection[str] | None, env: Mapping[str, str], path: Path
) -> AlertsConfig:
    """Validate the parsed TOML of ``path``; raise ConfigError on the first problem."""
    from monitor.config import ConfigError, validate_model

    watchers = data.get("watcher", [])
    if not isinstance(watchers, list) or not all(isinstance(w, dict) for w in watchers):
        raise ConfigError(path, "watcher", "use [[watcher]] tables")
    prepared = dict(data)
    prepared["watcher"] = []
    try:
        for i, w in enumerate(watchers):
            raw_channels = w.get("channels", [])
            if not isinstance(raw_channels, list):
                raise _Problem(f"watcher[{i}].channels", "a list of channel URLs")
            enabled = w.get("enabled", True) is not False
            channels = [
                _channel(c, env, f"watcher[{i}].channels[{j}]", enabled)
                for j, c in enumerate(raw_channels)
            ]
            prepared["watcher"].append({**w, "channels": channels})
    except _Problem as exc:
        raise ConfigError(path, exc.key, exc.problem) from None
    config: AlertsConfig = validate_model(AlertsConfig, prepared, path)
    known = set(topics) if topics is not None else None
    for i, watcher in enumerate(config.watcher):
        for j, t in enumerate(watcher.filter.topics):
            if known is not None and t not in known:
                names = ", ".join(sorted(known)) or "none"
                raise ConfigError(
                    path,
                    f"watcher[{i}].filter.topics[{j}]",
                    f"unknown topic {t!r} (topics.toml has: {names})",
                )
    return config


def load_alerts(
    config_dir: Path,
    topics: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> AlertsConfig:
    """Read ``config_dir/watchers.toml`` (absent: no watchers); ConfigError on bad input.

    ``topics`` are the configured topic names; a watcher naming another topic is an error.
    """
    from monitor.config import load_toml_file

    env = os.environ if env is None else env
    path = config_dir / WATCHERS_FILE
    if not path.exists():
        return AlertsConfig()
    return parse_alerts(load_toml_file(path), topics, env, path)


def load_watchers(
    config_dir: Path,
    topics: Collection[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Watcher]:
    """The watchers of ``config_dir/watchers.toml`` (disabled ones included)."""
    return load_alerts(config_dir, topics, env).watchers
