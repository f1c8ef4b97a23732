"""Shared benchmark helpers: the machine's description, the corpus, results in docs/."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
RESULTS = ROOT / "docs" / "benchmarks.md"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    return (
        f"{dt.date.today().isoformat()}, {cpu_name()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class CorpusPage:
    url: str
    html: bytes


def corpus_pages(corpus: Path = DEFAULT_CORPUS, limit: int | None = None) -> Iterator[CorpusPage]:
    """The real pages of ../shared/corpus, decompressed; nothing when the folder is absent."""
    index = corpus / "index.jsonl"
    if not index.exists():
        return
    count = 0
    with index.open(encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and count >= limit:
                return
            entry = json.loads(line)
            path = corpus / entry["file"]
            if path.exists():
                count += 1
                yield CorpusPage(entry["url"], gzip.decompress(path.read_bytes()))


def append_results(heading: str, body: str, path: Path = RESULTS) -> None:
    """Append a dated result block under ``heading`` (created at the end if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"\n### {machine_line()}\n\n{body.rstrip()}\n"
    marker = f"\n{heading}\n"
    if marker not in text:
        text = text.rstrip() + f"\n\n{heading}\n"
        text += block
    else:
        start = text.index(marker) + len(marker)
        nxt = text.find("\n## ", start)
        end = len(text) if nxt == -1 else nxt
        text = text[:end].rstrip() + "\n" + block + text[end:]
    path.write_text(text, encoding="utf-8")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids.extend(int(k) for k in task.read_text().split())
        except OSError:
            continue
    return kids


_TICK = os.sysconf("SC_CLK_TCK")


def record_tree(root: int, peaks: dict[int, int], cpu: dict[int, float]) -> None:
    """Update, for ``root`` and all its descendants, ``peaks`` (pid -> VmHWM in KiB) and
    ``cpu`` (pid -> user + system seconds so far), read from /proc in one walk while
    they run.

    wait4 measures neither: Linux carries the RSS high-water mark across fork and exec,
    so a child of a large process reports at least its parent's size; and the
    extraction pool's processes are children of a fork server that the crawler never
    reaps, so their CPU is not in the crawler's total. A process that has exited but
    not been reaped is read as a zombie, with its final times; a process reaped between
    two samples loses what it did since the latest one (the caller samples every half
    second).
    """
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
                break
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu[pid] = max(cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / _TICK)
        todo.extend(_children(pid))
