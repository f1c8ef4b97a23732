"""Load and validate config/ (TOML): newsmon.toml, sources.toml, topics.toml.

No Scrapy import here: the CLI validates the whole configuration before anything runs,
so a bad file stops the command with one clear line (file, key, problem) and exit code 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.alerts.watchers import AlertsConfig, load_alerts
from monitor.distributed.settings import DistributedSettings
from monitor.mailer import SmtpSettings
from monitor.matching import TopicConfig, TopicsFile
from monitor.schedule_settings import DigestSettings, ScheduleSettings
from monitor.source_config import SourceConfig as SourceConfig  # re-exported
from monitor.source_config import SourceKind as SourceKind
from monitor.story_settings import StoriesSettings
from monitor.validation import check_unique_names

CONFIG_FILES = ("newsmon.toml", "sources.toml", "topics.toml")
DEFAULT_CONFIG_DIR = Path("config")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(Exception):
    """A configuration problem, phrased for the user: where, which key, what is wrong."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        where = f"{self.file}: {key}: " if key else f"{self.file}: "
        super().__init__(where + problem)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Strict):
    url: str = Field(
        "sqlite:///data/newsmon.db",
        description="SQLAlchemy URL. SQLite (a file, relative to the working directory) by "
        "default; postgresql+psycopg://user@host/db for the scale-out store.",
    )


class CrawlSettings(_Strict):
    user_agent: str = Field(
        "newsmon/0.1 (news monitoring; contact: set crawl.user_agent in newsmon.toml)",
        description="Identifying User-Agent with a contact, sent with every request.",
    )
    download_timeout: float = Field(30.0, gt=0, description="Seconds before a request fails.")
    max_page_bytes: int = Field(
        10_000_000, gt=0, description="Largest (decompressed) page accepted, in bytes."
    )
    max_feed_bytes: int = Field(
        30_000_000, gt=0, description="Largest (decompressed) feed or sitemap, in bytes."
    )
    concurrent_requests: int = Field(16, ge=1, le=512, description="Requests in flight.")
    concurrent_requests_per_domain: int = Field(
        2, ge=1, le=64, description="Requests in flight per domain (politeness)."
    )
    download_delay: float = Field(
        0.0, ge=0, description="Minimum seconds between requests to one domain."
    )
    obey_robots_txt: bool = Field(True, description="Honour robots.txt.")
    autothrottle: bool = Field(True, description="Adapt the request rate to server latency.")
    retry_times: int = Field(2, ge=0, le=10, description="Retries on timeouts, 429 and 5xx.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per request.")
    max_items_per_feed: int = Field(
        500, ge=1, description="Items read from one feed per run (the newest first)."
    )
    max_age_days: float | None = Field(
        None, gt=0, description="Skip feed items older than this, by their feed date."
    )
    extract_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Processes extracting text; 0 means one per CPU core, "
        "1 extracts inline in the crawler process.",
    )


class NewsmonSettings(_Strict):
    database: DatabaseSettings = DatabaseSettings()
    crawl: CrawlSettings = CrawlSettings()
    stories: StoriesSettings = StoriesSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    digest: DigestSettings = DigestSettings()
    smtp: SmtpSettings | None = None
    distributed: DistributedSettings = DistributedSettings()


class SourcesFile(_Strict):
    source: list[SourceConfig] = []

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        check_unique_names((s.name for s in self.source), "source")
        return self


class AppConfig(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    directory: Path
    settings: NewsmonSettings
    sources: list[SourceConfig]
    topics: list[TopicConfig]
    alerts: AlertsConfig = AlertsConfig()

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        raise KeyError(name)


def _expand_env(value: Any, env: Mapping[str, str], file: Path, key: str = "") -> Any:
    """Replace ${VAR} in strings from the environment, so secrets stay out of files."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                raise ConfigError(file, key, f"environment variable {name} is not set")
            return env[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, env, file, f"{key}.{k}" if key else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, env, file, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def load_toml_file(path: Path) -> dict[str, Any]:
    """Parse one TOML file; ConfigError (file, problem) when unreadable or malformed."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror or exc}") from None


def _read_toml(path: Path, env: Mapping[str, str], required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(path, "", "file not found")
        return {}
    expanded: dict[str, Any] = _expand_env(load_toml_file(path), env, path)
    return expanded


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate_model(model: type[BaseModel], data: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _loc(tuple(err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        inp = err.get("input")
        if err["type"] not in ("extra_forbidden", "missing") and not isinstance(inp, dict | list):
            msg += f" (got {inp!r})"
        raise ConfigError(path, key, msg) from None


def resolve_config_dir(cli_value: str | None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if cli_value:
        return Path(cli_value)
    if env.get("NEWSMON_CONFIG"):
        return Path(env["NEWSMON_CONFIG"])
    return DEFAULT_CONFIG_DIR


def load_config(directory: Path, env: Mapping[str, str] | None = None) -> AppConfig:
    """Read and validate every file of ``directory``; raise ConfigError on the first problem."""
    env = os.environ if env is None else env
    if not directory.is_dir():
        raise ConfigError(
            directory, "", "configuration directory not found (create one with `newsmon init DIR`)"
        )
    settings = validate_model(
        NewsmonSettings,
        _read_toml(directory / "newsmon.toml", env, False),
        directory / "newsmon.toml",
    )
    sources = validate_model(
        SourcesFile, _read_toml(directory / "sources.toml", env, True), directory / "sources.toml"
    )
    topics = validate_model(
        TopicsFile, _read_toml(directory / "topics.toml", env, True), directory / "topics.toml"
    )
    alerts = load_alerts(directory, [t.name for t in topics.topic], env)
    return AppConfig(
        directory=directory,
        settings=settings,
        sources=sources.source,
        topics=topics.topic,
        alerts=alerts,
    )


def resolve_database_url(
    cli_value: str | None, config: AppConfig, env: Mapping[str, str] | None = None
) -> str:
    env = os.environ if env is None else env
    return cli_value or env.get("NEWSMON_DATABASE_URL") or config.settings.database.url
