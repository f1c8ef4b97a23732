"""Pairwise precision/recall of "same story" on real republished stories.

tests/data/stories/pairs.jsonl holds URLs, language, story group and kind only; the
texts (page-beginning excerpts) are cached outside the repository at
/work/relevance-cache/stories/<sha1(url)>.json (held-out sets: stories_heldout*). The
cached pages of the same topic listed in BACKGROUND_DIRS (the relevance sets and the
first story sets) are indexed first as unlabelled background, as a monitored topic's
window would hold them: they set the rarity of the topic's common names.

The clustering is run as in production (each article joins the best verified story or
starts one) over several arrival orders; a pair counts as predicted "same" when both
articles end in one story. Plain 3-word-shingle Jaccard is the floor.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

from monitor.story_features import SHINGLE, signature, words
from monitor.story_index import StoryIndex
from monitor.story_settings import StoriesSettings
from monitor.story_verify import names_keyed_across

REPO = Path(__file__).resolve().parent.parent
CACHE_ROOT = Path("/work/relevance-cache")
_STORY_DATA = REPO / "tests" / "data" / "stories"
#: --set name -> (labelled file, text cache)
SETS = {
    name: (_STORY_DATA / f"{file}.jsonl", CACHE_ROOT / cache)
    for name, file, cache in (
        ("dev", "pairs", "stories"),
        ("heldout", "heldout", "stories_heldout"),
        ("heldout2", "heldout2", "stories_heldout2"),
        ("heldout3", "heldout3", "stories_heldout3"),
        ("heldout4", "heldout4", "stories_heldout4"),
        ("heldout5", "heldout5", "stories_heldout5"),
        ("heldout6", "heldout6", "stories_heldout6"),
        ("heldout7", "heldout7", "stories_heldout7"),
        ("heldout8", "heldout8", "stories_heldout8"),
    )
}
# Same-topic pages indexed first: whichever of these caches are present (the measured
# set's own pages are left out by URL). A fixed list, so that a set built later does not
# move the figures of the others: 135 more pages of one topic make more of its names
# common, and held-out 3's recall fell from 0.739 to 0.685 with no change of code.
BACKGROUND_DIRS = (
    "nk_workers",
    "nk_workers_heldout",
    "nk_workers_heldout2",
    "nk_workers_heldout3",
    "stories",
    "stories_heldout",
    "stories_heldout2",
    "stories_heldout3",
    "stories_heldout4",
)
RELEVANCE_MD = REPO / "docs" / "relevance.md"
T0 = datetime(2025, 6, 1, tzinfo=UTC)
MIN_TEXT = 200
ORDERS = 5
ALL_ARTICLES = "newsmon stories, all articles (undated ones escape the time rule)"
DATED_ONLY = "newsmon stories, dated articles only (as in production)"


@dataclass(frozen=True, slots=True)
class Doc:
    url: str
    language: str
    group: str
    kind: str
    title: str
    text: str
    published: datetime | None = None

    @property
    def when(self) -> datetime:
        """Its publication (noon UTC of the labelled date), or T0 for the window when the
        set gives none."""
        return self.published or T0


def _cached(cache: Path, url: str) -> dict[str, str] | None:
    """The cached page, or None when it is missing or too short to score (a search
    excerpt of a line or two, which a cache rebuilt from stored copies may hold)."""
    path = cache / f"{hashlib.sha1(url.encode()).hexdigest()}.json"
    if not path.exists():
        return None
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data if len(data.get("text", "")) >= MIN_TEXT else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).replace(hour=12, tzinfo=UTC)


def load_docs(pairs: Path, cache: Path) -> tuple[list[Doc], int]:
    docs, missing = [], 0
    for line in pairs.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        cached = _cached(cache, rec["url"])
        if cached is None:
            missing += 1
            continue
        docs.append(
            Doc(
                rec["url"],
                rec["language"],
                rec["group"],
                rec["kind"],
                cached["title"],
                cached["text"],
                _date(rec.get("published")),
            )
        )
    return docs, missing


def load_background(exclude: set[str]) -> list[tuple[str, str]]:
    out = []
    paths = sorted(p for d in BACKGROUND_DIRS for p in (CACHE_ROOT / d).glob("*.json"))
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("url") not in exclude:
            out.append((data.get("title", ""), data.get("text", "")))
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: bool, pred: bool) -> None:
        self.tp += truth and pred
        self.fp += pred and not truth
        self.fn += truth and not pred

    def cell(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return f"{p:.3f} / {r:.3f}"


def cluster(
    docs: list[Doc], background: list[tuple[str, str]], seed: int, settings: StoriesSettings
) -> dict[str, int]:
    index = StoryIndex(settings)
    for i, (title, text) in enumerate(background):
        sig = signature(title, text, T0, T0)
        best = index.best_story(sig)
        index.add(-1 - i, best.story_id if best else -1 - i, sig, T0)
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    story: dict[str, int] = {}
    for n, k in enumerate(order):
        d = docs[k]
        # An undated article carries no date: no time rule applies to it.
        sig = signature(d.title, d.text, d.published, d.published, d.language)
        best = index.best_story(sig)
        sid = best.story_id if best else n + 1
        index.add(n + 1, sid, sig, d.when)
        story[d.url] = sid
    return story


def shingles(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def evaluate(
    settings: StoriesSettings | None = None, which: str = "dev"
) -> tuple[list[str], dict[str, Score]]:
    settings = settings or StoriesSettings()
    docs, missing = load_docs(*SETS[which])
    background = load_background({d.url for d in docs})
    scores: dict[str, Score] = {}

    def score(name: str, scope: str) -> Score:
        return scores.setdefault(f"{name}|{scope}", Score())

    sh = {d.url: shingles(f"{d.title}\n{d.text}") for d in docs}
    dated = [d for d in docs if d.published is not None]
    all_runs = [cluster(docs, background, seed, settings) for seed in range(ORDERS)]
    # As in production, where every article has a date for the time rule: the dated
    # articles clustered on their own (undated ones can bridge events months apart).
    dated_runs = [cluster(dated, background, seed, settings) for seed in range(ORDERS)]
    for a, b in combinations(docs, 2):
        truth = a.group == b.group
        scope = "same language" if a.language == b.language else "across languages"
        union = sh[a.url] | sh[b.url]
        jac = len(sh[a.url] & sh[b.url]) / len(union) if union else 0.0
        for t in (0.5, 0.2):
            score(f"shingle Jaccard >= {t}", scope).add(truth, jac >= t)
        for story in all_runs:
            score(ALL_ARTICLES, scope).add(truth, story[a.url] == story[b.url])
        if a.published is not None and b.published is not None:
            for story in dated_runs:
                score(DATED_ONLY, scope).add(truth, story[a.url] == story[b.url])
    notes = [
        f"{len(docs)} labelled articles in {len({d.group for d in docs})} stories, "
        f"{len({d.language for d in docs})} languages ({missing} not cached, skipped); "
        f"{len(background)} unlabelled same-topic pages indexed first as background; "
        f"clustering averaged over {ORDERS} arrival orders; {len(dated)} articles have "
        "a publication date in the set."
    ]
    return notes, scores


def report(notes: list[str], scores: dict[str, Score], which: str = "dev", flags: str = "") -> str:
    """The run's table; ``flags``: the command's --setting options, so that it reproduces."""
    methods = list(dict.fromkeys(k.split("|")[0] for k in scores))
    lines = [
        f"### Run of {datetime.now(UTC):%Y-%m-%d} ({which} set)",
        "",
        f"`python -m bench stories quality --set {which}{flags}` — {notes[0]}",
        "",
        "| method | same language: precision / recall | across languages: precision / recall |",
        "| --- | ---: | ---: |",
    ]
    for m in methods:
        same = scores.get(f"{m}|same language", Score()).cell()
        cross = scores.get(f"{m}|across languages", Score()).cell()
        lines.append(f"| {m} | {same} | {cross} |")
    return "\n".join(lines) + "\n"


def language_report(names: list[str], settings: StoriesSettings | None = None) -> str:
    """Pairs of dated articles (as in production), per set, pooled, and per language:
    same-language pairs, and pairs across languages. A change that helps one language
    and hurts another shows here, and the sets are small, so pooling them is what moves
    least from one run to the next."""
    settings = settings or StoriesSettings()
    pooled, pooled_cross = Score(), Score()
    by_language: defaultdict[str, Score] = defaultdict(Score)
    lines = [
        "| set | articles (not cached) | same language: precision / recall "
        "| across languages: precision / recall |",
        "| --- | ---: | ---: | ---: |",
    ]
    for which in names:
        docs, missing = load_docs(*SETS[which])
        dated = [d for d in docs if d.published is not None]
        if not dated:
            continue
        background = load_background({d.url for d in docs})
        runs = [cluster(dated, background, seed, settings) for seed in range(ORDERS)]
        own, cross = Score(), Score()
        for a, b in combinations(dated, 2):
            same = a.language == b.language
            for story in runs:
                truth, pred = a.group == b.group, story[a.url] == story[b.url]
                if same:
                    for score in (own, pooled, by_language[a.language]):
                        score.add(truth, pred)
                else:
                    for score in (cross, pooled_cross, by_language[_pair(a, b)]):
                        score.add(truth, pred)
        lines.append(f"| {which} | {len(dated)} ({missing}) | {own.cell()} | {cross.cell()} |")
    lines.append(f"| **pooled** | | **{pooled.cell()}** | **{pooled_cross.cell()}** |")
    lines += ["", "| language | precision / recall | true pairs |", "| --- | ---: | ---: |"]
    for language, score in sorted(by_language.items()):
        lines.append(f"| {language} | {score.cell()} | {(score.tp + score.fn) // ORDERS} |")
    return "\n".join(lines) + "\n"


def _pair(a: Doc, b: Doc) -> str:
    """The per-language row of a pair across languages: both in languages whose names
    are keyed alike (Latin, Cyrillic: the rule for retellings in another language
    applies), or Chinese, Japanese or Korean on one side."""
    if names_keyed_across(a.language, b.language):
        return "across: Latin/Cyrillic"
    return "across: with zh/ja/ko"


def run_quality(
    write: bool = True, which: str = "dev", settings: StoriesSettings | None = None
) -> int:
    """``settings``: other `[stories]` values than the defaults (the run says which)."""
    pairs, _ = SETS[which]
    if not pairs.exists():
        print(f"bench stories quality: {pairs} is absent", file=sys.stderr)
        return 1
    notes, scores = evaluate(settings, which=which)
    changed = settings.model_dump(exclude_defaults=True) if settings is not None else {}
    flags = "".join(f" --setting {k}={str(v).lower()}" for k, v in sorted(changed.items()))
    if not any(s.tp + s.fn for s in scores.values()):
        print("bench stories quality: no cached texts; nothing measured", file=sys.stderr)
        return 0
    text = report(notes, scores, which, flags)
    print(text)
    if write:
        _append(text)
    return 0


def _append(text: str) -> None:
    """Append a run under "## Story clustering" (written once, then runs appended)."""
    doc = RELEVANCE_MD.read_text(encoding="utf-8") if RELEVANCE_MD.exists() else ""
    if "## Story clustering" not in doc:
        return  # the section's prose is written by hand first
    head, _, tail = doc.partition("## Story clustering\n")
    rest = tail.split("\n## ", 1)
    section = rest[0].rstrip() + "\n\n" + text
    after = ("\n## " + rest[1]) if len(rest) > 1 else ""
    RELEVANCE_MD.write_text(head + "## Story clustering\n" + section + after, encoding="utf-8")
