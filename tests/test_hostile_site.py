"""Hostile server suite: one crawl against a site where every page and feed misbehaves.

The crawl runs as a subprocess (as a user runs it) under tests.hostile's fake resolver
and tripwire. For each case: the crawl finishes, peak memory stays bounded, the bad input
is recorded in run_errors with a specific reason, and nothing leaks (no XXE file read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Article, CrawlRun, RunError
from tests import hostile
from tests.conftest import FIXTURES, run_newsmon, write_config
from tests.sitesrv import SiteServer

pytestmark = pytest.mark.slow
MAX_RSS_MB = 500
SECRET = "newsmon-xxe-secret-7f3a"
RU_TEXT = (
    "Рабочие из Северной Кореи прибыли в Россию по студенческим визам и работают на стройках. "
    "Эту фразу мы придумали сами для теста кодировок, в ней достаточно слов для извлечения. "
    "Третье предложение нужно, чтобы текст статьи был длиннее минимального порога."
)
EN_PARAS = [
    "The harbour authority said on Monday that the new ferry terminal will open next year.",
    "Engineers expect the work on the northern pier to finish before the winter storms.",
    "Local residents welcomed the plan but asked for more buses to reach the terminal.",
]
INJECT_TITLE = "<script>document.title='pwned'</script>North Korean workers at the ferry"
INJECT_TEXT = (
    'Officials said <img src=x onerror="document.body.dataset.pwned=1"> North Korean '
    "workers built the ferry terminal."
)
DE_PARAS = [
    "Die Hafenbehörde sagte am Montag, dass das neue Fährterminal im nächsten Jahr öffnet.",
    "Ingenieure erwarten, dass die Arbeiten am nördlichen Pier vor den Winterstürmen enden.",
    "Anwohner begrüßten den Plan, wünschten sich aber mehr Busse zum Fährterminal.",
]


@dataclass
class HostileCrawl:
    site: SiteServer
    proc: hostile.CrawlProcess
    summary: dict  # type: ignore[type-arg]
    db: str
    tripwire: Path
    auth_headers: list[str]
    config: Path

    def errors(self, source: str | None = None) -> list[RunError]:
        engine = create_engine(self.db)
        with Session(engine) as session:
            stmt = select(RunError)
            if source is not None:
                stmt = stmt.where(RunError.source == source)
            rows = list(session.scalars(stmt))
        engine.dispose()
        return rows

    def reasons(self, source: str) -> dict[str, str]:
        """URL path -> reason of every recorded error of ``source`` (for a redirect chain,
        the path it started at)."""
        out = {}
        for e in self.errors(source):
            url = e.url
            if "(started at " in e.detail:
                url = e.detail.rsplit("(started at ", 1)[1].rstrip(")")
            out[url.removeprefix(self.site.base)] = e.reason
        return out

    def articles(self) -> list[Article]:
        engine = create_engine(self.db)
        with Session(engine) as session:
            rows = list(session.scalars(select(Article)))
        engine.dispose()
        return rows


def _pages(base: str) -> dict[str, hostile.Route]:
    routes: dict[str, hostile.Route] = {
        "/h/slow": hostile.slow_drip(),
        "/h/loop-a": hostile.redirect("/h/loop-b"),
        "/h/loop-b": hostile.redirect("/h/loop-a"),
        "/h/bomb": hostile.gzip_encoded(hostile.gzip_bomb(), "text/html; charset=utf-8"),
        "/h/big": hostile.big_page(50),
        "/h/big-chunked": hostile.big_page(50, content_length=False),
        "/h/charset-bogus": hostile.body(
            hostile.article_html("Bogus charset ferry", EN_PARAS).encode(),
            "text/html; charset=x-no-such-charset",
        ),
        "/h/charset-lying": hostile.body(
            hostile.article_html("Кодировка", [RU_TEXT])
            .replace("utf-8", "cp1251")
            .encode("cp1251"),
            "text/html; charset=utf-8",
        ),
        "/h/charset-latin1-lie": hostile.body(
            hostile.article_html("Fährterminal", DE_PARAS).encode("utf-8"),
            "text/html; charset=iso-8859-1",
        ),
        "/h/binary": hostile.body(os.urandom(200_000), "text/html; charset=utf-8"),
        "/h/inject": hostile.body(
            hostile.article_html(
                INJECT_TITLE.replace("<", "&lt;").replace(">", "&gt;"),
                [*EN_PARAS[:2], INJECT_TEXT.replace("<", "&lt;").replace(">", "&gt;")],
            ).encode()
        ),
    }
    for i in range(40):
        routes[f"/h/endless/{i}"] = hostile.redirect(f"/h/endless/{i + 1}")
    return routes


PAGE_CASES = {
    # path -> expected reason (None: stored as an article)
    "/h/slow": "timeout",
    "/h/loop-a": "redirect-loop",
    "/h/endless/0": "too-many-redirects",
    "/h/bomb": "too-large",
    "/h/big": "too-large",
    "/h/big-chunked": "too-large",
    "/h/binary": "not-html",
}


def _feeds(base: str, secret: Path) -> dict[str, hostile.Route]:
    xml = "application/xml; charset=utf-8"
    items = [(p.rsplit("/", 1)[-1], f"{base}{p}") for p in PAGE_CASES]
    items += [
        ("Bogus charset", f"{base}/h/charset-bogus"),
        ("Lying charset", f"{base}/h/charset-lying"),
        ("Lying Latin-1", f"{base}/h/charset-latin1-lie"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", f"{base}/h/inject"),
        ("long", f"{base}/h/long?q=" + "x" * 3000),
        ("credentials", base.replace("http://", "http://reader:hunter2@") + "/h/cred"),
    ]
    xxe_items = [("&xxe;", f"{base}/h/xxe-target")]
    urlset = (
        '<?xml version="1.0"?>\n' + hostile.xxe_prolog(secret.as_uri()) + "<urlset "
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&xxe;</loc></url></urlset>'
    ).encode()
    return {
        "/h/feed.xml": hostile.body(hostile.rss(items), xml),
        "/h/lol.xml": hostile.body(
            hostile.rss([("&lol9;", f"{base}/h/lol-target")], prolog=hostile.BILLION_LAUGHS), xml
        ),
        "/h/xxe.xml": hostile.body(
            hostile.rss(xxe_items, prolog=hostile.xxe_prolog(secret.as_uri())), xml
        ),
        "/h/xxe-net.xml": hostile.body(
            hostile.rss(xxe_items, prolog=hostile.xxe_prolog(f"{base}/h/xxe-probe")), xml
        ),
        "/h/xxe-sitemap.xml": hostile.body(urlset, xml),
        "/h/lol-sitemap.xml": hostile.body(
            (
                '<?xml version="1.0"?>\n'
                + hostile.BILLION_LAUGHS.replace("rss", "urlset")
                + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                "<url><loc>http://example.org/&lol9;</loc></url></urlset>"
            ).encode(),
            xml,
        ),
        "/h/huge.xml": hostile.body(hostile.huge_feed(base, 100_000), xml),
        "/h/bomb-feed.xml": hostile.gzip_encoded(hostile.gzip_bomb(), xml),
        "/h/sitemap.xml.gz": hostile.body(hostile.gzip_file(200), "application/x-gzip"),
        "/h/slow-feed.xml": hostile.slow_drip(),
        "/h/feed-loop.xml": hostile.redirect("/h/feed-loop.xml"),
    }


FEED_CASES = {
    # source -> (feed path, expected reason)
    "lol-feed": ("/h/lol.xml", "unsafe-xml"),
    "xxe-feed": ("/h/xxe.xml", "unsafe-xml"),
    "xxe-net-feed": ("/h/xxe-net.xml", "unsafe-xml"),
    "xxe-sitemap": ("/h/xxe-sitemap.xml", "unsafe-xml"),
    "lol-sitemap": ("/h/lol-sitemap.xml", "unsafe-xml"),
    "bomb-feed": ("/h/bomb-feed.xml", "too-large"),
    "gz-sitemap": ("/h/sitemap.xml.gz", "too-large"),
    "slow-feed": ("/h/slow-feed.xml", "timeout"),
    "loop-feed": ("/h/feed-loop.xml", "redirect-loop"),
}


def _sources(base: str) -> str:
    out = [f'[[source]]\nname = "pages"\nurl = "{base}/h/feed.xml"\nallow_private = true\n']
    out.append(f'[[source]]\nname = "huge-feed"\nurl = "{base}/h/huge.xml"\nallow_private = true\n')
    for name, (path, _) in FEED_CASES.items():
        kind = "sitemap" if "sitemap" in name else "feed"
        out.append(
            f'[[source]]\nname = "{name}"\nkind = "{kind}"\nurl = "{base}{path}"\n'
            "allow_private = true\n"
        )
    return "\n".join(out)


# The slow pages drip for a minute: they time out at 15 s, while every other hostile
# page (a 50 MB body, a gzip bomb, redirect chains, all served by this process's
# threads) must be answered within it even on a slow or loaded machine.
NEWSMON_TOML = """
[crawl]
download_timeout = 15
retry_times = 0
max_redirects = 5
max_items_per_feed = 20
max_page_bytes = 2000000
max_feed_bytes = 20000000
autothrottle = false
obey_robots_txt = false
extract_workers = 1
concurrent_requests_per_domain = 16
"""


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileCrawl]:
    tmp = tmp_path_factory.mktemp("hostile")
    secret = tmp / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    auth: list[str] = []
    with SiteServer(FIXTURES / "site") as site:
        site.routes.update(_pages(site.base))
        site.routes.update(_feeds(site.base, secret))

        def cred(h: BaseHTTPRequestHandler) -> None:
            auth.append(h.headers.get("Authorization", ""))
            hostile.send(h, hostile.article_html("Credentials ferry", EN_PARAS).encode())

        site.routes["/h/cred"] = cred
        config = write_config(
            tmp / "config", _sources(site.base), NEWSMON_TOML, topics=FIXTURES / "topics_small.toml"
        )
        db = f"sqlite:///{tmp / 'hostile.db'}"
        tripwire = tmp / "tripwire.log"
        proc = hostile.run_guarded(
            "--config",
            str(config),
            "--db",
            db,
            "crawl",
            "--json",
            allowed=f"127.0.0.1:{site.port}",
            tripwire=tripwire,
        )
        assert proc.returncode == 0, proc.stderr[-4000:]
        yield HostileCrawl(site, proc, json.loads(proc.stdout), db, tripwire, auth, config)


def test_crawl_finishes_with_bounded_memory(crawl: HostileCrawl) -> None:
    assert crawl.summary["status"] == "ok"
    print(f"hostile crawl: peak RSS {crawl.proc.peak_rss_mb:.0f} MB, {crawl.proc.seconds:.1f} s")
    assert crawl.proc.peak_rss_mb <= MAX_RSS_MB, crawl.proc.peak_rss_mb
    engine = create_engine(crawl.db)
    with Session(engine) as session:
        assert session.scalar(select(CrawlRun.status)) == "ok"
    engine.dispose()
    assert not crawl.tripwire.exists(), crawl.tripwire.read_text()


@pytest.mark.parametrize("path", sorted(PAGE_CASES))
def test_hostile_page_is_recorded_with_its_reason(crawl: HostileCrawl, path: str) -> None:
    assert crawl.reasons("pages").get(path) == PAGE_CASES[path], crawl.reasons("pages")


@pytest.mark.parametrize("source", sorted(FEED_CASES))
def test_hostile_feed_is_recorded_with_its_reason(crawl: HostileCrawl, source: str) -> None:
    path, reason = FEED_CASES[source]
    assert crawl.reasons(source) == {path: reason}


def test_no_external_entity_is_read_or_fetched(crawl: HostileCrawl) -> None:
    hits = crawl.site.hits()
    assert hits["/h/xxe-probe"] == 0 and hits["/h/xxe-target"] == 0 and hits["/h/lol-target"] == 0
    for article in crawl.articles():
        assert SECRET not in article.text + article.title + article.url
    for error in crawl.errors():
        assert SECRET not in error.url + error.detail


def test_huge_feed_is_cut_and_says_so(crawl: HostileCrawl) -> None:
    (row,) = [s for s in crawl.summary["sources"] if s["source"] == "huge-feed"]
    assert row["links_seen"] == 20
    assert crawl.reasons("huge-feed") == {"/h/huge.xml": "too-many-items"} | {
        f"/h/many/{i}": "http-404" for i in range(20)
    }


def test_charsets_and_injection_are_stored_as_text(crawl: HostileCrawl) -> None:
    by_path = {a.url.removeprefix(crawl.site.base): a for a in crawl.articles()}
    assert "Engineers expect" in by_path["/h/charset-bogus"].text
    # A header that lies about the charset is overruled by the page's own declaration
    # (or by valid UTF-8 under a Latin-1 label): the text is stored as written.
    assert "Северной Кореи" in by_path["/h/charset-lying"].text
    assert "\ufffd" not in by_path["/h/charset-lying"].text
    assert "Fährterminal" in by_path["/h/charset-latin1-lie"].text
    inject = by_path["/h/inject"]
    assert inject.title == INJECT_TITLE
    assert '<img src=x onerror="document.body.dataset.pwned=1">' in inject.text


CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p), None)


@pytest.mark.skipif(
    CHROMIUM is None or not Path(CHROMIUM).exists(), reason="chromium is not installed"
)
def test_injected_markup_does_not_run_in_the_html_digest(
    crawl: HostileCrawl, tmp_path: Path
) -> None:
    page = tmp_path / "digest.html"
    proc = run_newsmon(
        "--config",
        str(crawl.config),
        "--db",
        crawl.db,
        "digest",
        "--since",
        "2000-01-01",
        "--format",
        "html",
        "-o",
        str(page),
    )
    assert proc.returncode == 0, proc.stderr
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    browser = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert browser.returncode == 0, browser.stderr[-2000:]
    dom = lxml.html.fromstring(browser.stdout)
    assert dom.findtext(".//title") != "pwned"
    assert dom.find("body").get("data-pwned") is None
    assert dom.xpath("//script") == [] and dom.xpath("//img") == []
    assert any(INJECT_TITLE in a.text_content() for a in dom.xpath("//a"))


def test_long_urls_and_credentials(crawl: HostileCrawl) -> None:
    by_path = {a.url.removeprefix(crawl.site.base): a for a in crawl.articles()}
    # Credentials in a feed link are never sent and never stored.
    assert crawl.auth_headers == [""]
    cred = by_path["/h/cred"]
    assert "hunter2" not in cred.url + cred.canonical_url
    assert all("hunter2" not in e.url + e.detail for e in crawl.errors())
    long_errors = [e for e in crawl.errors("pages") if "/h/long" in e.url]
    assert [e.reason for e in long_errors] == ["url-too-long"]
