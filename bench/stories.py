"""Story clustering benchmarks: `python -m bench.stories [scale|quality] [options]`.

scale:   insert+query cost per article with 10k / 100k / 1M articles in the index, the
         rebuild time of the index from SQLite for 100k, peak memory. Articles are made of
         real sentences from ../shared/corpus (skipped cleanly when it is absent); filling
         the index combines per-sentence MinHash bins so that 1M costs minutes, not hours.
quality: pairwise precision/recall of "same story" on tests/data/stories/pairs.jsonl
         (--set dev, tuned on), heldout.jsonl ... heldout7.jsonl (--set heldout,
         heldout2 ... heldout7); texts cached outside the repo, see
         bench.stories_quality.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import re
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from lxml import html as lxml_html
from pydantic import ValidationError
from sqlalchemy import insert

from bench.common import DEFAULT_CORPUS, append_results, corpus_pages
from bench.stories_quality import SETS
from monitor.story_features import (
    MAX_FEATURES,
    SIGNATURE_VERSION,
    StorySignature,
    densify,
    feature_hash,
    pack,
    shingle_bins,
    signature,
    strong_features,
    title_words,
    tokens,
)
from monitor.story_index import StoryIndex
from monitor.story_settings import StoriesSettings

T0 = datetime(2025, 1, 1, tzinfo=UTC)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜÀ-Ý0-9\"“])")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    bins: np.ndarray
    features: tuple[int, ...]


def load_sentences(limit_pages: int | None = None) -> list[str]:
    """Sentences of the <p> elements of the corpus pages (fast lxml, no trafilatura)."""
    out: list[str] = []
    for page in corpus_pages(limit=limit_pages):
        try:
            tree = lxml_html.fromstring(page.html)
        except (ValueError, lxml_html.etree.ParserError):
            continue
        for p in tree.iter("p"):
            text = " ".join(p.text_content().split())
            if len(text) < 60:
                continue
            out.extend(s for s in _SENTENCE.split(text) if len(s) >= 40)
    return list(dict.fromkeys(out))


def prepare(sentences: list[str]) -> list[Sentence]:
    out = []
    for s in sentences:
        toks = tokens(s)
        feats = tuple(feature_hash(f) for f in strong_features(toks))
        out.append(Sentence(s, shingle_bins([t.lower() for t in toks]), feats))
    return out


LANGUAGES = ("en", "en", "en", "de", "fr", "es", "ru", "ko")


class Generator:
    """Articles of 12-30 random corpus sentences; one in ten is an edited copy."""

    def __init__(self, pool: list[Sentence], seed: int = 1) -> None:
        self.pool = pool
        self.rng = random.Random(seed)
        self.recent: list[list[int]] = []

    def pick(self) -> list[int]:
        rng = self.rng
        if self.recent and rng.random() < 0.1:
            base = list(rng.choice(self.recent))
            base[rng.randrange(len(base))] = rng.randrange(len(self.pool))
            return base
        start = rng.randrange(len(self.pool))
        run = [(start + k) % len(self.pool) for k in range(rng.randint(4, 10))]
        picked = run + [rng.randrange(len(self.pool)) for _ in range(rng.randint(8, 20))]
        self.recent = [*self.recent[-999:], picked]
        return picked

    def language(self) -> str:
        """A page language as a multilingual window would hold them (mostly one), so that
        the rules across languages are paid for as in production."""
        return self.rng.choice(LANGUAGES)

    def fast_signature(self, ids: list[int], at: datetime) -> StorySignature:
        parts = [self.pool[i] for i in ids]
        bins = np.minimum.reduce([p.bins for p in parts])
        feats: dict[int, None] = {}
        for p in parts:
            feats.update(dict.fromkeys(p.features))
        title = parts[0].text[:80]
        return StorySignature(
            minhash=densify(bins),
            shingles=sum(len(p.text) // 6 for p in parts),
            features=np.array(list(feats)[:MAX_FEATURES], dtype="<u8").tobytes(),
            title=pack(title_words(title)),
            published=at,
            seen=at,
            language=self.language(),
        )

    def text(self, ids: list[int]) -> tuple[str, str]:
        parts = [self.pool[i].text for i in ids]
        return parts[0][:80], " ".join(parts)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(index: StoryIndex, gen: Generator, n: int, at: datetime) -> tuple[float, float, float]:
    """CPU ms per article for the signature and for query+add, over n real texts, and
    the mean number of candidates verified (counted untimed).

    CPU time (process_time), not wall time: the benchmark machine is shared.
    """
    docs = [gen.text(gen.pick()) for _ in range(n)]
    languages = [gen.language() for _ in range(n)]
    sig_s = idx_s = 0.0
    verified = 0
    base = 10**9 + len(index)
    for k, (title, text) in enumerate(docs):
        t0 = time.process_time()
        sig = signature(title, text, at, at, languages[k])
        t1 = time.process_time()
        verified += len(index.candidates(sig))
        t2 = time.process_time()
        best = index.best_story(sig)
        index.add(base + k, best.story_id if best else base + k, sig, at)
        t3 = time.process_time()
        sig_s += t1 - t0
        idx_s += t3 - t2
    return sig_s / n * 1000, idx_s / n * 1000, verified / n


def fill(index: StoryIndex, gen: Generator, upto: int) -> float:
    """Add fast signatures until the index holds ``upto`` articles; seconds taken."""
    t0 = time.perf_counter()
    span = timedelta(days=25)
    while len(index) < upto:
        aid = len(index) + 1
        at = T0 + span * (aid / upto)
        index.add(aid, aid, gen.fast_signature(gen.pick(), at), at)
    return time.perf_counter() - t0


def rebuild_bench(index: StoryIndex, count: int) -> float:
    """Write ``count`` of the index's signatures to a SQLite file; time a StoryAssigner."""
    from monitor.story_assign import StoryAssigner
    from storage.engine import open_database, session_factory
    from storage.models import Article, ArticleSignature, Story

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{tmp}/bench.db")
        sessions = session_factory(engine)
        entries = list(index._entries.items())[:count]
        with sessions() as session:
            for start in range(0, len(entries), 5000):
                chunk = entries[start : start + 5000]
                session.execute(
                    insert(Story),
                    [
                        {"id": aid, "title": "", "first_seen": e.at, "last_seen": e.at, "size": 1}
                        for aid, e in chunk
                    ],
                )
                session.execute(
                    insert(Article),
                    [
                        {
                            "id": aid,
                            "url_hash": hashlib.sha1(str(aid).encode()).hexdigest(),
                            "canonical_url": f"https://x/{aid}",
                            "url": f"https://x/{aid}",
                            "source": "bench",
                            "fingerprint": "",
                            "first_seen": e.at,
                            "story_id": aid,
                            "authors": [],
                        }
                        for aid, e in chunk
                    ],
                )
                session.execute(
                    insert(ArticleSignature),
                    [
                        {
                            "article_id": aid,
                            "seen": e.at,
                            "published": e.sig.published,
                            "version": SIGNATURE_VERSION,
                            "shingles": e.sig.shingles,
                            "minhash": e.sig.minhash,
                            "features": "",
                            "title_words": "",
                            "feature_hashes": e.sig.features,
                            "title_hashes": e.sig.title,
                            "near_copy": not e.independent,
                            # every row dated: the rebuild's worst case
                            "event_day": e.sig.event_day or e.at.date(),
                        }
                        for aid, e in chunk
                    ],
                )
            session.commit()
        last = entries[-1][1].at
        with sessions() as session:
            t0 = time.process_time()
            assigner = StoryAssigner(session, StoriesSettings(), lambda: last)
            took = time.process_time() - t0
        assert assigner.loaded == len(entries), (assigner.loaded, len(entries))
        engine.dispose()
    return took


def run_scale(
    sizes: list[int], sample: int, write: bool, settings: StoriesSettings | None = None
) -> int:
    if not (DEFAULT_CORPUS / "index.jsonl").exists():
        print(f"bench stories: {DEFAULT_CORPUS} is absent; nothing measured", file=sys.stderr)
        return 0
    t0 = time.perf_counter()
    pool = prepare(load_sentences())
    print(
        f"{len(pool)} corpus sentences prepared in {time.perf_counter() - t0:.1f}s", file=sys.stderr
    )
    gen = Generator(pool)
    index = StoryIndex(settings or StoriesSettings())
    rows = []
    rebuild: tuple[int, float] | None = None
    for size in sizes:
        took = fill(index, gen, size)
        at = T0 + timedelta(days=25)
        # The fill leaves a full garbage collection due; run it untimed (and report its
        # pause), else the sample pays one pause that production spreads over a quarter
        # of the window's articles.
        t0 = time.process_time()
        gc.collect()
        pause = time.process_time() - t0
        sig_ms, idx_ms, verified = measure(index, gen, sample, at)
        rows.append((size, sig_ms, idx_ms, rss_mib(), pause, verified))
        print(
            f"{size:>9,}: signature {sig_ms:.3f} ms, query+add {idx_ms:.3f} ms, "
            f"{verified:.1f} candidates, "
            f"fill {took:.0f}s, full GC {pause:.2f}s, peak RSS {rss_mib():.0f} MiB",
            file=sys.stderr,
        )
        if rebuild is None and size >= 100_000:
            rebuild = (100_000, rebuild_bench(index, 100_000))
            print(f"rebuild of 100,000 from SQLite: {rebuild[1]:.2f}s", file=sys.stderr)
    report = format_report(rows, rebuild, sample)
    print(report)
    if write:
        append_results("## Stories", report)
    return 0


def format_report(
    rows: list[tuple[int, float, float, float, float, float]],
    rebuild: tuple[int, float] | None,
    sample: int,
) -> str:
    lines = [
        f"`python -m bench.stories scale` — per-article CPU cost averaged over {sample} new "
        "articles (real corpus sentences, ~20 per article, one in ten an edited copy) at "
        "each index size; the index is filled by combining per-sentence MinHash bins.",
        "",
        "| articles in index | signature ms | query+add ms | total ms/article "
        "| candidates verified | peak RSS MiB | full GC s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, sig_ms, idx_ms, rss, pause, verified in rows:
        lines.append(
            f"| {size:,} | {sig_ms:.3f} | {idx_ms:.3f} | {sig_ms + idx_ms:.3f} "
            f"| {verified:.1f} | {rss:.0f} | {pause:.2f} |"
        )
    if len(rows) >= 2:
        growth = (rows[-1][1] + rows[-1][2]) / (rows[0][1] + rows[0][2])
        lines.append("")
        lines.append(
            f"Growth of the per-article cost from {rows[0][0]:,} to {rows[-1][0]:,}: {growth:.2f}x."
        )
    if rebuild is not None:
        lines.append(
            f"Rebuild of the index from SQLite at start, {rebuild[0]:,} signatures: "
            f"{rebuild[1]:.2f} s."
        )
    return "\n".join(lines) + "\n"


def _settings(parser: argparse.ArgumentParser, pairs: list[str]) -> StoriesSettings | None:
    """`[stories]` from KEY=VALUE pairs, validated as newsmon.toml is (exit 2 if wrong)."""
    if not pairs:
        return None
    values = dict(p.partition("=")[::2] for p in pairs)
    try:
        return StoriesSettings.model_validate(values)
    except ValidationError as exc:
        parser.error(f"--setting: {exc}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stories")
    parser.add_argument("mode", nargs="?", default="scale", choices=["scale", "quality"])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    parser.add_argument(
        "--set",
        default="dev",
        choices=sorted(SETS),
        help="quality: labelled set",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a [stories] setting other than its default, e.g. event_days=false",
    )
    parser.add_argument(
        "--by-language",
        metavar="SETS",
        help="quality: same-language figures per set, pooled and per language over SETS "
        "(comma-separated names, or 'all'); prints, writes nothing",
    )
    args = parser.parse_args(argv)
    if args.mode == "quality" and args.by_language:
        from bench.stories_quality import language_report

        names = sorted(SETS) if args.by_language == "all" else args.by_language.split(",")
        if unknown := [n for n in names if n not in SETS]:
            parser.error(f"--by-language: unknown set(s) {', '.join(unknown)}")
        print(language_report(names, _settings(parser, args.setting)))
        return 0
    if args.mode == "quality":
        from bench.stories_quality import run_quality

        return run_quality(
            write=not args.no_write, which=args.set, settings=_settings(parser, args.setting)
        )
    sizes = [int(s) for s in args.sizes.split(",")]
    return run_scale(sizes, args.sample, not args.no_write, _settings(parser, args.setting))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
