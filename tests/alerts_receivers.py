"""Local alert receivers for the alert tests: an HTTP webhook server and an SMTP server.

Both listen on 127.0.0.1 only. The webhook server answers each path by a plan
("fail" = HTTP 500, "hang" = no answer until released, "ok" = 200) and records what
it accepted, so a test can count deliveries exactly.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Request:
    path: str
    body: bytes
    answered: str

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Webhook:
    """What the webhook server did: every request, and the accepted ones per path."""

    port: int = 0
    plans: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def plan(self, path: str, *answers: str) -> None:
        self.plans[path] = list(answers)

    def accepted(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if r.answered == "ok" and (path is None or r.path == path)]

    def _next(self, path: str) -> str:
        with self.lock:
            plan = self.plans.get(path, [])
            return plan.pop(0) if plan else "ok"


def _handler(state: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            answer = state._next(path)
            state.requests.append(Request(path, body, answer))
            if answer == "hang":
                state.release.wait(10)
                return
            self.send_response(500 if answer == "fail" else 200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"nope" if answer == "fail" else b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_server() -> Iterator[Webhook]:
    state = Webhook()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
