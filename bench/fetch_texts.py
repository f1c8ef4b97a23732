"""Rebuild a labelled set's text cache from its URLs, on a machine with internet access.

    python -m bench fetch-texts --data tests/data/relevance/nk_workers_heldout3.jsonl \
        --cache /work/relevance-cache/nk_workers_heldout3 [--chars 600] [--delay 1]

The labelled sets (relevance and stories) hold URLs and labels only: third-party text
stays out of the repository. The relevance and story benchmarks read the texts from a
cache outside it, one ``<sha1(url)>.json`` per item with its url, title and text. This
command fills that cache by fetching each page and extracting it as newsmon does
(monitor.extract). The sets were labelled on page openings; ``--chars`` cuts each text
to its opening to reproduce that, and 0 keeps whole articles (recall can only rise).
Pages already cached are skipped, so an interrupted run resumes; a page that cannot be
fetched or extracts to nothing is reported and left out, never fatal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.relevance import cache_path
from monitor.extract import extract_article

USER_AGENT = "newsmon-bench/1.0 (rebuilding a labelled set's text cache)"
MAX_BYTES = 5 * 1024 * 1024


def read_urls(data: Path) -> list[str]:
    """The ``url`` of every JSON line of a labelled set, in order, once each."""
    urls: list[str] = []
    for number, line in enumerate(data.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            url = json.loads(line)["url"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{data}:{number}: no url in this line ({exc})") from exc
        if url not in urls:
            urls.append(url)
    return urls


def fetch(url: str, timeout: float) -> bytes:
    """The page body, at most MAX_BYTES; HTTP errors raise urllib's HTTPError."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError(f"page over {MAX_BYTES // (1024 * 1024)} MB")
    return body


def cache_one(url: str, cache: Path, chars: int, timeout: float) -> str:
    """Fetch, extract and cache one page; return "cached" or why it was left out."""
    try:
        body = fetch(url, timeout)
    except urllib.error.HTTPError as exc:
        return f"http-{exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return f"fetch-failed ({type(exc).__name__})"
    article = extract_article(body, url)
    if article is None or not article.text.strip():
        return "empty-extraction"
    text = article.text[:chars] if chars > 0 else article.text
    record = {"url": url, "title": article.title, "text": text}
    path = cache_path(cache, url)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return "cached"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench fetch-texts", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="labelled JSON lines")
    parser.add_argument("--cache", type=Path, required=True, help="cache folder to fill")
    parser.add_argument("--chars", type=int, default=600, help="keep the opening (0: all)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between fetches")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per fetch")
    args = parser.parse_args(argv)
    try:
        urls = read_urls(args.data)
    except (OSError, ValueError) as exc:
        print(f"fetch-texts: {exc}", file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    tally: Counter[str] = Counter()
    for n, url in enumerate(urls, start=1):
        if cache_path(args.cache, url).is_file():
            tally["already cached"] += 1
            continue
        outcome = cache_one(url, args.cache, args.chars, args.timeout)
        tally[outcome] += 1
        if outcome != "cached":
            print(f"[{n}/{len(urls)}] {outcome}: {url}", file=sys.stderr)
        if args.delay > 0 and n < len(urls):
            time.sleep(args.delay)
    print(", ".join(f"{what}: {count}" for what, count in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
