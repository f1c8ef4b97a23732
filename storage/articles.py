"""Repository functions for articles, their URLs and matches. The caller owns the session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from storage.bulk import insert_url_aliases
from storage.models import Article, ArticleUrl, Match, utcnow


@dataclass(frozen=True)
class MatchRecord:
    """One topic's verdict on one article, as stored."""

    topic: str
    matched: bool
    score: float
    keywords: list[dict[str, Any]] = field(default_factory=list)
    snippet: str = ""


@dataclass(frozen=True)
class NewArticle:
    """An extracted article ready to store; ``url_hashes`` are every URL that led to it."""

    url_hash: str
    canonical_url: str
    url: str
    source: str
    fingerprint: str
    title: str = ""
    text: str = ""
    description: str = ""
    authors: tuple[str, ...] = ()
    language: str | None = None
    site_name: str | None = None
    published: datetime | None = None
    first_seen: datetime | None = None
    url_hashes: tuple[str, ...] = ()


def known_url_hashes(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of ``hashes`` already lead to a stored article (batched IN queries)."""
    return set(article_ids_by_url_hash(session, hashes))


def article_id_by_url_hash(session: Session, url_hash: str) -> int | None:
    return session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url_hash == url_hash))


def article_ids_by_url_hash(session: Session, hashes: Iterable[str]) -> dict[str, int]:
    """The stored article each known URL leads to (batched IN queries)."""
    wanted = list(dict.fromkeys(hashes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(ArticleUrl.url_hash, ArticleUrl.article_id).where(ArticleUrl.url_hash.in_(chunk))
        )
        found.update((h, a) for h, a in rows)
    return found


def original_by_fingerprint(session: Session, fingerprint: str) -> Article | None:
    """The first stored copy with this text, if any."""
    return originals_by_fingerprint(session, (fingerprint,)).get(fingerprint)


def originals_by_fingerprint(session: Session, fingerprints: Iterable[str]) -> dict[str, Article]:
    """The first stored copy of each text that has one (batched IN queries)."""
    wanted = list(dict.fromkeys(fingerprints))
    found: dict[str, Article] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for article in session.scalars(
            select(Article)
            .where(Article.fingerprint.in_(chunk), Article.duplicate_of_id.is_(None))
            .order_by(Article.id)
        ):
            found.setdefault(article.fingerprint, article)
    return found


def add_article(
    session: Session,
    new: NewArticle,
    matches: Sequence[MatchRecord],
    duplicate_of: Article | None = None,
) -> Article:
    """Add an article, its URLs and matches; flushed (it has an id), not committed."""
    article = Article(
        url_hash=new.url_hash,
        canonical_url=new.canonical_url,
        url=new.url,
        source=new.source,
        fingerprint=new.fingerprint,
        title=new.title,
        text=new.text,
        description=new.description,
        authors=list(new.authors),
        language=new.language,
        site_name=new.site_name,
        published=new.published,
        first_seen=new.first_seen or utcnow(),
        duplicate_of_id=duplicate_of.id if duplicate_of is not None else None,
        story_id=duplicate_of.story_id if duplicate_of is not None else None,
    )
    session.add(article)
    session.flush()
    add_url_aliases(session, article.id, (new.url_hash, *new.url_hashes))
    for m in matches:
        article.matches.append(
            Match(
                topic=m.topic,
                matched=m.matched,
                score=m.score,
                keywords=m.keywords,
                snippet=m.snippet,
            )
        )
    session.flush()
    return article


def add_url_aliases(session: Session, article_id: int, hashes: Iterable[str]) -> None:
    """Remember URLs for a stored article (canonical, as listed, after redirects); a URL
    already known keeps its first article."""
    insert_url_aliases(session, ((h, article_id) for h in hashes))


def replace_matches(
    session: Session, article_id: int, topics: Sequence[str] | None, matches: Sequence[MatchRecord]
) -> None:
    """Swap the stored matches of one article (for ``rematch``): ``topics`` None means all."""
    stmt = delete(Match).where(Match.article_id == article_id)
    if topics is not None:
        stmt = stmt.where(Match.topic.in_(list(topics)))
    session.execute(stmt)
    for m in matches:
        session.add(
            Match(
                article_id=article_id,
                topic=m.topic,
                matched=m.matched,
                score=m.score,
                keywords=m.keywords,
                snippet=m.snippet,
            )
        )


def list_articles(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    topic: str | None = None,
    matched_only: bool = False,
    include_duplicates: bool = False,
    limit: int | None = None,
) -> list[Article]:
    """Stored articles, newest first seen first, with their matches loaded."""
    stmt = select(Article)
    if not include_duplicates:
        stmt = stmt.where(Article.duplicate_of_id.is_(None))
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    if until is not None:
        stmt = stmt.where(Article.first_seen < until)
    if topic is not None or matched_only:
        cond = Match.article_id == Article.id
        if topic is not None:
            cond = cond & (Match.topic == topic)
        if matched_only:
            cond = cond & Match.matched.is_(True)
        stmt = stmt.where(exists().where(cond))
    stmt = stmt.order_by(Article.first_seen.desc(), Article.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def iter_article_ids(session: Session, since: datetime | None = None) -> list[int]:
    stmt = select(Article.id).order_by(Article.id)
    if since is not None:
        stmt = stmt.where(Article.first_seen >= since)
    return list(session.scalars(stmt))
