"""The filter language (SPEC §3) compiled to parameterised SQL, and sort keys (the parser is
:mod:`.filter_parse`).

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
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import InvalidInput
from .filter_parse import (ATTRIBUTES, BoolOp, Compare, DATASET_FIELDS, ENTITY_ALIASES,
                           FilterError, Not, Words, _ATTRIBUTE_ALIASES, parse_filter)

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


# Module level, so mutmut makes no letter-case mutants of them (SQLite ignores keyword case).
VERSIONS_FROM = ("model_versions v JOIN models mo ON mo.id = v.model_id "
                 "LEFT JOIN runs r ON r.id = v.run_id")
RUNS_FROM = "runs r"


def base_from(scope: str) -> str:
    """The FROM clause a compiled filter expects."""
    return VERSIONS_FROM if scope == "versions" else RUNS_FROM


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
                           if v[0 if scope == "versions" else 1])  # stage has no column: not listed
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
