"""Topic matching: the query language, normalisation, one-pass matching and explanations.

Pure: no I/O, no Scrapy, no storage. See docs/relevance.md, "Topic matching".
"""

from .matcher import Matcher
from .models import KeywordHit, KeywordSpec, TopicConfig, TopicMatch, TopicsFile
from .normalize import normalize, normalize_document
from .query import QuerySyntaxError, parse_query
from .search import CompiledQuery, compile_query

__all__ = [
    "CompiledQuery",
    "KeywordHit",
    "KeywordSpec",
    "Matcher",
    "QuerySyntaxError",
    "TopicConfig",
    "TopicMatch",
    "TopicsFile",
    "compile_query",
    "normalize",
    "normalize_document",
    "parse_query",
]
