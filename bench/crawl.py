"""Crawl throughput on real pages: the Scrapy ceiling, inline extraction, full newsmon.

    python -m bench crawl [--pages 5000] [--repeat 1] [--server auto|nginx|twisted]
                          [--modes fetch,inline,full] [--no-write]

Serves the pages of ../shared/corpus (repeated under distinct URLs, each copy made
unique so that dedup does not short-cut it) plus RSS feeds of 500 items from a local
server on 127.0.0.1 (nginx from Debian's packages when installed, else Twisted's static
server), then runs, each in its own process and one after the other:

  fetch   a Scrapy spider that only downloads (the ceiling of this machine)
  inline  the same spider calling extract_article in its callback (the naive pipeline)
  full    `newsmon crawl` with the default topics into a fresh SQLite database

All three use the same politeness-free settings (16 requests in flight, no robots.txt,
no AutoThrottle) so that the comparison measures the pipeline, not the throttle.
pages/s is pages over Scrapy's own elapsed time (process start-up excluded). CPU ms/page
is the user + system time of the mode's whole process tree (start-up included) over its
pages: on a shared machine it moves less than pages/s, and the cores times inline CPU
over full CPU is the ratio the full pipeline could reach if it kept every core busy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    ROOT,
    append_results,
    corpus_pages,
    median,
    record_tree,
)

FEED_ITEMS = 500


@dataclass
class ModeResult:
    mode: str
    pages: int
    seconds: float
    peak_rss_mb: float
    rss_samples_mb: list[float]
    cpu_seconds: float = 0.0
    """User + system CPU of the run's whole process tree (its reaped descendants
    included): steadier than pages/s on a shared machine."""

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu_seconds / self.pages if self.pages else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepend(marker: bytes) -> Callable[[re.Match[bytes]], bytes]:
    def sub(m: re.Match[bytes]) -> bytes:
        return m.group(1) + marker

    return sub


def build_site(root: Path, n_pages: int, port: int) -> int:
    """Write n_pages unique copies of corpus pages and feeds listing them; return count."""
    pages = [p.html for p in corpus_pages()]
    if not pages:
        return 0
    (root / "p").mkdir(parents=True)
    (root / "feeds").mkdir()
    base = f"http://127.0.0.1:{port}"
    first_p = re.compile(rb"(<p[^>]*>)", re.IGNORECASE)
    for i in range(n_pages):
        html = pages[i % len(pages)]
        marker = f"Edition {i} of the benchmark site, copy number {i // len(pages)}. ".encode()
        html = first_p.sub(_prepend(marker), html, count=1)
        (root / "p" / f"{i}.html").write_bytes(html)
    for f, start in enumerate(range(0, n_pages, FEED_ITEMS)):
        items = "".join(
            f"<item><title>Page {i}</title><link>{base}/p/{i}.html</link></item>"
            for i in range(start, min(start + FEED_ITEMS, n_pages))
        )
        (root / "feeds" / f"{f}.xml").write_text(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench {f}</title>'
            f"<link>{base}/</link>{items}</channel></rss>",
            encoding="utf-8",
        )
    return n_pages


def start_server(kind: str, root: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if kind in ("auto", "nginx") and nginx:
        conf = work / "nginx.conf"
        conf.write_text(
            f"daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.err;\n"
            "events { worker_connections 1024; }\n"
            "http { access_log off; types { text/html html; application/rss+xml xml; }\n"
            f"  client_body_temp_path {work}/nb; proxy_temp_path {work}/np;\n"
            f"  fastcgi_temp_path {work}/nf; uwsgi_temp_path {work}/nu; scgi_temp_path {work}/ns;\n"
            f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])
    elif kind == "nginx":
        raise SystemExit("nginx is not installed (apt-get install nginx-light)")
    else:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twisted",
                "web",
                "--path",
                str(root),
                "--listen",
                f"tcp:{port}:interface=127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the benchmark server did not start")


@dataclass
class CorpusSite:
    """The served benchmark site: its work folder, feed URLs and server kind."""

    work: Path
    pages: int
    feeds: list[str]
    server: str


@contextlib.contextmanager
def corpus_site(n_pages: int, server_kind: str) -> Iterator[CorpusSite | None]:
    """Build the corpus site in a temporary folder and serve it; None without a corpus."""
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx workers run as an unprivileged user
        port = free_port()
        n = build_site(work / "site", n_pages, port)
        if n == 0:
            yield None
            return
        server = start_server(server_kind, work / "site", port, work)
        try:
            feeds = [
                f"http://127.0.0.1:{port}/feeds/{p.name}"
                for p in sorted((work / "site" / "feeds").iterdir(), key=lambda p: int(p.stem))
            ]
            kind = "nginx" if "nginx" in str(server.args) else "twisted"
            yield CorpusSite(work, n, feeds, kind)
        finally:
            server.terminate()
            server.wait(10)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Measured:
    stdout: str
    peak_rss_mb: float
    rss_samples_mb: list[float]
    cpu_seconds: float


def run_measured(cmd: list[str], cwd: Path) -> Measured:
    """Run cmd; return its stdout, the peak RSS (MB) of its largest process, RSS samples
    and the CPU seconds of its process tree (see record_tree)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[float] = []
    peaks: dict[int, int] = {}
    cpu: dict[int, float] = {}
    out: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    reader = threading.Thread(target=read)
    reader.start()
    while True:
        record_tree(proc.pid, peaks, cpu)
        pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        samples.append(_rss_mb(proc.pid))
        time.sleep(0.5)
    reader.join()
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode not in (0, None):
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{err[-2000:]}")
    peak = peaks.get(proc.pid, 0) / 1024
    return Measured(
        "".join(out),
        max(peak, max(samples, default=0.0)),
        [s for s in samples if s],
        sum(cpu.values()),
    )


def run_spider(mode: str, feeds: list[str], work: Path, n: int) -> ModeResult:
    run = run_measured([sys.executable, "-m", "bench.crawl_spiders", mode, *feeds], ROOT)
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    pages = int(stats.get("response_received_count", 0)) - len(feeds)
    seconds = float(stats["elapsed_time_seconds"])
    return ModeResult(mode, pages, seconds, run.peak_rss_mb, run.rss_samples_mb, run.cpu_seconds)


def write_bench_config(cfg: Path, feeds: list[str], extra: str = "") -> Path:
    """A config directory for the benchmark site: no politeness (it measures the pipeline),
    one source per feed, the default topics."""
    cfg.mkdir()
    (cfg / "newsmon.toml").write_text(
        "[crawl]\nconcurrent_requests = 16\nconcurrent_requests_per_domain = 16\n"
        "autothrottle = false\nobey_robots_txt = false\nmax_items_per_feed = 100000\n" + extra,
        encoding="utf-8",
    )
    (cfg / "sources.toml").write_text(
        "".join(
            f'[[source]]\nname = "bench{i}"\nurl = "{url}"\nallow_private = true\n'
            for i, url in enumerate(feeds)
        ),
        encoding="utf-8",
    )
    topics = ROOT / "config" / "topics.toml"
    shutil.copy(
        topics if topics.exists() else ROOT / "tests/fixtures/topics_small.toml",
        cfg / "topics.toml",
    )
    return cfg


def run_full(feeds: list[str], work: Path, n: int, run: int) -> ModeResult:
    cfg = write_bench_config(work / f"config{run}", feeds)
    measured = run_measured(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(cfg),
            "--db",
            f"sqlite:///{work}/bench{run}.db",
            "crawl",
            "--json",
            "--quiet",
        ],
        ROOT,
    )
    summary = json.loads(measured.stdout)
    pages = sum(s["fetched"] for s in summary["sources"])
    seconds = float(summary["stats"]["elapsed_time_seconds"])
    return ModeResult(
        "full", pages, seconds, measured.peak_rss_mb, measured.rss_samples_mb, measured.cpu_seconds
    )


def format_table(results: dict[str, list[ModeResult]], n: int, server: str) -> str:
    med = {m: median([r.rate for r in rs]) for m, rs in results.items()}
    lines = [
        f"`python -m bench crawl --pages {n}` ({server} server, medians of "
        f"{max(len(r) for r in results.values())} run(s))",
        "",
        "| mode | pages | pages/s | CPU ms/page | peak RSS MB | RSS at 1/4, 1/2, end (MB) |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    cpu = {m: median([r.cpu_ms_per_page for r in rs]) for m, rs in results.items()}
    for mode, rs in results.items():
        r = rs[len(rs) // 2]
        s = r.rss_samples_mb
        marks = (
            ", ".join(f"{s[int(len(s) * f) - 1 if f < 1 else -1]:.0f}" for f in (0.25, 0.5, 1.0))
            if s
            else "-"
        )
        lines.append(
            f"| {mode} | {r.pages} | {med[mode]:.1f} | {cpu[mode]:.1f} | "
            f"{max(x.peak_rss_mb for x in rs):.0f} | {marks} |"
        )
    if "full" in med and "inline" in med and med["inline"]:
        lines.append("")
        lines.append(f"full / inline = {med['full'] / med['inline']:.2f}x (target >= 1.8x)")
        if cpu["full"]:
            lines.append(
                f"CPU per page, inline / full = {cpu['inline'] / cpu['full']:.2f} (the ratio "
                f"{os.cpu_count()} cores could give if the pipeline kept them all busy: "
                f"{(os.cpu_count() or 1) * cpu['inline'] / cpu['full']:.2f}x)"
            )
    if "full" in med and "fetch" in med and med["fetch"]:
        lines.append(f"full / fetch  = {med['full'] / med['fetch']:.2f}x (target >= 0.35x)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench crawl")
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--server", choices=["auto", "nginx", "twisted"], default="auto")
    parser.add_argument("--modes", default="fetch,inline,full")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    with corpus_site(args.pages, args.server) as site:
        if site is None:
            print("bench crawl: ../shared/corpus not found; nothing to measure", file=sys.stderr)
            return 0
        n, server_name = site.pages, site.server
        results: dict[str, list[ModeResult]] = {m: [] for m in modes}
        for run in range(args.repeat):
            for mode in modes:
                if mode == "full":
                    r = run_full(site.feeds, site.work, n, run)
                else:
                    r = run_spider(mode, site.feeds, site.work, n)
                results[mode].append(r)
                print(
                    f"run {run + 1} {mode}: {r.pages} pages in {r.seconds:.1f} s = "
                    f"{r.rate:.1f} pages/s, peak RSS {r.peak_rss_mb:.0f} MB",
                    file=sys.stderr,
                )
    table = format_table(results, n, server_name)
    print(table)
    if not args.no_write:
        append_results("## Crawl", table)
    return 0
