"""Dispatch `python -m bench NAME [options]` to bench.NAME.main(argv).

To add a benchmark, write bench/NAME.py with ``main(argv: list[str]) -> int`` and add
its name to BENCHMARKS.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: dict[str, str] = {
    "crawl": "bench.crawl",
    "extraction": "bench.extraction",
    "storage": "bench.storage",
    "smoke": "bench.smoke",
    "matching": "bench.matching",
    "discovery": "bench.discovery",
    "relevance": "bench.relevance",
    "stories": "bench.stories",
    "distributed": "bench.distributed",
    "fetch-texts": "bench.fetch_texts",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in BENCHMARKS:
        names = ", ".join(sorted(BENCHMARKS))
        print(f"usage: python -m bench {{{names}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[argv[0]])
    code: int = module.main(argv[1:])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
