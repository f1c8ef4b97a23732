"""Start messages: how the scheduler hands due sources to the workers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from monitor.distributed.settings import Keys, start_message


@dataclass(frozen=True)
class Enqueued:
    """What one call did: sources handed over, and sources whose previous message no
    worker has taken yet (not queued twice: a backlog must not grow without bound)."""

    queued: tuple[str, ...] = ()
    waiting: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        text = f"enqueued {len(self.queued)} source(s)"
        if self.waiting:
            text += f"; still waiting for a worker: {', '.join(self.waiting)}"
        return text


def connect(url: str) -> Any:
    """A Redis client for ``url`` (redis is imported here: an optional dependency)."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)


def enqueue_sources(redis: Any, names: Iterable[str], key: str | None = None) -> Enqueued:
    """Push a start message per source onto the workers' list ``key`` (``newsmon:start``
    by default), unless that source's message is still in the list."""
    key = key or Keys("newsmon").start
    queued: list[str] = []
    waiting: list[str] = []
    for name in dict.fromkeys(names):
        message = start_message(name)
        if redis.lpos(key, message) is not None:
            waiting.append(name)
            continue
        redis.rpush(key, message)
        queued.append(name)
    return Enqueued(tuple(queued), tuple(waiting))
