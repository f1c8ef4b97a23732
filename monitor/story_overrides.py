"""The user's corrections, as the assigner applies them when it places an article.

`newsmon stories --split` and `--merge` record pairs of articles to keep apart or
together (storage.story_overrides). They matter when an article that a correction names
is placed again, which is what `newsmon restory` does: a new article names none. Pure:
the caller gives the partners' current stories.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from storage.story_overrides import OverrideRow


@dataclass(slots=True)
class StoryOverrides:
    """Corrections by article: the partners to keep apart from, or together with."""

    apart: dict[int, set[int]] = field(default_factory=dict)
    together: dict[int, set[int]] = field(default_factory=dict)
    generation: int = 0

    @classmethod
    def of(cls, rows: Iterable[OverrideRow]) -> StoryOverrides:
        out = cls()
        for row in rows:
            table = out.apart if row.kind == "apart" else out.together
            table.setdefault(row.article_id, set()).add(row.other_id)
            table.setdefault(row.other_id, set()).add(row.article_id)
            out.generation = max(out.generation, row.id)
        return out

    def between(self, a: int, b: int) -> str | None:
        """The correction recorded for the pair, if any: "apart" or "together"."""
        if b in self.apart.get(a, ()):
            return "apart"
        return "together" if b in self.together.get(a, ()) else None

    def placement(
        self, article_id: int, stories: Callable[[Collection[int]], dict[int, int | None]]
    ) -> tuple[int | None, frozenset[int]]:
        """Where a correction puts ``article_id``: the story of a placed partner it must
        be together with (None: no such story), and the stories it must stay out of.

        An "apart" correction always holds: a story holding a partner to keep apart from
        is never joined, not even to be with a "together" partner in it. ``stories`` gives
        the current story of article ids (None: not placed yet).
        """
        apart = self.apart.get(article_id, set())
        together = self.together.get(article_id, set())
        if not apart and not together:
            return None, frozenset()
        current = stories(apart | together)
        excluded = frozenset(s for a in apart if (s := current.get(a)) is not None)
        joins = sorted(
            s for a in together if (s := current.get(a)) is not None and s not in excluded
        )
        return (joins[0] if joins else None), excluded
