from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.dedup import canonicalize_url, content_fingerprint, url_key


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTP://Example.COM:80/a/b?utm_source=x&b=2&a=1#frag", "http://example.com/a/b?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://ex.org/news?fbclid=abc&gclid=def&id=7", "https://ex.org/news?id=7"),
        ("https://ex.org/a%7Eb", "https://ex.org/a~b"),
        ("https://EX.org./Path/Keeps/Case/", "https://ex.org/Path/Keeps/Case/"),
        (
            "https://пример.рф/новости",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
        ),
        ("  https://ex.org/x?utm_medium=rss&utm_campaign=y  ", "https://ex.org/x"),
    ],
)
def test_canonicalize_url(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical


def test_tracking_variants_share_one_key() -> None:
    assert url_key("https://ex.org/a?utm_source=rss") == url_key("https://EX.org/a#top")
    assert url_key("https://ex.org/a?id=1") != url_key("https://ex.org/a?id=2")


@given(st.text())
def test_canonicalize_is_idempotent_on_any_url(path: str) -> None:
    url = "https://ex.org/" + path
    try:
        once = canonicalize_url(url)
    except ValueError:
        return
    assert canonicalize_url(once) == once


def test_fingerprint_ignores_headline_byline_and_spacing() -> None:
    body = (
        "Hundreds of workers arrived this year on student visas, records show.\n"
        "Most of their wages are paid to companies controlled by the state."
    )
    a = "Workers sent abroad\nBy Jane Roe\n" + body
    b = "Report: labourers enter as students\nWire staff, 20 Nov\n" + body.replace(" ", "  ")
    assert content_fingerprint(a, "Workers sent abroad") == content_fingerprint(
        b, "Report: labourers enter as students"
    )


def test_fingerprint_differs_for_a_changed_sentence() -> None:
    a = "One two three four five six seven.\nEight nine ten eleven twelve thirteen."
    b = "One two three four five six seven.\nEight nine ten eleven twelve fourteen."
    assert content_fingerprint(a) != content_fingerprint(b)
