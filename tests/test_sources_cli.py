"""`newsmon sources list|check|add` against a local site, as a user runs them."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_newsmon, write_config
from tests.fixtures.sources.kit import build_site, sources_toml
from tests.sitesrv import SiteServer


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    with SiteServer(build_site(tmp_path / "site")) as server:
        yield server


def _config(tmp_path: Path, *entries: dict[str, object]) -> Path:
    toml = sources_toml(*({"allow_private": True, **e} for e in entries))
    return write_config(tmp_path / "config", toml)


def test_check_reports_each_source_and_fails_if_any_failed(
    site: SiteServer, tmp_path: Path
) -> None:
    b = site.base
    config = _config(
        tmp_path,
        {"name": "feed", "url": f"{b}/feeds/world.xml"},
        {"name": "robots", "kind": "robots", "url": f"{b}/"},
        {
            "name": "sec",
            "kind": "section",
            "url": f"{b}/section/index.html",
            "allow": ["/articles/"],
        },
        {"name": "gone", "url": f"{b}/nothing.xml"},
        {"name": "page", "url": f"{b}/home.html"},
        {"name": "blocked", "kind": "section", "url": f"{b}/private/secret.html"},
        {"name": "empty", "kind": "section", "url": f"{b}/section/korea.html", "allow": ["/x/"]},
        {"name": "gd", "kind": "gdelt", "url": f"{b}/gdelt/artlist.json", "min_delay": 0},
    )
    proc = run_newsmon("--config", str(config), "sources", "check", "--json")
    assert proc.returncode == 1, proc.stderr[-2000:]
    rows = {r["source"]: r for r in json.loads(proc.stdout)}
    assert (rows["feed"]["ok"], rows["feed"]["items"]) == (True, 2)
    assert (rows["robots"]["ok"], rows["robots"]["items"]) == (True, 3)  # via news.xml
    assert (rows["sec"]["ok"], rows["sec"]["items"]) == (True, 2)
    assert (rows["gd"]["ok"], rows["gd"]["items"]) == (True, 2)
    assert rows["gone"]["verdict"] == "HTTP error 404"
    assert rows["page"]["verdict"] == "not a feed"
    assert "feeds/world.xml" in rows["page"]["detail"]  # names the feed to use instead
    assert rows["blocked"]["verdict"] == "blocked by robots.txt"
    assert rows["empty"]["verdict"] == "no items"
    assert "/private/secret.html" not in site.hits()

    one = run_newsmon("--config", str(config), "sources", "check", "feed")
    assert one.returncode == 0 and "OK, 2 items" in one.stdout
    unknown = run_newsmon("--config", str(config), "sources", "check", "nope")
    assert unknown.returncode == 2 and "no source named 'nope'" in unknown.stderr


def test_list_and_add(site: SiteServer, tmp_path: Path) -> None:
    b = site.base
    # an existing source on the same host lets the probe reach 127.0.0.1
    config = _config(tmp_path, {"name": "gd", "kind": "gdelt", "url": f"{b}/gdelt/artlist.json"})
    listed = run_newsmon("--config", str(config), "sources", "list")
    assert listed.returncode == 0 and "gd" in listed.stdout and "gdelt" in listed.stdout

    added = run_newsmon("--config", str(config), "sources", "add", f"{b}/home.html", "--name", "fx")
    assert added.returncode == 0, added.stderr[-2000:]
    text = (config / "sources.toml").read_text(encoding="utf-8")
    entries = {s["name"]: s for s in tomllib.loads(text)["source"]}
    assert entries["fx"]["kind"] == "feed"
    assert entries["fx"]["url"] == f"{b}/feeds/world.xml"  # the advertised feed
    assert entries["fx"]["language"] == "ko"  # <html lang>
    assert "# Another feed of the page:" in text and "# Sitemap in robots.txt:" in text

    again = run_newsmon("--config", str(config), "sources", "add", f"{b}/home.html", "--name", "fy")
    assert again.returncode == 2 and "already source 'fx'" in again.stderr
    taken = run_newsmon("--config", str(config), "sources", "add", f"{b}/", "--name", "fx")
    assert taken.returncode == 2 and "'fx' exists" in taken.stderr
    assert (config / "sources.toml").read_text(encoding="utf-8") == text

    # No feed on the page: the site's sitemaps (robots.txt) become a robots source.
    maps = run_newsmon("--config", str(config), "sources", "add", f"{b}/section/korea.html")
    assert maps.returncode == 0, maps.stderr[-2000:]
    entries = {s["name"]: s for s in tomllib.loads((config / "sources.toml").read_text())["source"]}
    assert entries["127-0-0-1"]["kind"] == "robots"
    assert entries["127-0-0-1"]["url"] == f"{b}/"

    health = run_newsmon("--config", str(config), "sources", "health", "--json")
    assert health.returncode == 0, health.stderr[-2000:]
