"""Topic configuration (validated at load) and match results (frozen, JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from monitor.validation import check_unique_names

from .query import QuerySyntaxError, parse_query


def _check_query(value: str, what: str) -> str:
    try:
        parse_query(value)
    except QuerySyntaxError as exc:
        raise ValueError(f"{what} {exc}\n{exc.caret(value)}") from None
    return value


class KeywordSpec(BaseModel):
    """A keyword tag and its variants in many languages, each a query expression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tag: str
    terms: list[str]

    @field_validator("tag")
    @classmethod
    def _tag_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("keyword tag must not be blank")
        return value.strip()

    @field_validator("terms")
    @classmethod
    def _terms_parse(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a keyword needs at least one term")
        return [_check_query(t, f"term {t!r}:") for t in value]


class TopicConfig(BaseModel):
    """One [[topic]] table of topics.toml: the query decides relevance, keywords annotate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    query: str
    keywords: list[KeywordSpec] = []

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("topic name must not be blank")
        return value.strip()

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str) -> str:
        return _check_query(value, "query")

    @model_validator(mode="after")
    def _unique_tags(self) -> TopicConfig:
        tags = [k.tag for k in self.keywords]
        dupes = sorted({t for t in tags if tags.count(t) > 1})
        if dupes:
            raise ValueError(f"topic {self.name!r}: keyword tags repeated: {', '.join(dupes)}")
        return self


class TopicsFile(BaseModel):
    """The whole topics.toml: a list of [[topic]] tables with unique names."""

    model_config = ConfigDict(extra="forbid")

    topic: list[TopicConfig] = []

    @model_validator(mode="after")
    def _unique_names(self) -> TopicsFile:
        check_unique_names((t.name for t in self.topic), "topic")
        return self


Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """Where one keyword tag was found: offsets in the "title\\n\\ntext" document."""

    tag: str
    count: int
    positions: tuple[int, ...]
    snippet: str
    highlights: tuple[Span, ...]  # spans inside snippet

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "count": self.count,
            "positions": list(self.positions),
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
        }


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """The verdict for one topic on one document, with its evidence."""

    topic: str
    matched: bool
    score: float
    keywords: tuple[KeywordHit, ...]
    snippet: str
    highlights: tuple[Span, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "matched": self.matched,
            "score": self.score,
            "keywords": [k.to_json() for k in self.keywords],
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TopicMatch:
        """Inverse of to_json, for results read back from storage."""
        return cls(
            topic=str(data["topic"]),
            matched=bool(data["matched"]),
            score=float(data["score"]),
            keywords=tuple(
                KeywordHit(
                    tag=str(k["tag"]),
                    count=int(k["count"]),
                    positions=tuple(int(p) for p in k["positions"]),
                    snippet=str(k["snippet"]),
                    highlights=tuple((int(a), int(b)) for a, b in k["highlights"]),
                )
                for k in data["keywords"]
            ),
            snippet=str(data["snippet"]),
            highlights=tuple((int(a), int(b)) for a, b in data["highlights"]),
        )
