"""`[distributed]` in newsmon.toml: where the shared frontier lives and how long a
fetched URL stays claimed. Plain pydantic: importing it needs neither redis nor Scrapy."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

REDIS_URL_ENV = "NEWSMON_REDIS_URL"
_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class DistributedSettings(BaseModel):
    """Used by `newsmon worker` and `newsmon run --distributed` only."""

    model_config = ConfigDict(extra="forbid")

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="The Redis server holding the frontier; --redis URL and "
        "NEWSMON_REDIS_URL override it.",
    )
    key_prefix: str = Field(
        "newsmon",
        description="Prefix of every Redis key (one prefix per newsmon installation).",
    )
    dupefilter_ttl_seconds: float = Field(
        900,
        gt=0,
        description="How long a URL taken by a worker stays claimed: no other worker fetches "
        "it meanwhile; after it, a URL whose worker died is fetched again when a later "
        "crawl finds it. Longer than a fetch takes, shorter than the crawl interval.",
    )
    queued_ttl_seconds: float = Field(
        86400,
        gt=0,
        description="How long a URL waiting in the shared queue stays claimed (a bound, in "
        "case the queue is lost).",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("key_prefix")
    @classmethod
    def _prefix_chars(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError("1-64 characters: letters, digits, _ . : -")
        return value


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one installation."""

    prefix: str

    @property
    def start(self) -> str:
        """A list of JSON start messages, {"source": NAME}, consumed by the workers."""
        return f"{self.prefix}:start"

    @property
    def requests(self) -> str:
        """scrapy-redis's shared priority queue of serialised requests."""
        return f"{self.prefix}:requests"

    @property
    def fingerprints(self) -> str:
        """Prefix of the per-URL claim keys (one key per fingerprint, each with a TTL)."""
        return f"{self.prefix}:fp:"


def resolve_redis_url(
    cli_value: str | None, settings: DistributedSettings, env: Mapping[str, str] | None = None
) -> str:
    env = os.environ if env is None else env
    return cli_value or env.get(REDIS_URL_ENV) or settings.redis_url


def start_message(source: str) -> str:
    """The message that starts a crawl of ``source`` (one spelling per source, so that
    the scheduler can tell whether it is still queued)."""
    return json.dumps({"source": source}, sort_keys=True, separators=(",", ":"))


def missing_extra(command: str, exc: ImportError) -> str:
    """The message when the optional dependencies are not installed."""
    return (
        f"newsmon {command}: {exc.name or exc} is not installed "
        "(pip install 'newsmon[distributed]')"
    )
