"""Every benchmark at a tiny size, results not written: CI runs this so none of them rots.

python -m bench smoke
"""

from __future__ import annotations

import importlib
import sys
import time

RUNS: list[tuple[str, list[str]]] = [
    ("bench.extraction", ["--pages", "10", "--no-write"]),
    ("bench.matching", ["--docs", "20", "--naive-docs", "5", "--topics", "10", "--no-write"]),
    ("bench.storage", ["--sizes", "1000", "--write-n", "100", "--no-write"]),
    ("bench.crawl", ["--pages", "60", "--no-write"]),
    ("bench.stories", ["scale", "--sizes", "1000", "--sample", "100", "--no-write"]),
    ("bench.discovery", ["--urls", "1000", "--known", "900", "--children", "4", "--no-write"]),
]


def main(argv: list[str]) -> int:
    failures = 0
    for module_name, args in RUNS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            print(f"smoke: {module_name} is not there yet; skipped", file=sys.stderr)
            continue
        start = time.perf_counter()
        try:
            code = int(module.main(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        except Exception as exc:
            print(f"smoke: {module_name} raised {exc!r}", file=sys.stderr)
            code = 1
        took = time.perf_counter() - start
        print(
            f"smoke: {module_name} {' '.join(args)}: exit {code} in {took:.1f} s", file=sys.stderr
        )
        failures += int(code != 0)
    print(f"smoke: {len(RUNS) - failures} passed, {failures} failed")
    return 1 if failures else 0
