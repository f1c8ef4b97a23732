"""Send a digest by e-mail: HTML with a plain-text alternative, over SMTP (stdlib only).

Settings are the [smtp] table of newsmon.toml (``SmtpSettings``); put the password in
the environment and reference it as "${NEWSMON_SMTP_PASSWORD}".
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from monitor.digest_model import Digest
from monitor.digest_render import render_digest, window_label


class SmtpSettings(BaseModel):
    """How to reach the mail server, and who gets the digest."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(description="SMTP server host name.")
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Default: 465 with security = ssl, else 587 (25 with security = none).",
    )
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls",
        description="starttls: upgrade a plain connection (port 587); ssl: "
        "TLS from the start (port 465); none: no encryption (local relays only).",
    )
    username: str | None = Field(None, description="Login name; no login when unset.")
    password: SecretStr | None = Field(None, description='Use "${NEWSMON_SMTP_PASSWORD}".')
    from_addr: str = Field(description="Sender address, e.g. 'newsmon <newsmon@example.org>'.")
    to_addrs: list[str] = Field(min_length=1, description="Recipients of the digest.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a network step fails.")
    subject_prefix: str = Field("[newsmon]", description="Put before every subject.")

    @field_validator("to_addrs")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for addr in value:
            if "@" not in addr or any(c in addr for c in "\r\n"):
                raise ValueError(f"not an e-mail address: {addr!r}")
        return value

    @field_validator("from_addr")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n"):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.security]


class MailError(Exception):
    """Sending failed; the message says which server and why, in words."""


def build_message(
    settings: SmtpSettings, subject: str, html: str, text: str, *, date: str | None = None
) -> EmailMessage:
    """A multipart/alternative message: text first, HTML preferred by capable readers."""
    msg = EmailMessage()
    msg["Subject"] = " ".join(f"{settings.subject_prefix} {subject}".split())
    msg["From"] = settings.from_addr
    msg["To"] = ", ".join(settings.to_addrs)
    if date is not None:
        msg["Date"] = date
    domain = settings.from_addr.rsplit("@", 1)[-1].strip(" >") or None
    msg["Message-ID"] = make_msgid("newsmon-digest", domain=domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def digest_message(
    settings: SmtpSettings, digest: Digest, template_dir: Path | None = None
) -> EmailMessage:
    count = digest.story_count
    summary = (
        "nothing new" if digest.is_empty else f"{count} {'story' if count == 1 else 'stories'}"
    )
    return build_message(
        settings,
        f"{digest.title} {window_label(digest)}: {summary}",
        render_digest(digest, "html", template_dir),
        render_digest(digest, "txt", template_dir),
        date=format_datetime(digest.generated_at),
    )


def send_message(settings: SmtpSettings, msg: EmailMessage) -> list[str]:
    """Deliver ``msg``; return the recipients the server refused (empty when all took it)."""
    host, port = settings.host, settings.effective_port
    where = f"SMTP {host}:{port}"
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                smtp.login(settings.username, password)
            refused = smtp.send_message(msg, to_addrs=settings.to_addrs)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"{where}: login refused for {settings.username!r}: {_reply(exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{where}: every recipient refused: {', '.join(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{where}: server said {exc.smtp_code} {_reply(exc.smtp_error)}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f'{where}: {exc} (set security = "ssl" or "none"?)') from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{where}: cannot send: {exc}") from exc
    return sorted(refused)


def _reply(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def send_digest(
    settings: SmtpSettings, digest: Digest, template_dir: Path | None = None
) -> Sequence[str]:
    """E-mail the HTML digest with its text alternative; return refused recipients."""
    return send_message(settings, digest_message(settings, digest, template_dir))
