"""`newsmon init` writes what config/ ships: the two never drift apart."""

from __future__ import annotations

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("name", ["newsmon.toml", "sources.toml", "topics.toml"])
def test_starter_matches_default_config(name: str) -> None:
    shipped = (REPO / "config" / name).read_text(encoding="utf-8")
    starter = (REPO / "monitor" / "starter" / name).read_text(encoding="utf-8")
    assert starter == shipped, f"monitor/starter/{name} differs from config/{name}"
