"""Render a Digest as Markdown, HTML, plain text, Atom, CSV or JSON.

Pure: no storage, no Scrapy. Text formats come from Jinja2 templates in
monitor/templates/ (``digest.<fmt>.j2``); a directory given as ``template_dir`` (the
``templates/`` folder of the user's config directory) is searched first, so a user can
override any of them. HTML and Atom templates are autoescaped: every title, snippet and
outlet name is text, never markup.

CSV columns (stable; new columns are only ever appended):
  topic, story_rank, story_key, role (lead|copy), article_id, outlet, language,
  published, first_seen, score, tags, title, url, snippet
Times are ISO 8601 in UTC; ``tags`` is "; "-separated; copy rows leave score, tags and
snippet empty. Text cells starting with = + - @ are prefixed with ' so that spreadsheets
do not run them as formulas. A digest with no articles is the header line alone.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from monitor.digest_model import Copy, Digest, DigestStory, Entry

Format = Literal["md", "html", "txt", "csv", "json", "atom"]
FORMATS: tuple[Format, ...] = ("md", "html", "txt", "csv", "json", "atom")
EXTENSIONS: dict[Format, str] = {f: f for f in FORMATS}
TEMPLATES_DIR = Path(__file__).parent / "templates"
JSON_SCHEMA = "newsmon-digest/1"
CSV_COLUMNS = (
    "topic",
    "story_rank",
    "story_key",
    "role",
    "article_id",
    "outlet",
    "language",
    "published",
    "first_seen",
    "score",
    "tags",
    "title",
    "url",
    "snippet",
)

# Characters XML 1.0 forbids (and that have no business in mail either).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|&!~])")
_SPACES = re.compile(r"\s+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    return _INVALID_XML.sub("", value)


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return Markup(_INVALID_XML.sub("", str(value)))
    if isinstance(value, str):
        return clean_text(value)
    return value


def safe_url(url: str) -> str:
    """Only http(s) links are rendered: a javascript: or data: URL becomes "#"."""
    return url if urlsplit(url.strip()).scheme.lower() in ("http", "https") else "#"


def md_escape(value: str) -> str:
    """Escape Markdown syntax so a title is shown as written, on one line."""
    return _md_keep(value).strip()


def md_url(url: str) -> str:
    return quote(safe_url(url), safe=":/?#[]@!$&'*+,;=%~-._")


def one_line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


_MARK_STYLED = Markup('<mark style="background:#fff1a8;color:inherit;padding:0 1px">')
_UNMARK = Markup("</mark>")


def _snippet_html(entry: Entry, mark: Markup = _MARK_STYLED, unmark: Markup = _UNMARK) -> Markup:
    out = Markup("")
    for text, marked in entry.snippet_parts():
        piece = escape(clean_text(_SPACES.sub(" ", text)))
        if marked:
            out += mark + piece + unmark
        else:
            out += piece
    return out


def _md_keep(text: str) -> str:
    """Escape a snippet fragment without trimming its edge spaces (they join the parts)."""
    return _MD_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", text))


def _snippet_md(entry: Entry) -> str:
    parts = entry.snippet_parts()
    text = "".join(f"**{_md_keep(t)}**" if m else _md_keep(t) for t, m in parts)
    return text.strip()


def _snippet_text(entry: Entry) -> str:
    return one_line("".join(f"[{t}]" if marked else t for t, marked in entry.snippet_parts()))


def entry_html_fragment(story: DigestStory) -> str:
    """The Atom entry body: snippet with highlights and the copies, as an HTML string.

    Returned as a plain str so that the Atom template escapes it once more as XML text
    (Atom ``type="html"``). Highlights are <strong>: feed readers' sanitisers (feedparser's
    among them) drop <mark>.
    """
    parts = [
        Markup("<p>")
        + _snippet_html(story.entry, Markup("<strong>"), Markup("</strong>"))
        + Markup("</p>")
    ]
    if story.entry.tags:
        parts.append(Markup("<p>Keywords: ") + escape(", ".join(story.entry.tags)) + Markup("</p>"))
    if story.also_reported_by:
        items = Markup("").join(
            Markup('<li><a href="{}">{}</a>{}: {}</li>').format(
                safe_url(c.url),
                clean_text(c.outlet),
                f" ({c.language})" if c.language else "",
                clean_text(c.title),
            )
            for c in story.also_reported_by
        )
        parts.append(Markup("<p>Also reported by:</p><ul>") + items + Markup("</ul>"))
    return str(Markup("").join(parts))


def window_label(digest: Digest) -> str:
    """ "2026-11-26" for one whole local day, else "start – end" in local time."""
    start, end = digest.local(digest.start), digest.local(digest.end)
    midnight = start.hour == start.minute == start.second == 0
    if midnight and end.replace(tzinfo=None) - start.replace(tzinfo=None) == timedelta(days=1):
        return start.strftime("%Y-%m-%d")
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def feed_key(digest: Digest) -> str:
    names = [t.name for t in digest.topics]
    return quote(names[0], safe="") if len(names) == 1 else "all"


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".atom.j2", ".xml.j2"))


def _environment(template_dir: Path | None) -> Environment:
    loaders = [FileSystemLoader(str(TEMPLATES_DIR))]
    if template_dir is not None and template_dir.is_dir():
        loaders.insert(0, FileSystemLoader(str(template_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    filters: dict[str, Callable[..., Any]] = {
        "iso": iso,
        "md": md_escape,
        "mdurl": md_url,
        "safe_url": safe_url,
        "one_line": one_line,
        "snippet_html": _snippet_html,
        "snippet_md": _snippet_md,
        "snippet_text": _snippet_text,
        "entry_html": entry_html_fragment,
        "urlquote": lambda v: quote(str(v), safe=""),
    }
    env.filters.update(filters)
    return env


def _local_fmt(digest: Digest) -> Callable[[datetime | None], str]:
    def fmt(moment: datetime | None) -> str:
        return "" if moment is None else f"{digest.local(moment):%Y-%m-%d %H:%M}"

    return fmt


def render_template(digest: Digest, fmt: Format, template_dir: Path | None = None) -> str:
    env = _environment(template_dir)
    env.filters["local"] = _local_fmt(digest)
    template = env.get_template(f"digest.{fmt}.j2")
    return template.render(
        digest=digest,
        window=window_label(digest),
        tz_name=digest.local(digest.start).tzname() or str(digest.tz),
        feed_key=feed_key(digest),
    )


def _csv_cell(value: str) -> str:
    value = clean_text(one_line(value))
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(digest: Digest) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for topic in digest.topics:
        for story in topic.stories:
            e = story.entry
            writer.writerow(
                [
                    _csv_cell(topic.name), story.rank, story.key, "lead", e.article_id,
                    _csv_cell(e.outlet), e.language or "", iso(e.published), iso(e.first_seen),
                    f"{e.score:.3f}", _csv_cell("; ".join(e.tags)), _csv_cell(e.title),
                    e.url, _csv_cell(e.snippet),
                ]
            )  # fmt: skip
            for c in story.also_reported_by:
                writer.writerow(
                    [
                        _csv_cell(topic.name), story.rank, story.key, "copy", c.article_id,
                        _csv_cell(c.outlet), c.language or "", iso(c.published),
                        iso(c.first_seen), "", "", _csv_cell(c.title), c.url, "",
                    ]
                )  # fmt: skip
    return buf.getvalue()


def _copy_json(c: Copy) -> dict[str, Any]:
    return {
        "article_id": c.article_id,
        "outlet": c.outlet,
        "url": c.url,
        "title": c.title,
        "language": c.language,
        "published": iso(c.published) or None,
        "first_seen": iso(c.first_seen),
    }


def _entry_json(e: Entry) -> dict[str, Any]:
    return {
        "article_id": e.article_id,
        "title": e.title,
        "url": e.url,
        "outlet": e.outlet,
        "source": e.source,
        "site_name": e.site_name,
        "language": e.language,
        "published": iso(e.published) or None,
        "first_seen": iso(e.first_seen),
        "score": e.score,
        "tags": list(e.tags),
        "snippet": e.snippet,
        "highlights": [list(h) for h in e.highlights],
    }


def digest_to_json(digest: Digest) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "title": digest.title,
        "window": {
            "start": iso(digest.start),
            "end": iso(digest.end),
            "timezone": str(digest.tz),
            "label": window_label(digest),
        },
        "generated_at": iso(digest.generated_at),
        "empty": digest.is_empty,
        "story_count": digest.story_count,
        "topics": [
            {
                "name": t.name,
                "story_count": len(t.stories),
                "article_count": t.article_count,
                "stories": [
                    {
                        "rank": s.rank,
                        "key": s.key,
                        "story_id": s.story_id,
                        "first_seen": iso(s.first_seen) or None,
                        "follow_up": s.is_follow_up(digest.start),
                        "entry": _entry_json(s.entry),
                        "also_reported_by": [_copy_json(c) for c in s.also_reported_by],
                    }
                    for s in t.stories
                ],
            }
            for t in digest.topics
        ],
    }


def render_digest(digest: Digest, fmt: str, template_dir: Path | None = None) -> str:
    """Render ``digest`` in ``fmt`` (one of FORMATS); ``template_dir`` overrides templates."""
    if fmt == "csv":
        return render_csv(digest)
    if fmt == "json":
        return json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2) + "\n"
    if fmt in FORMATS:
        return render_template(digest, fmt, template_dir)
    raise ValueError(f"unknown digest format {fmt!r}; choose one of {', '.join(FORMATS)}")
