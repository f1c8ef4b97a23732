"""The boolean query language: tokens, syntax tree and a recursive-descent parser.

Grammar (operators are upper-case; precedence NEAR > NOT > AND > OR)::

    query    := or_expr END
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (("AND" | "AND NOT" | "NOT") unary)*     a NOT b == a AND NOT b
    unary    := "NOT" unary | near
    near     := primary ["NEAR/n" primary]                    operands: terms or OR-groups
    primary  := [("title" | "text") ":"] (TERM | "PHRASE" | "(" or_expr ")")

Two terms side by side without an operator are an error rather than an implicit AND or
OR: the tools analysts come from disagree on that default, so we make them say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import is_cjk, normalize_pattern

FIELDS = ("title", "text")
OPERATORS = ("AND", "OR", "NOT")
_QUOTE_CHARS = '"\u201c\u201d\u201e\u201f\u00ab\u00bb'
_SPECIAL = set("():") | set(_QUOTE_CHARS)
_NEAR = re.compile(r"NEAR/(\d+)$")
MAX_DEPTH = 50


class QuerySyntaxError(ValueError):
    """A malformed query: where it went wrong (0-based character offset) and what was due."""

    def __init__(self, position: int, expected: str, found: str) -> None:
        self.position = position
        self.expected = expected
        self.found = found
        super().__init__(f"at position {position}: expected {expected} but found {found}")

    def caret(self, query: str) -> str:
        """The query line holding the error, with a caret under the position."""
        position = self.position
        if not query[position:].strip():  # at the end: show the last written line
            query = query.rstrip()
            position = min(position, len(query))
        line_start = query.rfind("\n", 0, position) + 1
        line_end = query.find("\n", position)
        line = query[line_start : len(query) if line_end == -1 else line_end]
        column = position - line_start
        lo = max(0, column - 60)
        where = f"line {query.count(chr(10), 0, line_start) + 1}: " if "\n" in query else ""
        return f"{where}{line[lo : column + 60]}\n{' ' * (len(where) + column - lo)}^"


# ---- syntax tree -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A word, prefix (``рабоч*``) or quoted phrase, optionally restricted to a field."""

    text: str
    quoted: bool = False
    field: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.field}:" if self.field else ""
        if self.quoted or not _is_bare(self.text):
            return f'{prefix}"{self.text}"'
        return prefix + self.text


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {_wrap(self.child, (Term, Not))}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(_wrap(c, (Term, Not, Near)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_wrap(c, (Term, Not, Near)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides within ``distance`` words of each other, in either order."""

    left: Node
    right: Node
    distance: int

    def __str__(self) -> str:
        return f"{_wrap(self.left, (Term,))} NEAR/{self.distance} {_wrap(self.right, (Term,))}"


Node = Term | Not | And | Or | Near


def _wrap(node: Node, bare: tuple[type, ...]) -> str:
    return str(node) if isinstance(node, bare) else f"({node})"


def _is_bare(text: str) -> bool:
    return (
        bool(text)
        and not any(ch in _SPECIAL or ch.isspace() for ch in text)
        and text not in OPERATORS
        and not _NEAR.match(text)
    )


def is_positional(node: Node) -> bool:
    """Terms and OR-groups of terms have positions, so NEAR can measure between them."""
    if isinstance(node, Term):
        return True
    return isinstance(node, Or) and all(is_positional(c) for c in node.children)


def iter_terms(node: Node) -> list[Term]:
    """All terms of a tree, left to right."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return iter_terms(node.child)
    if isinstance(node, Near):
        return iter_terms(node.left) + iter_terms(node.right)
    return [t for c in node.children for t in iter_terms(c)]


def make_and(children: list[Node]) -> Node:
    """An AND node, flattened (AND inside AND is one AND)."""
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, And) else (c,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def make_or(children: list[Node]) -> Node:
    """An OR node, flattened."""
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, Or) else (c,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


# ---- tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # WORD PHRASE LPAREN RPAREN FIELD AND OR NOT NEAR END
    text: str
    pos: int
    distance: int = 0


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens; typographic quotes count as straight quotes."""
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token("LPAREN" if ch == "(" else "RPAREN", ch, i))
            i += 1
        elif ch in _QUOTE_CHARS:
            j = i + 1
            while j < n and query[j] not in _QUOTE_CHARS:
                j += 1
            if j >= n:
                raise QuerySyntaxError(n, 'a closing "', "end of query")
            tokens.append(Token("PHRASE", query[i + 1 : j], i))
            i = j + 1
        elif ch == ":":
            raise QuerySyntaxError(i, "a term before ':' (title: or text:)", "':'")
        else:
            j = i
            while j < n and not (query[j].isspace() or query[j] in _SPECIAL):
                j += 1
            word = query[i:j]
            if j < n and query[j] == ":":
                if word not in FIELDS:
                    raise QuerySyntaxError(i, "a field name (title: or text:)", f'"{word}:"')
                tokens.append(Token("FIELD", word, i))
                j += 1
            elif word in OPERATORS:
                tokens.append(Token(word, word, i))
            elif m := _NEAR.match(word):
                tokens.append(Token("NEAR", word, i, int(m.group(1))))
            elif word.startswith("NEAR"):
                raise QuerySyntaxError(
                    i, "NEAR/n with a number of words, like NEAR/10", f'"{word}"'
                )
            else:
                tokens.append(Token("WORD", word, i))
            i = j
    tokens.append(Token("END", "", n))
    return tokens


# ---- parser ------------------------------------------------------------------------


def _describe(tok: Token) -> str:
    if tok.kind == "END":
        return "end of query"
    if tok.kind == "PHRASE":
        return f'"{tok.text}"'
    return f'"{tok.text}"' if tok.kind != "FIELD" else f'"{tok.text}:"'


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = tokenize(query)
        self.i = 0
        self.depth = 0
        self.in_field = False  # inside title:( ... )

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.tok.pos, expected, _describe(self.tok))

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self.fail("a term, a phrase or '('")
        node = self.or_expr()
        if self.tok.kind != "END":
            raise self._after_operand("end of query")
        return node

    def _after_operand(self, closing: str) -> QuerySyntaxError:
        tok = self.tok
        if tok.kind == "RPAREN" and closing != '")"':
            return self.fail(f"AND, OR, NOT, NEAR/n or {closing} (unbalanced ')')")
        hint = ""
        if tok.kind in ("WORD", "PHRASE", "FIELD", "LPAREN"):
            hint = " between terms (no implicit AND/OR; quote a phrase)"
            if tok.kind == "WORD" and tok.text.upper() in ("AND", "OR", "NOT"):
                hint = " (operators are upper-case)"
        if tok.kind == "END":
            return self.fail(closing)
        return self.fail(f"AND, OR, NOT, NEAR/n or {closing}{hint}")

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.tok.kind == "OR":
            self.take()
            children.append(self.and_expr())
        return make_or(children)

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.tok.kind in ("AND", "NOT"):
            if self.take().kind == "AND" and self.tok.kind != "NOT":
                children.append(self.unary())
            else:
                if self.tok.kind == "NOT":
                    self.take()
                children.append(Not(self.unary()))
        return make_and(children)

    def unary(self) -> Node:
        if self.tok.kind == "NOT":
            self.take()
            self.enter()
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.near()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"at most {MAX_DEPTH} nested parentheses or NOTs")

    def near(self) -> Node:
        start = self.tok
        left = self.primary(None)
        if self.tok.kind != "NEAR":
            return left
        op = self.take()
        right_tok = self.tok
        right = self.primary(None)
        for side, tok in ((left, start), (right, right_tok)):
            if not is_positional(side):
                raise QuerySyntaxError(
                    tok.pos, "a term, phrase or OR-group of terms around NEAR", "a group"
                )
        if self.tok.kind == "NEAR":
            raise self.fail("AND or OR (NEAR cannot be chained)")
        return Near(left, right, op.distance)

    def primary(self, field: str | None) -> Node:
        tok = self.tok
        if tok.kind == "FIELD":
            if field is not None or self.in_field:
                raise self.fail("a term, not a field inside a field restriction")
            self.take()
            if self.tok.kind not in ("WORD", "PHRASE", "LPAREN"):
                raise self.fail(f"a term, a phrase or '(' after {tok.text}:")
            return self.primary(tok.text)
        if tok.kind == "LPAREN":
            self.take()
            self.enter()
            if self.tok.kind == "RPAREN":
                raise self.fail("a term, a phrase or '('")
            outer, self.in_field = self.in_field, self.in_field or field is not None
            node = self.or_expr()
            self.in_field = outer
            if self.tok.kind != "RPAREN":
                raise self._after_operand('")"')
            self.take()
            self.depth -= 1
            return _with_field(node, field, tok) if field else node
        if tok.kind in ("WORD", "PHRASE"):
            self.take()
            _check_term(tok)
            return Term(tok.text, tok.kind == "PHRASE", field)
        raise self.fail("a term, a phrase or '('")


def _with_field(node: Node, field: str, tok: Token) -> Node:
    if isinstance(node, Term):
        if node.field is not None:
            raise QuerySyntaxError(tok.pos, "a term, not a field inside a field", "a field")
        return Term(node.text, node.quoted, field)
    if isinstance(node, Not):
        return Not(_with_field(node.child, field, tok))
    if isinstance(node, Near):
        return Near(
            _with_field(node.left, field, tok), _with_field(node.right, field, tok), node.distance
        )
    children = [_with_field(c, field, tok) for c in node.children]
    return make_and(children) if isinstance(node, And) else make_or(children)


def _check_term(tok: Token) -> None:
    """Reject terms the matcher could not use: empty, or a wildcard with no prefix."""
    offset = tok.pos + (1 if tok.kind == "PHRASE" else 0)
    norm = normalize_pattern(tok.text)
    if not norm.replace("*", "").strip():
        raise QuerySyntaxError(offset, "a term with letters or digits", _describe(tok))
    for word in norm.split(" "):
        star = word.find("*")
        if star == -1:
            continue
        prefix = word[:star]
        if len(prefix) < 2 and not (prefix and _cjk(prefix)):
            raise QuerySyntaxError(
                offset + max(tok.text.find("*"), 0),
                "at least 2 characters before '*'",
                _describe(tok),
            )


def _cjk(text: str) -> bool:
    return all(is_cjk(c) for c in text)


def parse_query(text: str) -> Node:
    """Parse a query into its syntax tree; raise QuerySyntaxError if it is malformed."""
    return _Parser(text).parse()
