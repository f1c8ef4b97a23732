"""Small validation helpers shared by the configuration models."""

from __future__ import annotations

from collections.abc import Iterable


def check_unique_names(names: Iterable[str], table: str) -> None:
    """Raise ValueError naming the first repeated ``name`` of a list of TOML tables."""
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{table}[{index}].name: duplicate {table} name {name!r}")
        seen.add(name)
