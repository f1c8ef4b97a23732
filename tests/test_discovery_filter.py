"""filter_links: skip old, foreign and known links before fetching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.discovery import DiscoveredLink, filter_links

NOW = datetime(2025, 1, 10, 12, tzinfo=UTC)


def test_filter_links_reasons_counted() -> None:
    links = [
        DiscoveredLink("https://a.example/new", published=NOW - timedelta(days=1), language="ko"),
        DiscoveredLink("https://a.example/old", published=NOW - timedelta(days=9)),
        DiscoveredLink("https://a.example/undated"),
        DiscoveredLink("https://a.example/zh", published=NOW, language="zh-cn"),
        DiscoveredLink("https://a.example/fr", published=NOW, language="fr"),
        DiscoveredLink("https://a.example/known", published=NOW),
    ]
    stored = {"https://a.example/known"}
    result = filter_links(
        links, now=NOW, max_age_days=3, languages=["ko", "zh", "en"], known=stored.__contains__
    )
    assert [link.url for link in result.kept] == [
        "https://a.example/new",
        "https://a.example/undated",
        "https://a.example/zh",
    ]
    assert (result.too_old, result.other_language, result.known) == (1, 1, 1)


def test_since_is_the_later_cutoff_and_no_filters_keep_all() -> None:
    links = [DiscoveredLink("https://a.example/1", published=NOW - timedelta(days=2))]
    assert filter_links(links, now=NOW).kept == tuple(links)
    assert filter_links(links, now=NOW, max_age_days=30, since=NOW - timedelta(days=1)).too_old == 1
    assert filter_links(links, now=NOW, since=NOW - timedelta(days=5)).kept == tuple(links)
