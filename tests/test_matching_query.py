"""The query language: parsing, precedence, errors with positions, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.matching import QuerySyntaxError, TopicConfig, parse_query
from monitor.matching.query import And, Near, Node, Not, Or, Term, make_and, make_or

# ---- precedence and structure ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a OR b AND c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a AND b OR c", Or((And((Term("a"), Term("b"))), Term("c")))),
        ("NOT a AND b", And((Not(Term("a")), Term("b")))),
        ("a NOT b", And((Term("a"), Not(Term("b"))))),
        ("a AND NOT b", And((Term("a"), Not(Term("b"))))),
        ("(a OR b) AND c", And((Or((Term("a"), Term("b"))), Term("c")))),
        ("a AND (b AND c)", And((Term("a"), Term("b"), Term("c")))),
        ('"north korean" NEAR/10 workers', Near(Term("north korean", True), Term("workers"), 10)),
        ("(a OR b) NEAR/3 c", Near(Or((Term("a"), Term("b"))), Term("c"), 3)),
        ("title:kursk", Term("kursk", field="title")),
        ("title:(a OR b)", Or((Term("a", field="title"), Term("b", field="title")))),
        ('text:"student visa"', Term("student visa", True, "text")),
        ("рабоч*", Term("рабоч*")),
        ("“North Korean” AND workers", And((Term("North Korean", True), Term("workers")))),
        ("Nord-Korea*", Term("Nord-Korea*")),
    ],
)
def test_parse_structure(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


# ---- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "expected_fragment"),
    [
        ("(north OR korea AND", 19, "a term"),
        ("(north OR korea AND x", 21, '")"'),
        ("north korea", 6, "AND, OR"),
        ("north and korea", 6, "upper-case"),
        ("a OR", 4, "a term"),
        ("", 0, "a term"),
        ("a)", 1, "unbalanced"),
        ('"open phrase', 12, "closing"),
        ("titel:x", 0, "field name"),
        ("a NEAR b", 2, "NEAR/n"),
        ("a NEAR/3 (b AND c)", 9, "OR-group"),
        ("a NEAR/3 b NEAR/3 c", 11, "cannot be chained"),
        ("x*", 1, "2 characters"),
        ('""', 1, "letters or digits"),
        ("()", 1, "a term"),
        (":x", 0, "before ':'"),
        ("title:title:x", 6, "after title:"),
        ("title:(text:x)", 7, "not a field"),
    ],
)
def test_errors_point_at_the_problem(query: str, position: int, expected_fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.position == position
    assert expected_fragment in info.value.expected
    assert str(info.value).startswith(f"at position {position}: expected ")


def test_error_message_format_for_unclosed_paren() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("(student OR visa")
    assert str(info.value) == 'at position 16: expected ")" but found end of query'
    assert info.value.caret("(student OR visa").splitlines()[1] == " " * 16 + "^"


def test_bad_query_fails_at_config_load_with_position() -> None:
    with pytest.raises(ValueError, match=r"at position 8: expected") as info:
        TopicConfig(name="t", query="(a OR b c")
    assert "^" in str(info.value)


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query("(" * 500 + "a" + ")" * 500)
    with pytest.raises(QuerySyntaxError):
        parse_query("NOT " * 500 + "a")


# ---- property tests ----------------------------------------------------------------

_WORD = st.text(
    alphabet=st.sampled_from(list("abcxyzéöяжш北朝鮮북한0123-'.")), min_size=2, max_size=8
).filter(lambda w: any(c.isalnum() for c in w) and w not in ("OR", "AND", "NOT"))
_TERM = st.builds(
    lambda w, star, quoted, field: Term(
        w + ("*" if star and w[-2:].isalnum() else ""), quoted, field
    ),
    _WORD,
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, None, "title", "text"]),
)
_PHRASE = st.builds(
    lambda a, b, field: Term(f"{a} {b}", True, field),
    _WORD,
    _WORD,
    st.sampled_from([None, "title"]),
)
_ATOM = st.one_of(_TERM, _PHRASE)
_POSITIONAL = st.one_of(_ATOM, st.lists(_ATOM, min_size=2, max_size=3).map(make_or))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(make_and),
        st.lists(children, min_size=2, max_size=3).map(make_or),
        children.map(Not),
        st.builds(Near, _POSITIONAL, _POSITIONAL, st.integers(0, 50)),
    )


_TREES = st.recursive(_ATOM, _extend, max_leaves=12)


@given(_TREES)
@settings(max_examples=300, deadline=None)
def test_round_trip(tree: Node) -> None:
    """Rendering a tree and parsing it again gives the same tree."""
    assert parse_query(str(tree)) == tree


_QUERY_CHARS = st.sampled_from(
    [*'abc北 ()"“”:*-/', "AND", "OR", "NOT", "NEAR/3", "NEAR", "title:", " ", " "]
)


@given(st.lists(_QUERY_CHARS, max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_any_input_parses_or_raises_query_syntax_error(query: str) -> None:
    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)
    else:
        assert parse_query(str(tree)) == tree


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_never_crashes(query: str) -> None:
    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(query)


def test_caret_shows_the_line_of_a_multiline_query() -> None:
    query = "(a OR\n  b AND (c OR d)\n"
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.position == len(query)
    assert info.value.caret(query) == "line 2:   b AND (c OR d)\n" + " " * 24 + "^"
