"""The e-mailed digest, received by a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from lxml import html
from pydantic import ValidationError

from monitor.digest_model import Digest, DigestTopic
from monitor.mailer import MailError, SmtpSettings, send_digest
from tests.digest_testdata import END, NOW, SCRIPT_TITLE, START, fixed_digest


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
        auth_require_tls=False, auth_exclude_mechanism=["LOGIN"],
    )  # fmt: skip
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Digest:
    return fixed_digest(f"sqlite:///{tmp_path_factory.mktemp('digest') / 'd.db'}")


def settings(port: int, **extra: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "security": "none",
        "from_addr": "newsmon <newsmon@example.org>",
        "to_addrs": ["analyst@example.org", "desk@example.org"], "timeout": 10,
    }  # fmt: skip
    return SmtpSettings.model_validate({**values, **extra})


def test_digest_arrives_with_html_and_text(smtp: tuple[Inbox, int], digest: Digest) -> None:
    inbox, port = smtp
    refused = send_digest(settings(port), digest)
    assert refused == []
    assert len(inbox.messages) == 1
    sender, rcpts, msg = inbox.messages[0]
    assert sender == "newsmon@example.org"
    assert rcpts == ["analyst@example.org", "desk@example.org"]
    assert msg["Subject"] == "[newsmon] newsmon digest 2026-11-25: 5 stories"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    body = msg.get_body(preferencelist=("html",))
    assert text is not None and body is not None
    assert "North Korean workers sent to Russia as students" in text.get_content()
    assert "Also reported by:" in text.get_content()
    tree = html.fromstring(body.get_content())
    assert SCRIPT_TITLE in [a.text_content() for a in tree.xpath("//h3/a")]
    assert tree.xpath("//script") == []


def test_login(smtp: tuple[Inbox, int], digest: Digest) -> None:
    inbox, port = smtp
    send_digest(settings(port, username="digest", password="s3cret"), digest)
    assert len(inbox.messages) == 1
    with pytest.raises(MailError, match="login refused for 'digest'"):
        send_digest(settings(port, username="digest", password="wrong"), digest)


def test_empty_digest_subject_says_nothing_new(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    empty = Digest(START, END, NOW, topics=(DigestTopic("nk-workers"),), tz=UTC)
    send_digest(settings(port), empty)
    msg = inbox.messages[0][2]
    assert msg["Subject"].endswith("2026-11-25: nothing new")
    plain = msg.get_body(preferencelist=("plain",))
    assert plain is not None and "Nothing new" in plain.get_content()


def test_unreachable_server_is_a_clear_error(digest: Digest) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(MailError, match=rf"SMTP 127\.0\.0\.1:{port}: cannot send"):
        send_digest(settings(port), digest)


def test_settings_validation() -> None:
    with pytest.raises(ValidationError):
        settings(25, to_addrs=[])
    with pytest.raises(ValidationError):
        settings(25, to_addrs=["x@example.org\r\nBcc: evil@example.org"])
    assert SmtpSettings(host="h", from_addr="a@b", to_addrs=["c@d"]).effective_port == 587
    ssl = SmtpSettings(host="h", from_addr="a@b", to_addrs=["c@d"], security="ssl")
    assert ssl.effective_port == 465
    assert "s3cret" not in repr(settings(25, password="s3cret"))
