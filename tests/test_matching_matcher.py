"""The matcher: terms, phrases, wildcards, NEAR, fields, scripts, keyword hits, explain."""

from __future__ import annotations

import json

import pytest

from monitor.matching import (
    KeywordHit,
    KeywordSpec,
    Matcher,
    TopicConfig,
    TopicMatch,
    compile_query,
)


def matches(query: str, title: str, text: str = "") -> bool:
    return compile_query(query).matches(title, text)


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # whole words in alphabetic scripts
        ("visa", "a student visa", True),
        ("visa", "two visas", False),
        ("visa", "avisa", False),
        ("visa*", "two visas", True),
        ("2397", "resolution 2397.", True),
        ("2397", "resolution 23975", False),
        # phrases, punctuation and hyphens
        ('"north korean"', "North-Korean workers", True),
        ('"north korean"', "NORTH KOREAN workers", True),
        ('"north korean"', "the north. Korean workers", False),
        ('"workers\' party"', "the Workers’ Party of Korea", True),
        ("Nord-Korea*", "Nordkoreaner in Russland", True),
        ("Nord-Korea*", "die Nord-Korea-Frage", True),
        ("Nord-Korea*", "Nord Korea", True),
        ('"n. korea"', "N. Korea sends workers", True),
        # wildcards inside words and phrases
        ("labo*r*", "labourers", True),
        ("labo*r*", "laborious", True),
        ("labo*r", "labour", True),
        ("labo*r", "laboratory", False),
        ('"учебн* виз*"', "по учебным визам", True),
        ('"учебн* виз*"', "учебные программы и визы", False),
        # diacritics: optional unless written
        ("coreen*", "travailleurs nord-coréens", True),
        ("coréen*", "travailleurs nord-coreens", False),
        ("coréen*", "travailleurs nord-coréens", True),
        ("ёлка", "Елка", True),
        ("polnocn*", "Korei Północnej", True),
        # CJK: no word boundaries, optional spaces, Korean particles
        ("북한", "북한노동자들이 일한다", True),
        ('"북한 노동자"', "북한 노동자들이", True),
        ('"북한 노동자"', "북한노동자", True),
        ("北朝鮮", "北朝鮮労働者", True),
        ("朝鲜劳工", "朝鲜族劳工", False),
        ("IT", "IT업체", False),  # a Latin term still needs a word boundary
        # boolean structure
        ("kursk AND NOT troops", "Kursk reconstruction", True),
        ("kursk AND NOT troops", "troops in Kursk", False),
        ("NOT troops", "anything", True),
        ("(a1 OR b1) AND c1", "b1 c1", True),
    ],
)
def test_query_semantics(query: str, text: str, expected: bool) -> None:
    assert matches(query, "", text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("North Korean construction workers arrived", True),  # 1 word between
        ("workers, most of them North Korean, arrived", True),  # either order
        ("North Korean officials said that in the coming year many more workers", False),
        ("북한 출신 노동자", True),  # CJK/Hangul words counted
    ],
)
def test_near(text: str, expected: bool) -> None:
    q = '("north korean" OR 북한) NEAR/3 (worker* OR 노동자)'
    assert matches(q, "", text) is expected


def test_near_counts_each_cjk_character_as_a_word() -> None:
    assert matches("北朝鮮 NEAR/3 労働者", "", "北朝鮮の派遣労働者")
    assert not matches("北朝鮮 NEAR/3 労働者", "", "北朝鮮から来たとされる多くの労働者")


def test_field_restriction() -> None:
    assert matches("title:kursk", "Kursk rebuilt", "nothing here")
    assert not matches("title:kursk", "Nothing here", "Kursk rebuilt")
    assert matches("text:kursk", "Nothing here", "Kursk rebuilt")
    assert not matches("text:kursk", "Kursk rebuilt", "nothing")


def test_phrase_never_spans_title_and_text() -> None:
    assert not matches('"north korean"', "In the North", "Korean workers")


def _topic(**kw: object) -> TopicConfig:
    base: dict[str, object] = {
        "name": "nk",
        "query": '"north korean" NEAR/5 worker*',
        "keywords": [
            {"tag": "student visa", "terms": ['"student visa*"', '"учебн* виз*"']},
            {"tag": "Kursk", "terms": ["kursk", "курск*"]},
        ],
    }
    base.update(kw)
    return TopicConfig.model_validate(base)


def test_keyword_hits_positions_snippets_highlights() -> None:
    matcher = Matcher.compile([_topic()])
    title = "North Korean workers in Kursk"
    text = "They came on student visas. Later more came to Kursk."
    [result] = matcher.match(title, text)
    assert result.matched and result.score > 0
    doc = f"{title}\n\n{text}"
    tags = {k.tag: k for k in result.keywords}
    kursk = tags["Kursk"]
    assert kursk.count == 2
    assert [doc[p : p + 5] for p in kursk.positions] == ["Kursk", "Kursk"]
    for start, end in kursk.highlights:
        assert kursk.snippet[start:end] == "Kursk"
    visa = tags["student visa"]
    assert visa.count == 1
    (s, e) = visa.highlights[0]
    assert visa.snippet[s:e] == "student visas"
    assert any(result.snippet[s:e] == "North Korean" for s, e in result.highlights)


def test_unmatched_topic_with_keyword_is_reported_with_zero_score() -> None:
    matcher = Matcher.compile([_topic()])
    [result] = matcher.match("Troops in Kursk", "")
    assert not result.matched and result.score == 0.0
    assert [k.tag for k in result.keywords] == ["Kursk"]
    assert matcher.match("Nothing relevant", "at all") == []


def test_results_sorted_by_topic_and_one_pass_for_all() -> None:
    topics = [
        _topic(name="zeta", query="kursk"),
        _topic(name="alpha", query="worker*"),
        TopicConfig(name="mid", query="seafood"),
    ]
    matcher = Matcher.compile(topics)
    assert matcher.topics == ["alpha", "mid", "zeta"]
    results = matcher.match("Workers in Kursk", "")
    assert [r.topic for r in results] == ["alpha", "zeta"]


def test_topic_matching_everything_but_a_term() -> None:
    matcher = Matcher.compile([TopicConfig(name="quiet", query="NOT noise")])
    assert [r.topic for r in matcher.match("calm", "day")] == ["quiet"]
    assert matcher.match("noise", "") == []


def test_title_hits_weigh_more() -> None:
    matcher = Matcher.compile([TopicConfig(name="t", query="seafood")])
    body = "Plenty of unrelated words here to pad the article. " * 5
    [in_title] = matcher.match("Seafood plants", body + " seafood")
    [in_body] = matcher.match("Plants", body + " seafood seafood")
    assert in_title.score > in_body.score
    assert 0 < in_body.score < 1


def test_to_json_round_trip() -> None:
    matcher = Matcher.compile([_topic()])
    [result] = matcher.match("North Korean workers", "in Kursk on student visas")
    data = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert TopicMatch.from_json(data) == result
    assert isinstance(result.keywords[0], KeywordHit)


def test_offsets_survive_expanding_characters() -> None:
    """ß -> ss and a soft hyphen shift normalised offsets; reported ones stay original."""
    matcher = Matcher.compile([TopicConfig(name="t", query="kursk", keywords=[])])
    matcher = Matcher.compile(
        [_topic(name="t", query="kursk", keywords=[{"tag": "k", "terms": ["kursk"]}])]
    )
    title = "Große Stra\u00adße"
    text = "Arbeiter in Kursk"
    [result] = matcher.match(title, text)
    doc = f"{title}\n\n{text}"
    pos = result.keywords[0].positions[0]
    assert doc[pos : pos + 5] == "Kursk"


def test_explain_shows_clauses_and_hits() -> None:
    matcher = Matcher.compile([_topic()])
    out = matcher.explain("North Korean workers", "sent to Kursk", "nk")
    assert "topic 'nk': MATCHED" in out
    assert "[x] NEAR/5" in out
    assert "title@0 «North Korean»" in out
    assert "Kursk ×1" in out and "[[Kursk]]" in out
    miss = matcher.explain("Troops", "in Kursk")
    assert "not matched" in miss and "[ ] NEAR/5" in miss and "no hit" in miss
    with pytest.raises(KeyError):
        matcher.explain("a", "b", "missing")


def test_compiled_query_terms_and_narrowing() -> None:
    q = compile_query('"North Korean" AND (worker* OR labo*r*) AND NOT troops')
    assert q.terms() == ["north korean", "worker*", "labo*"]
    assert q.narrowing() == [["north korean"], ["labo*", "worker*"]]
    assert compile_query("NOT x").narrowing() == []
    hit = q.match("North Korean labourers", "")
    assert hit is not None and hit.matched
    assert q.match("troops", "") is None


def test_duplicate_topic_names_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        Matcher.compile([TopicConfig(name="a", query="x1"), TopicConfig(name="a", query="y1")])


def test_config_rejects_unknown_fields_and_bad_keyword_terms() -> None:
    with pytest.raises(ValueError):
        TopicConfig.model_validate({"name": "a", "query": "x", "colour": "red"})
    with pytest.raises(ValueError, match="position"):
        KeywordSpec(tag="t", terms=["(a OR"])


def test_decomposed_title_keeps_title_and_body_apart() -> None:
    q = compile_query("title:kursk AND text:cafe*")
    assert q.matches("Cafe\u0301 Kursk", "le cafe\u0301 du coin")
    assert not q.matches("Cafe\u0301", "Kursk cafe")
