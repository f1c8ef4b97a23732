"""The address guard: no request reaches a private, loopback or link-local address or a
non-HTTP scheme unless the source's own host is private and allowed.

The crawl runs under tests.hostile's fake resolver (test names only, no real DNS) and
tripwire (anything but the fixture server that gets past the guard is recorded and
dropped before a connection is made), so a broken guard fails the test without sending
a packet off this machine.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from monitor.middlewares import AddressGuardMiddleware, is_private_host, literal_address
from storage.models import Article, RunError
from tests import hostile
from tests.conftest import FIXTURES, write_config
from tests.sitesrv import SiteServer

ARTICLE = hostile.article_html(
    "Harbour ferry plan",
    [
        "The harbour authority said on Monday that the new ferry terminal will open next year.",
        "Engineers expect the work on the northern pier to finish before the winter storms.",
    ],
).encode()

REDIRECTS = {
    "/g/to-meta": "http://169.254.169.254/latest/meta-data/",
    "/g/to-ten": "http://10.0.0.1/admin",
    "/g/to-file": "file:///etc/passwd",
    "/g/to-gopher": "gopher://10.0.0.1:70/",
    "/g/to-localhost": "http://localhost:{port}/g/ok",
    "/g/to-decimal": "http://167772161/",  # 10.0.0.1 spelled as one number
    "/g/to-mapped": "http://[::ffff:a00:1]/",  # 10.0.0.1 as an IPv4-mapped IPv6 address
    "/g/to-v6-link-local": "http://[fe80::1]/",
    "/g/to-name": "http://intranet.test:{port}/g/ok",  # a name that resolves to 10.0.0.1
}
DIRECT = ["http://10.0.0.1/direct", "http://169.254.169.254/latest/user-data"]
HOSTS = {"news.test": "127.0.0.1", "intranet.test": "10.0.0.1", "public.test": "93.184.216.34"}


@dataclass
class GuardCrawl:
    site: SiteServer
    db: str
    tripwire: Path
    summary: dict  # type: ignore[type-arg]

    def errors(self, source: str) -> dict[str, tuple[str, str]]:
        engine = create_engine(self.db)
        with Session(engine) as session:
            rows = session.scalars(select(RunError).where(RunError.source == source)).all()
            out = {e.url.removeprefix(self.site.base): (e.reason, e.detail) for e in rows}
        engine.dispose()
        return out


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardCrawl]:
    tmp = tmp_path_factory.mktemp("guard")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with SiteServer(FIXTURES / "site") as site:
        port = site.port
        for path, target in REDIRECTS.items():
            site.routes[path] = hostile.redirect(target.format(port=port))
        site.routes["/g/ok"] = hostile.body(ARTICLE)
        items = [(p, f"{site.base}{p}") for p in [*REDIRECTS, "/g/ok"]] + [(u, u) for u in DIRECT]
        feed = hostile.body(hostile.rss(items), "application/xml")
        for path in ("/g/feed.xml", "/g/feed2.xml", "/g/feed3.xml"):
            site.routes[path] = feed
        sources = f"""
[[source]]
name = "intranet"
url = "{site.base}/g/feed.xml"
allow_private = true

[[source]]
name = "name-to-loopback"
url = "http://news.test:{port}/g/feed2.xml"

[[source]]
name = "literal-loopback"
url = "{site.base}/g/feed3.xml"

[[source]]
name = "public"
url = "http://public.test:{port}/g/public.xml"

[[source]]
name = "no-such-host"
url = "http://nowhere.test:{port}/g/feed.xml"

[[source]]
name = "closed-port"
url = "http://127.0.0.1:{closed}/g/feed.xml"
allow_private = true
"""
        config = write_config(
            tmp / "config",
            sources,
            "[crawl]\nretry_times = 0\nextract_workers = 1\nautothrottle = false\n",
            topics=FIXTURES / "topics_small.toml",
        )
        db = f"sqlite:///{tmp / 'guard.db'}"
        tripwire = tmp / "tripwire.log"
        proc = hostile.run_guarded(
            "--config",
            str(config),
            "--db",
            db,
            "crawl",
            "--json",
            allowed=f"127.0.0.1:{port},127.0.0.1:{closed}",
            hosts=HOSTS,
            tripwire=tripwire,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        yield GuardCrawl(site, db, tripwire, json.loads(proc.stdout))


def test_allowed_source_reaches_its_own_host(crawl: GuardCrawl) -> None:
    engine = create_engine(crawl.db)
    with Session(engine) as session:
        urls = session.scalars(select(Article.url)).all()
    engine.dispose()
    assert [u.removeprefix(crawl.site.base) for u in urls] == ["/g/ok"]


@pytest.mark.parametrize("path", sorted(REDIRECTS))
def test_redirect_out_of_the_allowed_host_is_blocked(crawl: GuardCrawl, path: str) -> None:
    errors = crawl.errors("intranet")
    matching = [v for k, v in errors.items() if k == path or path in v[1]]
    assert matching, errors
    assert matching[0][0] == "blocked-address", matching


@pytest.mark.parametrize("url", DIRECT)
def test_feed_link_to_private_address_is_blocked(crawl: GuardCrawl, url: str) -> None:
    assert crawl.errors("intranet")[url][0] == "blocked-address"


def test_sources_without_allow_private_never_reach_loopback(crawl: GuardCrawl) -> None:
    hits = crawl.site.hits()
    assert hits["/g/feed2.xml"] == 0 and hits["/g/feed3.xml"] == 0
    (reason, detail) = crawl.errors("name-to-loopback")[
        f"http://news.test:{crawl.site.port}/g/feed2.xml"
    ]
    assert reason == "blocked-address" and "resolves to 127.0.0.1" in detail
    assert [v[0] for v in crawl.errors("literal-loopback").values()] == ["blocked-address"]


def test_unknown_host_and_closed_port_have_their_reasons(crawl: GuardCrawl) -> None:
    assert [v[0] for v in crawl.errors("no-such-host").values()] == ["dns"]
    assert [v[0] for v in crawl.errors("closed-port").values()] == ["connection-refused"]


def test_nothing_but_public_addresses_got_past_the_guard(crawl: GuardCrawl) -> None:
    # The public source is let through (and stopped by the tripwire instead of the
    # network): the guard blocks what it should, not everything.
    tripped = crawl.tripwire.read_text().split()
    assert tripped and all(u.startswith("http://public.test:") for u in tripped), tripped


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("foo.localhost", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("[::1]", True),
        ("[fe80::1]", True),
        ("[fd00::1]", True),
        ("[::ffff:127.0.0.1]", True),
        ("2130706433", True),
        ("0x7f.1", True),
        ("017700000001", True),
        ("224.0.0.1", True),
        ("93.184.216.34", False),
        ("[2606:4700::1]", False),
        ("example.org", False),
        ("cafe.be", False),
        ("1e100.net", False),
    ],
)
def test_is_private_host(host: str, private: bool) -> None:
    assert is_private_host(host) is private


def test_literal_address_spellings() -> None:
    assert str(literal_address("0x7f.0.0.1")) == "127.0.0.1"
    assert literal_address("news.example") is None


def _guard(resolved: str | None) -> AddressGuardMiddleware:
    async def resolve(host: str) -> str | None:
        return resolved

    return AddressGuardMiddleware({"intranet": "10.0.0.5"}, resolve)


def _check(guard: AddressGuardMiddleware, url: str, **meta: object) -> str | None:
    try:
        asyncio.run(guard.process_request(Request(url, meta=meta)))
    except IgnoreRequest as exc:
        return str(exc)
    return None


def test_guard_rules_without_a_crawl() -> None:
    allowed = {"newsmon_source": "intranet", "newsmon_allow_private": True}
    assert _check(_guard(None), "http://10.0.0.5/feed", **allowed) is None
    assert _check(_guard(None), "http://10.0.0.6/feed", **allowed) is not None
    other = {"newsmon_source": "other", "newsmon_allow_private": True}
    assert _check(_guard(None), "http://10.0.0.5/feed", **other) is not None
    assert _check(_guard("10.9.9.9"), "http://name.example/", newsmon_source="x") is not None
    assert _check(_guard("93.184.216.34"), "http://name.example/", newsmon_source="x") is None
    # robots.txt requests carry no source: only hosts some source may reach privately.
    assert _check(_guard(None), "http://10.0.0.5/robots.txt") is None
    assert _check(_guard(None), "http://10.0.0.6/robots.txt") is not None
    assert "scheme" in (_check(_guard(None), "ftp://example.org/x", newsmon_source="x") or "")
