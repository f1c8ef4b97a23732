"""Exact dedup: canonical URLs and content fingerprints (pure).

Near-duplicates and stories are monitor/story_index.py and story_verify.py; this module
answers only "is this the same URL?" and "is this the same text?", cheaply and
deterministically.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "cmpid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "ocid",
        "smid",
        "sref",
        "rss",
        "ftag",
        "__twitter_impression",
        "spm",
        "share",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_", "oly_", "vero_", "wt_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


@functools.lru_cache(maxsize=8192)
def canonicalize_url(url: str) -> str:
    """Normalise a URL so that trivially different spellings of one page compare equal.

    Cached: one page's URLs are canonicalised several times on their way through the
    crawler (request filter, dedup keys, the store's lookups), ~60 us each.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters and
    empty queries, sorts the remaining parameters, normalises percent-encoding. The path's
    case and trailing slash are kept: servers treat them as different resources.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if host else host
    port = parts.port if parts.port is not None else None
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    query_pairs.sort()
    query = urlencode(query_pairs, doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_key(url: str) -> str:
    """The lookup key of a URL in storage: a hash of its canonical form."""
    return hashlib.sha1(canonicalize_url(url).encode("utf-8")).hexdigest()


def normalize_text(text: str) -> str:
    """Text reduced to what identical copies share: case, punctuation and spacing folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _WS.sub(" ", text).strip()


MIN_FINGERPRINT_WORDS = 5


def content_fingerprint(text: str, title: str = "") -> str:
    """Hash of the article's substantive lines: equal for one article under two URLs.

    Lines shorter than a sentence (bylines, datelines, captions) and the headline repeated
    in the body are left out: syndicating sites change exactly those and keep the rest.
    """
    skip = normalize_text(title)
    lines = [normalize_text(line) for line in text.splitlines()]
    kept = [ln for ln in lines if ln != skip and len(ln.split()) >= MIN_FINGERPRINT_WORDS]
    if not kept:
        kept = [normalize_text(text)]
    return hashlib.sha1("\n".join(kept).encode("utf-8")).hexdigest()
