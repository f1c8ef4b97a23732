"""Extended end to end: real archived pages from ../shared/corpus behind a generated feed."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from storage.models import Article, RunError
from tests.conftest import CORPUS, run_newsmon, write_config
from tests.sitesrv import SiteServer

pytestmark = pytest.mark.corpus
SAMPLE = 40


@pytest.fixture
def corpus_site(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    if not (CORPUS / "index.jsonl").exists():
        pytest.skip(f"{CORPUS} is absent (it is beside the project on CI only)")
    root = tmp_path / "site"
    (root / "p").mkdir(parents=True)
    entries = [json.loads(line) for line in (CORPUS / "index.jsonl").open(encoding="utf-8")]
    sample = entries[:: max(1, len(entries) // SAMPLE)][:SAMPLE]
    items = []
    for i, entry in enumerate(sample):
        (root / "p" / f"{i}.html").write_bytes(
            gzip.decompress((CORPUS / entry["file"]).read_bytes())
        )
        items.append(f"<item><title>page {i}</title><link>{{{{BASE}}}}/p/{i}.html</link></item>")
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>corpus</title>'
        + "".join(items)
        + "</channel></rss>",
        encoding="utf-8",
    )
    return root, sample


def test_crawl_real_pages(
    corpus_site: tuple[Path, list[dict[str, object]]], tmp_path: Path
) -> None:
    root, sample = corpus_site
    with SiteServer(root) as site:
        cfg = write_config(
            tmp_path / "cfg",
            f'[[source]]\nname = "corpus"\nurl = "{site.base}/feed.xml"\nallow_private = true\n',
            "[crawl]\nconcurrent_requests_per_domain = 8\nautothrottle = false\n",
        )
        db = f"sqlite:///{tmp_path / 'c.db'}"
        proc = run_newsmon("--config", str(cfg), "--db", db, "crawl", "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads(proc.stdout)
    (src,) = summary["sources"]
    assert src["links_seen"] == len(sample)
    assert src["fetched"] == len(sample)
    engine = create_engine(db)
    with Session(engine) as session:
        articles = session.scalars(select(Article)).all()
        errors = session.scalars(select(RunError)).all()
        # Every page is accounted for: stored (new or copy) or an error with a reason.
        assert len(articles) + len(errors) == len(sample)
        assert {e.reason for e in errors} <= {"empty-extraction"}
        assert len(articles) >= 0.9 * len(sample)
        by_url = {a.url.rsplit("/", 1)[1]: a for a in articles}
        hits = total = 0
        for i, entry in enumerate(sample):
            article = by_url.get(f"{i}.html")
            if article is None:
                continue
            for snippet in entry.get("with", []):  # type: ignore[union-attr]
                total += 1
                hits += int(str(snippet) in article.text)
            assert article.language, article.url
        assert hits >= 0.8 * total, f"{hits}/{total} ground-truth snippets found"
    engine.dispose()
    shutil.rmtree(root)
