"""Alert messages from Jinja2 templates: text, Markdown, HTML, and a JSON document.

Pure (no storage, no network). Templates are ``alerts/message.{txt,md,html}.j2``, looked
up first in the user's ``<config dir>/templates/`` and then in monitor/templates/, so a
user overrides one by writing ``<config dir>/templates/alerts/message.md.j2``. The HTML
template is autoescaped; Markdown escapes with the ``md`` filter; links go through
``link`` (only http(s) survives).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from monitor.alerts.channels import RenderedMessage

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
SCHEMA = "newsmon-alert/1"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Outlet:
    """Another outlet that carried the story ("also reported by")."""

    name: str
    url: str
    title: str
    language: str | None = None


@dataclass(frozen=True)
class StoryItem:
    title: str
    url: str
    outlet: str
    language: str | None
    published: datetime | None
    first_seen: datetime
    topic: str
    score: float
    keywords: tuple[str, ...]
    snippet: str
    also: tuple[Outlet, ...] = ()


@dataclass(frozen=True)
class HealthItem:
    source: str
    state: str
    previous: str
    detail: str
    last_success: datetime | None


@dataclass(frozen=True)
class MessageView:
    watcher: str
    generated: datetime
    stories: tuple[StoryItem, ...] = ()
    health: tuple[HealthItem, ...] = ()
    test: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def md(value: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", str(value)).strip())


def link(url: str) -> str:
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else "#"


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _clean(value: Any) -> Any:
    return _CONTROL.sub("", value) if isinstance(value, str) else value


@lru_cache(maxsize=8)
def _environment(user_dir: str | None) -> Environment:
    loaders = [FileSystemLoader(user_dir)] if user_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_clean,
    )
    env.filters.update(md=md, link=link, date=_date, oneline=lambda v: _SPACES.sub(" ", str(v)))
    return env


def subject(view: MessageView) -> str:
    if view.test:
        return f"newsmon: test message for {view.watcher}"
    parts = []
    if len(view.stories) == 1:
        parts.append(_SPACES.sub(" ", view.stories[0].title).strip()[:150] or "new story")
    elif view.stories:
        parts.append(f"{len(view.stories)} new stories")
    if len(view.health) == 1:
        h = view.health[0]
        parts.append(f"source {h.source} {h.state}")
    elif view.health:
        parts.append(f"{len(view.health)} source health changes")
    return "newsmon: " + "; ".join(parts or ["nothing new"])


def payload(view: MessageView, subject_line: str) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    stories = []
    for s in view.stories:
        d = asdict(s)
        d.update(published=iso(s.published), first_seen=iso(s.first_seen))
        d["keywords"] = list(s.keywords)
        d["also_reported_by"] = [asdict(o) for o in s.also]
        del d["also"]
        stories.append(d)
    health = []
    for h in view.health:
        d = asdict(h)
        d["last_success"] = iso(h.last_success)
        health.append(d)
    return {
        "schema": SCHEMA,
        "watcher": view.watcher,
        "generated": view.generated.isoformat(),
        "subject": subject_line,
        "test": view.test,
        "stories": stories,
        "health": health,
    }


def render(view: MessageView, user_templates: Path | None = None) -> RenderedMessage:
    """Render ``view`` in every format; ``user_templates`` is ``<config dir>/templates``."""
    user = str(user_templates) if user_templates and user_templates.is_dir() else None
    env = _environment(user)
    line = subject(view)
    context = {"m": view, "subject": line}
    out = {
        fmt: env.get_template(f"alerts/message.{fmt}.j2").render(context)
        for fmt in ("txt", "md", "html")
    }
    return RenderedMessage(
        subject=line,
        text=out["txt"],
        markdown=out["md"],
        html=out["html"],
        payload=payload(view, line),
    )
