"""Full-text narrowing for archive search: which articles may match a query.

The caller passes conjunctive groups of literal terms (every match contains at least
one term of each group; a term is a word, a phrase with spaces, or a prefix ending in
``*``). Only groups whose every term the index can represent are used: dropping a group
keeps the candidates a superset of the matches, which the caller then tests exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, text
from sqlalchemy.orm import Session

from storage.models import Article

# Words the default tokenizers split the same way the query language does: letters and
# digits of alphabetic scripts. Scripts written without spaces (CJK, kana, hangul) and
# terms with punctuation are left to the exact test.
_SAFE_WORD = re.compile(r"^[^\W_]+$")
_NO_SPACE_SCRIPTS = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def _term_words(term: str) -> tuple[list[str], bool] | None:
    prefix = term.endswith("*")
    words = term.rstrip("*").split()
    if not words or _NO_SPACE_SCRIPTS.search(term) or "ё" in term.lower():
        return None
    if not all(_SAFE_WORD.match(w) for w in words):
        return None
    return words, prefix


def usable_groups(groups: Sequence[Sequence[str]]) -> list[list[tuple[list[str], bool]]]:
    out = []
    for group in groups:
        parsed = [_term_words(t) for t in group]
        if parsed and all(p is not None for p in parsed):
            out.append([p for p in parsed if p is not None])
    return out


def _fts5_query(groups: list[list[tuple[list[str], bool]]]) -> str:
    clauses = []
    for group in groups:
        alts = []
        for words, prefix in group:
            phrase = '"' + " ".join(words) + '"'
            alts.append(phrase + ("*" if prefix else ""))
        clauses.append("(" + " OR ".join(alts) + ")")
    return " AND ".join(clauses)


def _tsquery(groups: list[list[tuple[list[str], bool]]]) -> str:
    clauses = []
    for group in groups:
        alts = []
        for words, prefix in group:
            parts = [w.lower() for w in words]
            if prefix:
                parts[-1] += ":*"
            alts.append("(" + " <-> ".join(parts) + ")")
        clauses.append("(" + " | ".join(alts) + ")")
    return " & ".join(clauses)


def candidate_ids(
    session: Session,
    groups: Sequence[Sequence[str]],
    *,
    since: datetime | None = None,
    limit: int = 2000,
) -> list[int] | None:
    """Ids of articles that may match, best full-text rank first; None: cannot narrow."""
    usable = usable_groups(groups)
    if not usable:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = (
            "SELECT a.id FROM articles_fts f JOIN articles a ON a.id = f.rowid "
            "WHERE articles_fts MATCH :q AND a.duplicate_of_id IS NULL"
        )
        params: dict[str, object] = {"q": _fts5_query(usable), "limit": limit}
        if since is not None:
            sql += " AND a.first_seen >= :since"
            params["since"] = since.replace(tzinfo=None)
        sql += " ORDER BY bm25(articles_fts) LIMIT :limit"
        return [int(r[0]) for r in session.execute(text(sql), params)]
    if dialect == "postgresql":
        # A stored generated column (migration 0008): nothing is recomputed per row.
        vector: ColumnElement[Any] = literal_column("articles.search_vector")
        query = func.to_tsquery("simple", _tsquery(usable))
        stmt = (
            select(Article.id)
            .where(vector.op("@@")(query), Article.duplicate_of_id.is_(None))
            .order_by(func.ts_rank(vector, query).desc(), Article.id.desc())
            .limit(limit)
        )
        if since is not None:
            stmt = stmt.where(Article.first_seen >= since)
        return [int(i) for i in session.scalars(stmt)]
    return None


def recent_ids(session: Session, *, since: datetime | None = None, limit: int = 20000) -> list[int]:
    """The newest articles, for queries the index cannot narrow."""
    stmt = select(Article.id).where(Article.duplicate_of_id.is_(None))
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    return [int(i) for i in session.scalars(stmt.order_by(Article.id.desc()).limit(limit))]


def load_articles(session: Session, ids: Sequence[int]) -> list[Article]:
    found: list[Article] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found.extend(session.scalars(select(Article).where(Article.id.in_(chunk))))
    return found


def load_texts(session: Session, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(id, title, text) of the candidates: the exact test needs no more than that, and
    building thousands of full rows cost more than testing them."""
    found: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows = session.execute(
            select(Article.id, Article.title, Article.text).where(Article.id.in_(chunk))
        )
        found.extend((int(i), title or "", body or "") for i, title, body in rows)
    return found
