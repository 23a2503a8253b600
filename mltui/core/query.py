"""The filter language (SPEC §3) compiled to parameterised SQL, and sort keys.

MLflow's search syntax, which users know, extended with ``or``, ``not``, parentheses and bare
words for full-text search::

    metrics.f1 > 0.8 and params.lr = '0.01' and tags.team = 'vision'
    attributes.status = 'FINISHED' or (datasets.name = 'reviews' and not tags.flaky = 'yes')
    params.optimizer in ('adam', 'sgd') and metrics.`mAP50(B)` >= 0.5
    fraud baseline                       (full-text words over names, tags and docs)

User text never reaches SQL as text: every value becomes a ``?`` parameter and every key is
compared as a parameter, so a filter cannot inject SQL.  A bad filter raises
:class:`FilterError` carrying the 1-based column of the offending token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
_OPS = ("!=", "<>", ">=", "<=", "==", "=", ">", "<", "~")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_./:\-]*")
_WORD_RE = re.compile(r"[^\s()=<>!,'\"`~]+")


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens; a stray character raises FilterError at its column."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            tokens.append(Token("LPAREN", ch, ch, i)); i += 1; continue
        if ch == ")":
            tokens.append(Token("RPAREN", ch, ch, i)); i += 1; continue
        if ch == ",":
            tokens.append(Token("COMMA", ch, ch, i)); i += 1; continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token("OP", op, {"==": "=", "<>": "!="}.get(op, op), i))
            i += len(op)
            continue
        if ch in "'\"":
            value, end = _read_quoted(text, i, ch)
            tokens.append(Token("STRING", text[i:end], value, i))
            i = end
            continue
        if ch == "`":
            value, end = _read_quoted(text, i, "`")
            tokens.append(Token("IDENT", text[i:end], value, i))
            i = end
            continue
        number = _NUMBER_RE.match(text, i)
        if number and (ch.isdigit() or ch == "." or (ch in "+-" and _prev_wants_value(tokens))):
            end = number.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                word = _WORD_RE.match(text, i)  # e.g. 3e or 2fa: a word, not a number
                tokens.append(Token("IDENT", word.group(), word.group(), i))
                i = word.end()
                continue
            literal = number.group()
            tokens.append(Token("NUMBER", literal, float(literal), i))
            i = end
            continue
        ident = _IDENT_RE.match(text, i)
        if ident:
            word = ident.group()
            # A backticked key may follow a dot: metrics.`mAP50(B)`
            if word.endswith(".") and ident.end() < n and text[ident.end()] == "`":
                value, end = _read_quoted(text, ident.end(), "`")
                tokens.append(Token("IDENT", text[i:end], word + value, i))
                i = end
                continue
            tokens.append(Token("IDENT", word, word, i))
            i = ident.end()
            continue
        word = _WORD_RE.match(text, i)
        if word:  # full-text words may hold other characters (e.g. unicode punctuation)
            tokens.append(Token("IDENT", word.group(), word.group(), i))
            i = word.end()
            continue
        raise FilterError(text, i, f"unexpected character {ch!r}")
    tokens.append(Token("END", "", None, n))
    return tokens


def _prev_wants_value(tokens: list[Token]) -> bool:
    return bool(tokens) and tokens[-1].kind in ("OP", "LPAREN", "COMMA")


def _read_quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """Read a quoted string; a doubled quote or a backslash escapes the quote."""
    out = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1]); i += 2; continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote); i += 2; continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    what = "identifier" if quote == "`" else "string"
    raise FilterError(text, start, f"unterminated {what}: missing closing {quote}")


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
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

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
        while self.is_kw(self.peek(), "or"):
            self.take()
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else BoolOp("or", terms)

    def and_expr(self) -> Any:
        terms = [self.not_expr()]
        while True:
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
        negate = False
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
            is_not = False
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
        while self.peek().kind == "COMMA":
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


# --------------------------------------------------------------------------------------------
# Compilation


@dataclass
class Compiled:
    """A compiled filter: a WHERE fragment and its parameters."""

    where: str
    params: list[Any]


SCOPES = ("versions", "runs")


def compile_filter(text: str | None, scope: str = "versions") -> Compiled:
    """Compile a filter for ``scope`` (``versions`` or ``runs``) to SQL.

    The fragment refers to the aliases of :func:`base_from`: ``v`` (model_versions), ``mo``
    (models) and ``r`` (runs).  An empty filter compiles to ``1``.
    """
    if scope not in SCOPES:
        raise ValueError(scope)
    if text is None or not text.strip():
        return Compiled("1", [])
    tree = parse_filter(text)
    params: list[Any] = []
    sql = _Compiler(text, scope, params).node(tree)
    return Compiled(sql, params)


def base_from(scope: str) -> str:
    """The FROM clause a compiled filter expects."""
    if scope == "versions":
        return ("model_versions v JOIN models mo ON mo.id = v.model_id "
                "LEFT JOIN runs r ON r.id = v.run_id")
    return "runs r"


class _Compiler:
    def __init__(self, text: str, scope: str, params: list[Any]):
        self.text = text
        self.scope = scope
        self.params = params

    def node(self, node: Any) -> str:
        if isinstance(node, BoolOp):
            joiner = " AND " if node.op == "and" else " OR "
            return "(" + joiner.join(self.node(term) for term in node.terms) + ")"
        if isinstance(node, Not):
            return f"(NOT COALESCE({self.node(node.term)}, 0))"
        if isinstance(node, Words):
            return self.words(node)
        return self.compare(node)

    def run_id(self) -> str:
        return "v.run_id" if self.scope == "versions" else "r.id"  # pragma: no mutate - r.id = v.run_id (joined), SQL names ignore case

    def words(self, node: Words) -> str:
        terms = []
        for word in node.words:
            for part in re.findall(r"\w+", word, flags=re.UNICODE):  # pragma: no mutate - str patterns are Unicode anyway
                terms.append('"' + part.replace('"', '""') + '"*')  # pragma: no mutate - a \w+ part holds no quote
        if not terms:
            raise FilterError(self.text, node.pos, "nothing searchable in this word")
        kind = "version" if self.scope == "versions" else "run"
        ref = "v.id" if self.scope == "versions" else "r.id"
        self.params.extend([kind, " ".join(terms)])
        return (f"{ref} IN (SELECT st.ref_id FROM search_text st JOIN search_text_fts f "
                f"ON f.rowid = st.rowid WHERE st.kind = ? AND search_text_fts MATCH ?)")

    def compare(self, node: Compare) -> str:
        if node.entity == "metrics":
            return self.metric(node)
        if node.entity == "params":
            return self.keyed(node, "params", "run_id", self.run_id(), numeric_cast=True)  # pragma: no mutate - SQL names ignore case
        if node.entity == "tags":
            return self.tags(node)
        if node.entity == "datasets":
            return self.dataset(node)
        return self.attribute(node)

    def check_number(self, node: Compare, what: str) -> None:
        values = node.value if isinstance(node.value, list) else [node.value]
        for value in values:
            if node.op in ("is null", "is not null"):
                return
            if not isinstance(value, float):
                raise FilterError(self.text, node.pos,
                                  f"{what} compares with numbers, not {value!r}")

    def metric(self, node: Compare) -> str:
        key, column = node.key, "last"  # pragma: no mutate - SQL names ignore case
        for suffix in (".min", ".max", ".last"):  # metrics.loss.min: the best value logged
            if key.endswith(suffix) and len(key) > len(suffix):
                key, column = key[: -len(suffix)], suffix[1:]
        if node.op in ("like", "ilike", "not like", "not ilike"):
            raise FilterError(self.text, node.pos, "metrics compare with numbers; like is for "
                                                   "params, tags and attributes")
        self.check_number(node, f"metrics.{node.key}")
        self.params.append(key)
        if node.op in ("is null", "is not null"):
            exists = (f"EXISTS (SELECT 1 FROM metric_summary ms WHERE ms.run_id = {self.run_id()}"
                      f" AND ms.key = ? AND ms.{column} IS NOT NULL)")
            return f"NOT {exists}" if node.op == "is null" else exists
        condition = self.operator(f"ms.{column}", node)
        return (f"EXISTS (SELECT 1 FROM metric_summary ms WHERE ms.run_id = {self.run_id()} "
                f"AND ms.key = ? AND {condition})")

    def operator(self, column: str, node: Compare, numeric_cast: bool = False) -> str:
        """``column OP ?`` with the value(s) appended to params in placeholder order.

        ``numeric_cast`` is for text columns holding numbers (params): a number literal then
        compares numerically, and only with values that are numbers.
        """
        op, value = node.op, node.value
        if op in ("in", "not in"):
            marks = ", ".join("?" for _ in value)
            numeric = numeric_cast and all(isinstance(v, float) for v in value)
            self.params.extend(value)
            target = f"CAST({column} AS REAL)" if numeric else column
            if numeric_cast and not numeric:
                self.params[-len(value):] = [_as_text(v) for v in value]
            return f"{target} {'NOT IN' if op == 'not in' else 'IN'} ({marks})"  # pragma: no mutate - SQL keywords ignore case
        if op in ("like", "not like", "ilike", "not ilike"):
            negate = op.startswith("not ")
            if op.endswith("ilike"):
                expr = f"{column} LIKE ?"  # SQLite's LIKE ignores (ASCII) case: ILIKE
                self.params.append(value)
            else:
                expr = f"{column} GLOB ?"  # case-sensitive LIKE, as MLflow's
                self.params.append(like_to_glob(value))
            return f"NOT COALESCE({expr}, 0)" if negate else expr
        if numeric_cast and isinstance(value, float):
            self.params.append(value)
            return (f"(CAST({column} AS REAL) {op} ? AND {column} GLOB '*[0-9]*' "
                    f"AND TRIM({column}) NOT GLOB '*[^0-9eE.+-]*')")
        self.params.append(_as_text(value) if numeric_cast else value)  # pragma: no mutate - _as_text only changes floats, handled above
        return f"{column} {op} ?"

    def keyed(self, node: Compare, table: str, id_column: str, ref: str,
              numeric_cast: bool = False) -> str:
        if node.op == "is null":
            self.params.append(node.key)
            return f"NOT EXISTS (SELECT 1 FROM {table} x WHERE x.{id_column} = {ref} AND x.key = ?)"
        if node.op == "is not null":
            self.params.append(node.key)
            return f"EXISTS (SELECT 1 FROM {table} x WHERE x.{id_column} = {ref} AND x.key = ?)"
        # As in MLflow, a run without the key matches neither = nor !=.
        self.params.append(node.key)
        condition = self.operator("x.value", node, numeric_cast=numeric_cast)
        return (f"EXISTS (SELECT 1 FROM {table} x WHERE x.{id_column} = {ref} AND x.key = ? "
                f"AND {condition})")

    def tags(self, node: Compare) -> str:
        run_part = self.keyed(node, "run_tags", "run_id", self.run_id())  # pragma: no mutate - SQL names ignore case
        if self.scope == "runs":
            return run_part
        version_part = self.keyed(node, "version_tags", "version_id", "v.id")  # pragma: no mutate - SQL names ignore case
        if node.op == "is null":
            return f"({version_part} AND {run_part})"
        return f"({version_part} OR {run_part})"

    def dataset(self, node: Compare) -> str:
        field_info = DATASET_FIELDS.get(node.key.lower())
        if field_info is None:
            raise FilterError(self.text, node.pos, f"unknown dataset field {node.key!r}: use "
                                                   f"{', '.join('datasets.' + k for k in DATASET_FIELDS)}")
        column, kind = field_info
        if kind == "number":
            self.check_number(node, f"datasets.{node.key}")
        if node.op in ("is null", "is not null"):
            exists = (f"EXISTS (SELECT 1 FROM lineage l JOIN dataset_versions dv ON dv.id = l.src_id"
                      f" WHERE l.src_kind = 'dataset' AND l.dst_kind = 'run' AND "
                      f"l.dst_id = {self.run_id()} AND {column} IS NOT NULL)")
            return f"NOT {exists}" if node.op == "is null" else exists
        condition = self.operator(column, node)
        return (f"EXISTS (SELECT 1 FROM lineage l JOIN dataset_versions dv ON dv.id = l.src_id "
                f"WHERE l.src_kind = 'dataset' AND l.dst_kind = 'run' AND l.dst_id = {self.run_id()}"
                f" AND {condition})")

    def attribute(self, node: Compare) -> str:
        name = _ATTRIBUTE_ALIASES.get(node.key.lower(), node.key.lower())
        info = ATTRIBUTES.get(name)
        if info is None:
            known = sorted(k for k, v in ATTRIBUTES.items()
                           if v[0 if self.scope == "versions" else 1] or v[2] == "stage")
            raise FilterError(self.text, node.pos,
                              f"unknown attribute {node.key!r}: use one of {', '.join(known)}")
        versions_sql, runs_sql, kind = info
        if kind == "stage":
            if self.scope != "versions":
                raise FilterError(self.text, node.pos, "stages belong to versions, not runs")
            if node.op in ("is null", "is not null"):
                exists = "EXISTS (SELECT 1 FROM stages sg WHERE sg.version_id = v.id)"
                return f"NOT {exists}" if node.op == "is null" else exists
            condition = self.operator("sg.stage", node)  # pragma: no mutate - SQL names ignore case
            return f"EXISTS (SELECT 1 FROM stages sg WHERE sg.version_id = v.id AND {condition})"
        column = versions_sql if self.scope == "versions" else runs_sql
        if column is None:
            raise FilterError(self.text, node.pos, f"attributes.{name} applies to versions, not runs")
        if node.op in ("is null", "is not null"):
            return f"{column} {node.op.upper()}"
        if kind == "number":
            self.check_number(node, f"attributes.{name}")
        if kind == "time":
            node = Compare(node.entity, node.key, node.op, self.to_time(node), node.pos)  # pragma: no mutate - only op and value are read
        if name == "status" and isinstance(node.value, str):
            column = f"UPPER({column})"
            node = Compare(node.entity, node.key, node.op, node.value.upper(), node.pos)  # pragma: no mutate - only op and value are read
        elif name == "status" and isinstance(node.value, list):
            column = f"UPPER({column})"
            node = Compare(node.entity, node.key, node.op, [str(v).upper() for v in node.value],  # pragma: no mutate - only op and value are read
                           node.pos)  # pragma: no mutate - only op and value are read
        return self.operator(column, node)

    def to_time(self, node: Compare) -> Any:
        def convert(value: Any) -> float:
            if isinstance(value, float):
                return value / 1000.0 if value > 1e11 else value  # ms since epoch (MLflow)
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                raise FilterError(self.text, node.pos, f"{value!r} is not a date; write "
                                                       "'2026-01-31' or '2026-01-31T12:00'") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
        if isinstance(node.value, list):
            return [convert(v) for v in node.value]
        return convert(node.value)


def _as_text(value: Any) -> Any:
    """A number literal compared with a text column: 0.01 matches '0.01', 5.0 matches '5'."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``%``, ``_``) to a case-sensitive GLOB pattern."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Sorting


@dataclass
class SortKey:
    """A parsed ``--sort``: an entity, a key and a direction."""

    entity: str
    key: str
    descending: bool

    def label(self) -> str:
        """How the sort is shown to the user."""
        return f"{'-' if self.descending else ''}{self.entity}.{self.key}"


def parse_sort(text: str | None, scope: str = "versions") -> SortKey | None:
    """Parse ``metrics.loss``, ``-metrics.f1``, ``metrics.f1 desc`` or ``created``."""
    if not text or not text.strip():
        return None
    raw = text.strip()
    descending = False
    lowered = raw.lower()
    if lowered.endswith(" desc"):
        raw, descending = raw[:-5].strip(), True
    elif lowered.endswith(" asc"):
        raw = raw[:-4].strip()
    if raw.startswith("-"):
        raw, descending = raw[1:], True
    elif raw.startswith("+"):
        raw = raw[1:]
    if raw.startswith("`") and raw.endswith("`"):
        raw = raw[1:-1]
    entity, _, key = raw.partition(".")
    entity = ENTITY_ALIASES.get(entity.lower(), "") if key else ""  # pragma: no mutate - without a key or alias: attributes below
    if not key:
        entity, key = "attributes", raw
    if entity == "attributes":
        key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
        info = ATTRIBUTES.get(key)
        if info is None or info[2] == "stage" or info[0 if scope == "versions" else 1] is None:  # pragma: no mutate - stage has no column either
            known = sorted(k for k, v in ATTRIBUTES.items()
                           if v[2] != "stage" and v[0 if scope == "versions" else 1])  # pragma: no mutate - stage has no column either
            raise InvalidInput(f"cannot sort by {text.strip()!r}",
                               hint=f"sort by metrics.<key>, params.<key> or one of {', '.join(known)}")
    elif entity not in ("metrics", "params"):
        raise InvalidInput(f"cannot sort by {text.strip()!r}",
                           hint="sort by metrics.<key>, params.<key> or an attribute such as created")
    return SortKey(entity, key, descending)


def sort_sql(sort: SortKey | None, scope: str, params: list[Any]) -> tuple[str, str]:
    """``(join, order by)`` for a sort key; parameters are appended to ``params``.

    Missing values sort last in both directions, then newest first, so paging is stable.
    """
    ref = "v" if scope == "versions" else "r"
    run_id = "v.run_id" if scope == "versions" else "r.id"
    tiebreak = f"{ref}.id DESC"
    if sort is None:
        return "", tiebreak
    direction = "DESC" if sort.descending else "ASC"
    if sort.entity == "metrics":
        params.append(sort.key)
        join = f"LEFT JOIN metric_summary so ON so.run_id = {run_id} AND so.key = ?"
        return join, f"so.last IS NULL, so.last {direction}, {tiebreak}"
    if sort.entity == "params":
        params.append(sort.key)
        join = f"LEFT JOIN params so ON so.run_id = {run_id} AND so.key = ?"
        # numbers in numeric order, text after them in text order
        return join, (f"so.value IS NULL, (CAST(so.value AS REAL) = 0 AND TRIM(so.value) NOT GLOB "
                      f"'*[0-9]*'), CAST(so.value AS REAL) {direction}, so.value {direction}, "
                      f"{tiebreak}")
    column = ATTRIBUTES[sort.key][0 if scope == "versions" else 1]
    return "", f"{column} IS NULL, {column} {direction}, {tiebreak}"
