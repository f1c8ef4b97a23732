"""The pure, CPU-heavy work on one page, done in the crawler's extraction processes.

Extraction, the content fingerprint and the story signature depend only on the page, so
they run where the page is extracted; the crawler process keeps the network and the
database. Keeping them together also means one round trip per page to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from monitor.dedup import content_fingerprint
from monitor.extract import ExtractedArticle, extract_article
from monitor.story_features import StorySignature, signature


@dataclass(frozen=True)
class AnalysedPage:
    article: ExtractedArticle
    fingerprint: str
    signature: StorySignature


def analyse_page(
    html: str, url: str, feed_title: str | None = None, feed_published: datetime | None = None
) -> AnalysedPage | None:
    """Extract the article and compute what dedup and stories need; None: no article."""
    article = extract_article(html, url)
    if article is None:
        return None
    if not article.title and feed_title:
        article = replace(article, title=feed_title)
    if article.published is None and feed_published is not None:
        article = replace(article, published=feed_published)
    return AnalysedPage(
        article=article,
        fingerprint=content_fingerprint(article.text, article.title),
        signature=signature(article.title, article.text, article.published),
    )
