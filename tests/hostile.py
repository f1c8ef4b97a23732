"""Hostile routes for tests.sitesrv.SiteServer, and a guarded way to run a crawl.

Routes are plain functions of the request handler; each one plays one kind of hostile
server (slow drip, redirect loop, gzip bomb, lying charset, ...).

``python -m tests.hostile ARGS`` runs ``newsmon ARGS`` with two test-only additions, so
that no hostile test can ever send traffic off this machine:

- a fake DNS resolver: names listed in $NEWSMON_TEST_HOSTS ("name=address,...") resolve
  to the given address, every other name fails (no real DNS query);
- a tripwire downloader middleware placed after every other one (just before the
  connection is made): a request to anything but the fixture server
  ($NEWSMON_TEST_ALLOWED, "host:port,...") is written to $NEWSMON_TEST_TRIPWIRE and
  dropped (names the fake resolver does not know pass: their lookup fails).
  A tripped wire means a request got past the address guard.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import record_tree

Route = Callable[[BaseHTTPRequestHandler], None]
REPO = Path(__file__).resolve().parent.parent

# --- responses ----------------------------------------------------------------------------


def send(
    h: BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    ctype: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    with contextlib.suppress(OSError):
        h.wfile.write(body)


def body(data: bytes, ctype: str = "text/html; charset=utf-8", **headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        send(h, data, ctype=ctype, headers={k.replace("_", "-"): v for k, v in headers.items()})

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        send(h, b"", status=status, ctype="text/html", headers={"Location": location})

    return route


def slow_drip(interval: float = 1.0, max_bytes: int = 60) -> Route:
    """Slowloris in reverse: headers at once, then one byte per ``interval``."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(max_bytes))
        h.end_headers()
        try:
            for _ in range(max_bytes):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(interval)  # the server side of the test: a deliberately slow peer
        except OSError:
            return

    return route


def streamed(size: int, chunk: bytes, *, content_length: bool, ctype: str) -> Route:
    """A body of ``size`` bytes written chunk by chunk (never held whole in memory)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        if content_length:
            h.send_header("Content-Length", str(size))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        sent = 0
        try:
            while sent < size:
                part = chunk[: size - sent]
                h.wfile.write(part)
                sent += len(part)
        except OSError:
            return

    return route


def big_page(megabytes: int, *, content_length: bool = True) -> Route:
    para = b"<p>" + b"Padding sentence for a page that is far too large to keep. " * 16 + b"</p>\n"
    chunk = para * max(1, 65536 // len(para))
    return streamed(
        megabytes * 1024 * 1024,
        chunk,
        content_length=content_length,
        ctype="text/html; charset=utf-8",
    )


@cache
def gzip_bomb(gigabytes: float = 1.0) -> bytes:
    """About 1 MB of gzip that inflates to ``gigabytes`` GB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(int(gigabytes * 1024))]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_encoded(data: bytes, ctype: str) -> Route:
    return body(data, ctype, Content_Encoding="gzip")


def gzip_file(size_mb: int) -> bytes:
    """A .gz body (no Content-Encoding) of ``size_mb`` MB of zeros: a bomb in a sitemap."""
    return gzip.compress(bytes(size_mb * 1024 * 1024), compresslevel=9)


# --- documents ----------------------------------------------------------------------------


def article_html(title: str, paragraphs: list[str], *, canonical: str = "") -> str:
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    ps = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><article><h1>{title}</h1>{ps}</article></body></html>"
    )


def rss(items: list[tuple[str, str]], *, prolog: str = "") -> bytes:
    """An RSS 2.0 feed of (title, link) items; ``prolog`` goes before <rss> (a DOCTYPE)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{u}</link></item>"
        for t, u in items  # callers pass already-escaped XML text
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<rss version="2.0"><channel>'
        f"<title>Hostile</title><link>http://example.org/</link>{entries}</channel></rss>"
    ).encode()


BILLION_LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>\n"
)


def xxe_prolog(target: str) -> str:
    return f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}">]>\n'


def huge_feed(base: str, items: int) -> bytes:
    parts = [
        f"<item><title>Item {i}</title><link>{base}/h/many/{i}</link></item>" for i in range(items)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Many</title>'
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


# --- running a crawl under guard ----------------------------------------------------------


@dataclass(frozen=True)
class CrawlProcess:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float


def run_guarded(
    *args: str,
    allowed: str,
    hosts: dict[str, str] | None = None,
    tripwire: Path,
    timeout: float = 240,
) -> CrawlProcess:
    """Run ``newsmon ARGS`` in a subprocess under the fake resolver and the tripwire;
    report the peak RSS of the largest process of its tree.

    The peak is each process's VmHWM, read from /proc while it runs. wait4's ru_maxrss
    would not do: Linux carries a process's high-water mark across fork and exec, so a
    child of a large pytest process reports at least the size of pytest itself.
    """
    env = {
        **os.environ,
        "NEWSMON_TEST_ALLOWED": allowed,
        "NEWSMON_TEST_HOSTS": ",".join(f"{k}={v}" for k, v in (hosts or {}).items()),
        "NEWSMON_TEST_TRIPWIRE": str(tripwire),
    }
    env.pop("NEWSMON_DATABASE_URL", None)
    out, err = tripwire.with_suffix(".out"), tripwire.with_suffix(".err")
    started = time.monotonic()
    with out.open("wb") as fo, err.open("wb") as fe:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile", *args], cwd=REPO, env=env, stdout=fo, stderr=fe
        )
        deadline = started + timeout
        peaks: dict[int, int] = {}
        cpu: dict[int, float] = {}
        while True:
            record_tree(proc.pid, peaks, cpu)
            pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, _usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)  # polling a child process, not waiting for a condition in code
    proc.returncode = os.waitstatus_to_exitcode(status)
    return CrawlProcess(
        returncode=proc.returncode,
        stdout=out.read_text(errors="replace"),
        stderr=err.read_text(errors="replace"),
        peak_rss_mb=max(peaks.values(), default=0) / 1024,
        seconds=time.monotonic() - started,
    )


def _fake_hosts() -> dict[str, str]:
    pairs = [p.split("=", 1) for p in os.environ.get("NEWSMON_TEST_HOSTS", "").split(",") if p]
    return {k.lower(): v for k, v in pairs}


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class FakeResolver:
    """IResolverSimple for tests: $NEWSMON_TEST_HOSTS names only; never asks real DNS."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.hosts = _fake_hosts()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> FakeResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        from twisted.internet.interfaces import IResolverSimple
        from zope.interface import directlyProvides  # type: ignore[import-untyped]

        directlyProvides(self, IResolverSimple)
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        from twisted.internet import defer
        from twisted.internet.error import DNSLookupError

        if _is_literal(name):
            return defer.succeed(name.strip("[]"))
        if name.lower() in self.hosts:
            return defer.succeed(self.hosts[name.lower()])
        return defer.fail(DNSLookupError(f"{name} (fake resolver: unknown test name)"))


class Tripwire:
    """Last downloader middleware: anything but the fixture server is recorded and dropped."""

    def __init__(self) -> None:
        self.allowed = os.environ.get("NEWSMON_TEST_ALLOWED", "")
        self.log = Path(os.environ["NEWSMON_TEST_TRIPWIRE"])
        self.hosts = _fake_hosts()

    @classmethod
    def from_crawler(cls, crawler: Any) -> Tripwire:
        return cls()

    def process_request(self, request: Any, spider: Any = None) -> None:
        from scrapy.exceptions import IgnoreRequest

        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if not _is_literal(host) and host not in self.hosts:
            return  # the fake resolver fails it: no connection can follow
        address = host if _is_literal(host) else self.hosts[host]
        allowed = self.allowed.split(",")
        if parts.scheme in ("http", "https") and f"{address}:{parts.port}" in allowed:
            return
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(request.url + "\n")
        raise IgnoreRequest(f"tripwire: {request.url}")


def _main(argv: list[str]) -> int:
    import monitor.settings as project

    project.TWISTED_DNS_RESOLVER = "tests.hostile.FakeResolver"  # type: ignore[attr-defined]
    project.DOWNLOADER_MIDDLEWARES = {
        **project.DOWNLOADER_MIDDLEWARES,
        "tests.hostile.Tripwire": 10_000,
    }
    from monitor.cli import main

    return main(argv)


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))


# --- a generated news site ----------------------------------------------------------------

_WORDS = [
    "harbour",
    "council",
    "budget",
    "river",
    "bridge",
    "school",
    "festival",
    "market",
    "library",
    "museum",
    "station",
    "railway",
    "tunnel",
    "airport",
    "hospital",
    "clinic",
    "farmers",
    "harvest",
    "weather",
    "storm",
    "flood",
    "drought",
    "election",
    "mayor",
    "minister",
    "parliament",
    "court",
    "judge",
    "police",
    "report",
    "survey",
    "study",
    "census",
    "factory",
    "workshop",
    "orchard",
    "vineyard",
    "fishery",
    "forest",
    "mountain",
    "valley",
    "village",
    "district",
]


def generated_article(index: int) -> tuple[str, list[str]]:
    """A unique invented article: title and three paragraphs. Every third one is about
    North Korean workers, every fifth about trams (the test topics)."""
    import random

    rng = random.Random(index)
    title = f"Report {index}: " + " ".join(rng.choice(_WORDS) for _ in range(5)).capitalize()
    paras = []
    for p in range(3):
        words = [rng.choice(_WORDS) for _ in range(22)]
        paras.append(f"Paragraph {p} of story {index} says the " + " ".join(words) + ".")
    if index % 3 == 0:
        paras.append("Officials said North Korean workers arrived at the site on student visas.")
    if index % 5 == 0:
        paras.append("The city also plans a new tram line along the river embankment.")
    return title, paras


def add_generated_site(routes: dict[str, Route], base: str, count: int) -> str:
    """Register ``count`` article pages and an RSS feed listing them; return the feed path."""
    items = []
    for i in range(count):
        title, paras = generated_article(i)
        path = f"/gen/{i}.html"
        routes[path] = body(article_html(title, paras, canonical=f"{base}{path}").encode())
        items.append((title, f"{base}{path}"))
    routes["/gen/feed.xml"] = body(rss(items), "application/xml; charset=utf-8")
    return "/gen/feed.xml"
