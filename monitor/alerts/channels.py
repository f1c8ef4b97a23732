"""Send one rendered message through one channel.

Apprise handles every channel it knows (mailto://, slack://, discord://, tgram://,
matrix://, ntfy://, json://, ...). Two schemes are newsmon's own, sent with the
standard library because Apprise has no way to address them at an arbitrary host:

- ``webhook+http(s)://host/path``: POSTs the newsmon JSON document (schema
  ``newsmon-alert/1``: watcher, subject, stories with outlets and copies, health
  events, text) for programs that consume alerts;
- ``slackhook+http(s)://host/path``: POSTs a Slack incoming-webhook payload
  (``{"text": ...}`` in Slack mrkdwn) to a self-hosted Slack-compatible receiver
  (Mattermost, Rocket.Chat, Zulip's Slack endpoint). For Slack itself use Apprise's
  ``slack://`` or the plain ``https://hooks.slack.com/services/...`` URL.

Apprise's own retries are off (newsmon retries with backoff from the outbox) and its
log lines are captured, masked, and kept as the failure reason.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from monitor.alerts.watchers import Channel

log = logging.getLogger(__name__)
OWN_SCHEMES = ("webhook+http", "webhook+https", "slackhook+http", "slackhook+https")
USER_AGENT = "newsmon-alerts/0.1"


class SendError(Exception):
    """A channel did not accept a message; the text is masked and fit to show."""


@dataclass(frozen=True)
class RenderedMessage:
    """One message in every body format a channel may want."""

    subject: str
    text: str
    markdown: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)


Sender = Callable[["Channel", RenderedMessage, float], None]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))


# Loggers that may print a channel URL (tokens in paths) while Apprise sends.
_CAPTURED_LOGGERS = ("apprise", "urllib3", "requests")


@contextmanager
def _apprise_log() -> Iterator[_Capture]:
    """Keep Apprise's (and its HTTP client's) log lines, which may hold URLs with tokens,
    out of the user's logs; the caller re-logs them masked."""
    capture = _Capture()
    saved = []
    for name in _CAPTURED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(capture)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        for logger, propagate, level in saved:
            logger.removeHandler(capture)
            logger.propagate = propagate
            logger.setLevel(level)


def _reason(capture: _Capture) -> str:
    warnings = [m for lvl, m in capture.lines if lvl >= logging.WARNING]
    details = [m for lvl, m in capture.lines if "Exception" in m or "error" in m.lower()]
    picked = list(dict.fromkeys(warnings + details))[:3]
    return "; ".join(picked) or "the service did not accept the message"


def check_url(url: str) -> str | None:
    """None when ``url`` is a channel newsmon can send to, else the problem in words."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in OWN_SCHEMES:
        parts = urlsplit(url.split("+", 1)[1])
        return None if parts.hostname else "webhook URL has no host"
    import apprise

    with _apprise_log():
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"not a channel URL Apprise understands (scheme {scheme!r})"
    return None


def with_timeouts(url: str, timeout: float) -> str:
    """Add Apprise's connect/read timeouts (cto, rto) unless the URL sets them."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = {k for k, _ in query}
    query += [(k, f"{timeout:g}") for k in ("cto", "rto") if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _send_apprise(channel: Channel, message: RenderedMessage, timeout: float) -> None:
    import apprise

    fmt = channel.body_format
    body = {"text": message.text, "markdown": message.markdown, "html": message.html}[fmt]
    body_format = {
        "text": apprise.NotifyFormat.TEXT,
        "markdown": apprise.NotifyFormat.MARKDOWN,
        "html": apprise.NotifyFormat.HTML,
    }[fmt]
    with _apprise_log() as capture:
        plugin = apprise.Apprise.instantiate(with_timeouts(channel.url.get_secret_value(), timeout))
        ok = plugin is not None and plugin.notify(
            body=body, title=message.subject, body_format=body_format
        )
    for level, line in capture.lines:
        log.debug("apprise[%s]: %s", logging.getLevelName(level), channel.masker(line))
    if not ok:
        raise SendError(channel.masker(_reason(capture)))


_MD_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")


def slack_mrkdwn(markdown: str) -> str:
    """The few Markdown forms our templates use, in Slack's mrkdwn."""
    out = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '/')}>", markdown)
    return _MD_BOLD.sub(r"*\1*", out)


def _post_json(url: str, document: dict[str, Any], timeout: float) -> None:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise SendError(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise SendError(f"no answer within {timeout:g} s") from None
        raise SendError(f"cannot connect: {reason}") from None
    except OSError as exc:
        raise SendError(f"connection failed: {exc}") from None


def send(channel: Channel, message: RenderedMessage, timeout: float) -> None:
    """Deliver ``message`` through ``channel`` or raise SendError (masked reason)."""
    if channel.unresolved:
        names = ", ".join(channel.unresolved)
        raise SendError(f"environment variable(s) not set: {names}")
    scheme = channel.scheme
    if scheme in OWN_SCHEMES:
        target = channel.url.get_secret_value().split("+", 1)[1]
        if scheme.startswith("slackhook"):
            document: dict[str, Any] = {
                "text": f"*{message.subject}*\n{slack_mrkdwn(message.markdown)}"
            }
        else:
            document = {**message.payload, "subject": message.subject, "text": message.text}
        try:
            _post_json(target, document, timeout)
        except SendError as exc:
            raise SendError(channel.masker(str(exc))) from None
        return
    _send_apprise(channel, message, timeout)
