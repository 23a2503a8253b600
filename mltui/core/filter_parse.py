"""The filter language (SPEC §3): tokens, the syntax tree and the parser.

MLflow's search syntax, which users know, extended with ``or``, ``not``, parentheses and bare
words for full-text search (see :mod:`.query`, which compiles the tree to SQL).  A bad filter
raises :class:`FilterError` carrying the 1-based column of the offending token; nesting deeper
than ``MAX_FILTER_DEPTH`` is refused before Python's own stack would be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput

# --------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is IDENT, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA, END."""

    kind: str
    text: str
    value: Any
    pos: int  # 0-based offset in the filter text


class FilterError(InvalidInput):
    """A filter that does not parse or names something unknown; ``column`` is 1-based."""

    def __init__(self, text: str, pos: int, message: str):
        self.text = text
        self.column = pos + 1
        snippet = text[max(0, pos - 20): pos + 20]
        lead = "…" if pos > 20 else ""
        tail = "…" if pos + 20 < len(text) else ""
        super().__init__(f"bad filter at column {self.column}: {message}",
                         hint=f'near "{lead}{snippet}{tail}"' if text.strip() else
                         "the filter is empty")
        self.reason = message


_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null", "true", "false"}


# A quoted string: a doubled quote or a backslash before the quote or a backslash escapes.
# Each character has one reading (a backslash escapes only before the quote or a backslash; a
# closing quote is never followed by another), so the longest match is the only one.  (A
# template, not a function: the scanner is built once at import, where no mutant would run.)
_QUOTED = r"{q}(?:[^{q}\\]|\\[{q}\\]|\\(?![{q}\\])|{q}{q})*{q}(?!{q})"


# One scanner for the whole language.  The tokenizer matches it at the start of each token, and
# its loop walks the text's positions once, so no change to it can make it run forever.
# Order matters only where two alternatives start alike: a ``metrics.`key``` before a plain
# identifier, a closed quote before an unterminated one, a number before a word.
_TOKEN_RE = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in (
    ("SPACE", r"\s+"),
    ("LPAREN", r"\("),
    ("RPAREN", r"\)"),
    ("COMMA", ","),
    ("OP", r"!=|<>|>=|<=|==|=|>|<|~"),
    ("STRING", _QUOTED.format(q="'") + "|" + _QUOTED.format(q='"')),
    ("QUOTED_IDENT", _QUOTED.format(q="`")),
    ("UNTERMINATED", r"['\"`]"),
    ("NUMBER", r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"),
    # A backticked key may follow a dot: metrics.`mAP50(B)`
    ("DOTTED_IDENT", r"[A-Za-z_][A-Za-z0-9_./:\-]*\." + _QUOTED.format(q="`")),
    ("IDENT", r"[A-Za-z_][A-Za-z0-9_./:\-]*"),
    # full-text words may hold other characters (e.g. unicode punctuation)
    ("WORD", r"[^\s()=<>!,'\"`~]+"),
    ("STRAY", r"."),
)), re.DOTALL)
# Where a number match is no number (3e, 2fa, +3 after a name), the word it starts.
_WORD_RE = re.compile(r"(?P<WORD>[^\s()=<>!,'\"`~]+)")
_UNESCAPE = {quote: re.compile(rf"\\([{quote}\\])|{quote}{quote}") for quote in "'\"`"}
_PUNCTUATION = {"LPAREN", "RPAREN", "COMMA"}


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens; a stray character raises FilterError at its column."""
    tokens: list[Token] = []
    end = 0
    for start in range(len(text)):
        if start < end:
            continue  # inside the token read last
        match = _TOKEN_RE.match(text, start)
        if match.lastgroup == "NUMBER" and _is_word(text, match.end(), match.group(), tokens):
            match = _WORD_RE.match(text, start)
        kind, lexeme, end = match.lastgroup, match.group(), match.end()
        if kind == "STRAY":
            raise FilterError(text, start, f"unexpected character {lexeme!r}")
        if kind == "UNTERMINATED":
            what = "identifier" if lexeme == "`" else "string"
            raise FilterError(text, start, f"unterminated {what}: missing closing {lexeme}")
        if kind != "SPACE":
            tokens.append(_token(kind, lexeme, start))
    tokens.append(Token("END", "", None, len(text)))
    return tokens


def _is_word(text: str, end: int, number: str, tokens: list[Token]) -> bool:
    """True when a number match starts a word: 3e or 2fa, or a sign not after an operator."""
    if end < len(text) and (text[end].isalpha() or text[end] == "_"):
        return True
    return number.startswith(("+", "-")) and not _prev_wants_value(tokens)


def _token(kind: str, lexeme: str, start: int) -> Token:
    """The token for one scanner match (not a space, a stray character or an open quote)."""
    if kind in _PUNCTUATION:
        return Token(kind, lexeme, lexeme, start)
    if kind == "OP":
        return Token("OP", lexeme, {"==": "=", "<>": "!="}.get(lexeme, lexeme), start)
    if kind == "STRING":
        return Token("STRING", lexeme, _unquote(lexeme), start)
    if kind == "NUMBER":
        return Token("NUMBER", lexeme, float(lexeme), start)
    if kind == "QUOTED_IDENT":
        return Token("IDENT", lexeme, _unquote(lexeme), start)
    if kind == "DOTTED_IDENT":
        field_name, tick, key = lexeme.partition("`")
        return Token("IDENT", lexeme, field_name + _unquote(tick + key), start)
    return Token("IDENT", lexeme, lexeme, start)  # IDENT, WORD


def _prev_wants_value(tokens: list[Token]) -> bool:
    return bool(tokens) and tokens[-1].kind in ("OP", "LPAREN", "COMMA")


def _unquote(quoted: str) -> str:
    """The text of a quoted string or identifier as the scanner matched it, escapes resolved."""
    quote = quoted[0]
    return _UNESCAPE[quote].sub(lambda m: m.group(1) or quote, quoted[1:-1])


# --------------------------------------------------------------------------------------------
# Syntax tree


@dataclass
class Compare:
    """``entity.key op value`` (value is a number, a string, a list for IN, None for IS NULL)."""

    entity: str
    key: str
    op: str
    value: Any
    pos: int


@dataclass
class Words:
    """Bare words: full-text search."""

    words: list[str]
    pos: int


@dataclass
class BoolOp:
    """``and`` / ``or`` over two or more terms."""

    op: str
    terms: list[Any] = field(default_factory=list)


@dataclass
class Not:
    """``not term``."""

    term: Any


ENTITY_ALIASES = {
    "metrics": "metrics", "metric": "metrics", "m": "metrics",
    "params": "params", "param": "params", "p": "params",
    "tags": "tags", "tag": "tags", "t": "tags",
    "attributes": "attributes", "attribute": "attributes", "attr": "attributes", "a": "attributes",
    "datasets": "datasets", "dataset": "datasets", "data": "datasets",
}

# attribute name -> (column expression per scope, kind).  {v} is model_versions, {r} is runs.
ATTRIBUTES: dict[str, tuple[str | None, str, str]] = {
    # name: (versions-scope SQL, runs-scope SQL, kind)
    "status": ("r.status", "r.status", "text"),
    "run_name": ("r.name", "r.name", "text"),
    "run_id": ("r.uid", "r.uid", "text"),
    "experiment": ("r.project", "r.project", "text"),
    "project": ("r.project", "r.project", "text"),
    "user": ("r.user", "r.user", "text"),
    "commit": ("r.git_commit", "r.git_commit", "text"),
    "branch": ("r.git_branch", "r.git_branch", "text"),
    "format": ("r.source_format", "r.source_format", "text"),
    "start_time": ("r.start_time", "r.start_time", "time"),
    "end_time": ("r.end_time", "r.end_time", "time"),
    "name": ("v.canonical_name", "r.name", "text"),
    "canonical_name": ("v.canonical_name", None, "text"),
    "model": ("mo.name", None, "text"),
    "version": ("v.version", None, "number"),
    "created": ("v.created_at", "r.created_at", "time"),
    "created_by": ("v.created_by", None, "text"),
    "version_status": ("v.status", None, "text"),
    "artifact_hash": ("v.artifact_hash", None, "text"),
    "base_model": ("v.base_model", None, "text"),
    "stage": (None, None, "stage"),
}
_ATTRIBUTE_ALIASES = {"run_uuid": "run_id", "experiment_name": "experiment", "created_at": "created",
                      "git_commit": "commit", "source_format": "format", "alias": "stage",
                      "start": "start_time", "end": "end_time"}

DATASET_FIELDS = {"name": ("dv.name", "text"), "version": ("dv.version", "number"),
                  "digest": ("dv.hash", "text"), "hash": ("dv.hash", "text"),
                  "uri": ("dv.uri_raw", "text"), "path": ("dv.path", "text"),
                  "rows": ("dv.row_count", "number"),
                  # how the run used it: input, output, or the source's context (training ...)
                  "context": ("l.role", "text"), "role": ("l.role", "text")}


# Nested parentheses and `not`s past this are refused: the parser and compiler recurse once per
# level, and no real filter comes near it (5,000 parentheses would exhaust Python's stack).
MAX_FILTER_DEPTH = 64


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def nest(self, token: Token) -> None:
        """One level deeper (a '(' or a 'not'); refuses a filter nested past the limit."""
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise self.error(token, f"filter too deeply nested (max {MAX_FILTER_DEPTH})")

    # helpers
    def peek(self, offset: int = 0) -> Token:
        # Clamped to END; "+ 1" would differ only when peeking past END, which no caller does
        # (peek(1) is read from a field, never from END; peek(2) only after a "not" before END).
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]  # pragma: no mutate - see above

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_kw(self, token: Token, *words: str) -> bool:
        return token.kind == "IDENT" and token.text.lower() in words

    def error(self, token: Token, message: str) -> FilterError:
        return FilterError(self.text, token.pos, message)

    # grammar
    def parse(self) -> Any:
        if self.peek().kind == "END":
            raise self.error(self.peek(), "the filter is empty")
        node = self.or_expr()
        token = self.peek()
        if token.kind != "END":
            if token.kind == "RPAREN":
                raise self.error(token, "unmatched ')'")
            raise self.error(token, f"unexpected {token.text!r}")
        return node

    def or_expr(self) -> Any:
        terms = [self.and_expr()]
        for _ in self.tokens:  # each round takes a token: bounded even if a change broke take()
            if not self.is_kw(self.peek(), "or"):
                break
            self.take()
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else BoolOp("or", terms)

    def and_expr(self) -> Any:
        terms = [self.not_expr()]
        for _ in self.tokens:  # each round takes a term, so END ends the loop first
            token = self.peek()
            if self.is_kw(token, "and"):
                self.take()
                terms.append(self.not_expr())
            elif token.kind in ("IDENT", "LPAREN", "STRING") and not self.is_kw(token, "or"):
                terms.append(self.not_expr())  # adjacency means "and" (as in a search box)
            else:
                break
        return terms[0] if len(terms) == 1 else BoolOp("and", terms)

    def not_expr(self) -> Any:
        if self.is_kw(self.peek(), "not"):
            self.nest(self.take())
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Any:
        token = self.peek()
        if token.kind == "LPAREN":
            self.nest(self.take())
            if self.peek().kind == "RPAREN":
                raise self.error(self.peek(), "empty parentheses")
            node = self.or_expr()
            if self.peek().kind != "RPAREN":
                raise self.error(self.peek(), "missing ')'" if self.peek().kind == "END"
                                 else f"expected ')' but found {self.peek().text!r}")
            self.take()
            self.depth -= 1
            return node
        if token.kind == "STRING":  # a quoted phrase on its own: full-text
            self.take()
            return Words([token.value], token.pos)
        if token.kind == "IDENT":
            if self.is_kw(token, "and", "or") :
                raise self.error(token, f"{token.text!r} needs a condition before it")
            entity, dot, key = str(token.value).partition(".")
            if dot and entity.lower() in ENTITY_ALIASES and (key or self._next_is_operator()):
                return self.comparison(token, ENTITY_ALIASES[entity.lower()], key)
            if entity.lower() in _ATTRIBUTE_SHORTCUTS and self._next_is_operator():
                return self.comparison(token, "attributes", entity.lower())
            if "." in str(token.value) and self._next_is_operator():
                raise self.error(token, f"unknown field {token.value!r}: use metrics., params., "
                                        "tags., attributes. or datasets.")
            if self._next_is_operator():
                raise self.error(token, f"unknown field {token.value!r}: did you mean "
                                        f"metrics.{token.value} or params.{token.value}?")
            self.take()
            return Words([str(token.value)], token.pos)
        if token.kind == "END":
            raise self.error(token, "expected a condition but the filter ended")
        if token.kind == "RPAREN":
            raise self.error(token, "unmatched ')'")
        raise self.error(token, f"expected a condition, found {token.text!r}")

    def _next_is_operator(self) -> bool:
        nxt = self.peek(1)
        return nxt.kind == "OP" or self.is_kw(nxt, "in", "like", "ilike", "is") or (
            self.is_kw(nxt, "not") and self.is_kw(self.peek(2), "in", "like", "ilike"))

    def comparison(self, field_token: Token, entity: str, key: str) -> Compare:
        self.take()
        if not key:
            raise self.error(field_token, f"{entity}. needs a key, e.g. {entity}.f1")
        op_token = self.peek()
        negate = False  # pragma: no mutate - None is as false: only read by "if negate"
        if self.is_kw(op_token, "not"):
            self.take()
            negate = True
            op_token = self.peek()
            if not self.is_kw(op_token, "in", "like", "ilike"):
                raise self.error(op_token, "expected 'in', 'like' or 'ilike' after 'not'")
        if op_token.kind == "OP":
            self.take()
            if op_token.value == "~":
                raise self.error(op_token, "'~' is not an operator; use like or ilike")
            value = self.value(op_token)
            return Compare(entity, key, op_token.value, value, field_token.pos)
        if self.is_kw(op_token, "in"):
            self.take()
            values = self.value_list(op_token)
            return Compare(entity, key, "not in" if negate else "in", values, field_token.pos)
        if self.is_kw(op_token, "like", "ilike"):
            self.take()
            value_token = self.peek()
            if value_token.kind != "STRING":
                raise self.error(value_token, f"{op_token.text.lower()} needs a quoted pattern, "
                                              "e.g. '%bert%'")
            self.take()
            op = op_token.text.lower()
            return Compare(entity, key, f"not {op}" if negate else op, value_token.value,
                           field_token.pos)
        if self.is_kw(op_token, "is"):
            self.take()
            is_not = False  # pragma: no mutate - None is as false: only read by "if is_not"
            if self.is_kw(self.peek(), "not"):
                self.take()
                is_not = True
            if not self.is_kw(self.peek(), "null"):
                raise self.error(self.peek(), "expected 'null' after 'is'")
            self.take()
            return Compare(entity, key, "is not null" if is_not else "is null", None,
                           field_token.pos)
        if op_token.kind == "END":
            raise self.error(op_token, f"{field_token.value} needs an operator and a value, "
                                       "e.g. > 0.8")
        raise self.error(op_token, f"expected an operator (=, !=, >, >=, <, <=, in, like) after "
                                   f"{field_token.value}, found {op_token.text!r}")

    def value(self, after: Token) -> Any:
        token = self.peek()
        if token.kind in ("NUMBER", "STRING"):
            self.take()
            return token.value
        if self.is_kw(token, "true", "false"):
            self.take()
            return token.text.lower()
        if token.kind == "END":
            raise self.error(token, f"expected a number or a quoted string after {after.text!r}")
        if token.kind == "IDENT":
            raise self.error(token, f"expected a number or a quoted string, found {token.text!r}"
                                    f" (quote text values: '{token.text}')")
        raise self.error(token, f"expected a number or a quoted string, found {token.text!r}")

    def value_list(self, after: Token) -> list[Any]:
        if self.peek().kind != "LPAREN":
            raise self.error(self.peek(), "expected '(' after 'in', e.g. in ('a', 'b')")
        self.take()
        values = [self.value(after)]
        for _ in self.tokens:  # each round takes a comma and a value
            if self.peek().kind != "COMMA":
                break
            self.take()
            values.append(self.value(after))
        if self.peek().kind != "RPAREN":
            raise self.error(self.peek(), "expected ',' or ')' in the value list")
        self.take()
        return values


_ATTRIBUTE_SHORTCUTS = {"status", "stage", "model", "version", "commit", "experiment", "project",
                        "user", "branch", "format", "created", "alias"}


def parse_filter(text: str) -> Any:
    """Parse a filter into its syntax tree (raises FilterError)."""
    return _Parser(text).parse()
