"""Plain JSON values from dataclass dumps: dates and datetimes as ISO 8601 text."""

from __future__ import annotations

from datetime import date
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` (an ``asdict`` result, say) with every date or datetime, however deep in
    dicts, lists and tuples, written as ISO 8601 text; tuples become lists."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
