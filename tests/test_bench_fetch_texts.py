"""`python -m bench fetch-texts` rebuilds a labelled set's text cache from a real server.

Each cached page holds the text newsmon extracts, cut to its opening when asked; a 404 or
a page without article text is reported and left out; a second run fetches nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main as bench_main
from bench.relevance import cache_path
from tests.sitesrv import SiteServer


def test_cache_is_filled_and_a_second_run_fetches_nothing(
    site: SiteServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = [f"{site.base}/news/a1.html", f"{site.base}/news/broken.html", f"{site.base}/gone"]
    data = tmp_path / "set.jsonl"
    data.write_text(
        "".join(json.dumps({"url": u, "label": "relevant"}) + "\n" for u in urls), "utf-8"
    )
    cache = tmp_path / "cache"
    args = ["fetch-texts", "--data", str(data), "--cache", str(cache), "--delay", "0"]
    assert bench_main([*args, "--chars", "80"]) == 0
    out, err = capsys.readouterr()
    assert "cached: 1" in out and "empty-extraction: 1" in out and "http-404: 1" in out
    assert f"http-404: {urls[2]}" in err
    record = json.loads(cache_path(cache, urls[0]).read_text("utf-8"))
    assert record["url"] == urls[0]
    assert record["title"] == "North Korean workers sent to Russia on student visas"
    assert 0 < len(record["text"]) <= 80
    assert not cache_path(cache, urls[1]).exists()

    site.clear()
    assert bench_main(args) == 0
    assert "already cached: 1" in capsys.readouterr().out
    assert site.hits()["/news/a1.html"] == 0


def test_a_set_without_urls_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    data.write_text('{"label": "relevant"}\n', "utf-8")
    args = ["fetch-texts", "--data", str(data), "--cache", str(tmp_path / "c")]
    assert bench_main(args) == 2
