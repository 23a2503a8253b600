"""The filter compiler pinned exactly (mutation testing of mltui/core/query.py, docs/testing.md).

Errors are compared as the whole line a user reads (message, column and the snippet around
it), tokens and syntax trees field by field, and filters by the exact set they select, so a
changed word, bound, operator or flag fails a test.
"""

from __future__ import annotations

import pytest

from mltui.core.catalog import Catalog
from mltui.core.errors import InvalidInput
from mltui.core.filter_parse import (
    ATTRIBUTES, DATASET_FIELDS, BoolOp, Compare, FilterError, Not, Token, Words, parse_filter,
    tokenize,
)
from mltui.core.query import _as_text, base_from, compile_filter, parse_sort, sort_sql


def _line(text: str, scope: str = "versions") -> str:
    with pytest.raises(FilterError) as info:
        compile_filter(text, scope)
    return info.value.one_line()


def _known(scope: str) -> str:
    index = 0 if scope == "versions" else 1
    return ", ".join(sorted(k for k, v in ATTRIBUTES.items() if v[index] or v[2] == "stage"))


@pytest.mark.parametrize("text,line", [
    ("metrics.f1 > 0.8)", "bad filter at column 17: unmatched ')'; near \"metrics.f1 > 0.8)\""),
    (")", "bad filter at column 1: unmatched ')'; near \")\""),
    ("a = 1", "bad filter at column 1: unknown field 'a': did you mean metrics.a or params.a?; "
              "near \"a = 1\""),
    ("metrics.f1 > ", "bad filter at column 14: expected a number or a quoted string after '>'; "
                      "near \"metrics.f1 > \""),
    ("metrics.f1", "bad filter at column 11: metrics.f1 needs an operator and a value, e.g. > 0.8;"
                   " near \"metrics.f1\""),
    ("metrics. > 1", "bad filter at column 1: metrics. needs a key, e.g. metrics.f1; "
                     "near \"metrics. > 1\""),
    ("(", "bad filter at column 2: expected a condition but the filter ended; near \"(\""),
    ("()", "bad filter at column 2: empty parentheses; near \"()\""),
    ("(metrics.f1 > 1", "bad filter at column 16: missing ')'; near \"(metrics.f1 > 1\""),
    ("(metrics.f1 > 1 ,", "bad filter at column 17: expected ')' but found ','; "
                          "near \"(metrics.f1 > 1 ,\""),
    ("and x", "bad filter at column 1: 'and' needs a condition before it; near \"and x\""),
    ("OR x", "bad filter at column 1: 'OR' needs a condition before it; near \"OR x\""),
    ("foo.bar = 1", "bad filter at column 1: unknown field 'foo.bar': use metrics., params., "
                    "tags., attributes. or datasets.; near \"foo.bar = 1\""),
    ("metrics.f1 ~ 1", "bad filter at column 12: '~' is not an operator; use like or ilike; "
                       "near \"metrics.f1 ~ 1\""),
    ("metrics.f1 = x", "bad filter at column 14: expected a number or a quoted string, found 'x' "
                       "(quote text values: 'x'); near \"metrics.f1 = x\""),
    ("metrics.f1 = ,", "bad filter at column 14: expected a number or a quoted string, found ',';"
                       " near \"metrics.f1 = ,\""),
    ("metrics.f1 in 1", "bad filter at column 15: expected '(' after 'in', e.g. in ('a', 'b'); "
                        "near \"metrics.f1 in 1\""),
    ("metrics.f1 in (1 2)", "bad filter at column 18: expected ',' or ')' in the value list; "
                            "near \"metrics.f1 in (1 2)\""),
    ("params.x like 1", "bad filter at column 15: like needs a quoted pattern, e.g. '%bert%'; "
                        "near \"params.x like 1\""),
    ("params.x ILIKE 1", "bad filter at column 16: ilike needs a quoted pattern, e.g. '%bert%'; "
                         "near \"params.x ILIKE 1\""),
    ("params.x not = 1", "bad filter at column 14: expected 'in', 'like' or 'ilike' after 'not'; "
                         "near \"params.x not = 1\""),
    ("params.x is 1", "bad filter at column 13: expected 'null' after 'is'; "
                      "near \"params.x is 1\""),
    ("metrics.f1 , 1", "bad filter at column 12: expected an operator (=, !=, >, >=, <, <=, in, "
                       "like) after metrics.f1, found ','; near \"metrics.f1 , 1\""),
    ("'abc", "bad filter at column 1: unterminated string: missing closing '; near \"'abc\""),
    ("\"abc", "bad filter at column 1: unterminated string: missing closing \"; near \"\"abc\""),
    ("'x\\'", "bad filter at column 1: unterminated string: missing closing '; near \"'x\\'\""),
    ("'x\\", "bad filter at column 1: unterminated string: missing closing '; near \"'x\\\""),
    ("'a''", "bad filter at column 1: unterminated string: missing closing '; near \"'a''\""),
    ("`abc", "bad filter at column 1: unterminated identifier: missing closing `; near \"`abc\""),
    ("metrics.`a", "bad filter at column 9: unterminated identifier: missing closing `; "
                   "near \"metrics.`a\""),
    ("metrics.f1 > 1 $", "bad filter at column 16: nothing searchable in this word; "
                         "near \"metrics.f1 > 1 $\""),
    ("metrics.f1 like 'x'", "bad filter at column 1: metrics compare with numbers; like is for "
                            "params, tags and attributes; near \"metrics.f1 like 'x'\""),
    ("metrics.f1 not ilike 'x'", "bad filter at column 1: metrics compare with numbers; like is "
                                 "for params, tags and attributes; near \"metrics.f1 not ilike…\""),
    ("metrics.f1 not like 'x'", "bad filter at column 1: metrics compare with numbers; like is "
                                "for params, tags and attributes; near \"metrics.f1 not like …\""),
    ("metrics.f1 ilike 'x'", "bad filter at column 1: metrics compare with numbers; like is "
                             "for params, tags and attributes; near \"metrics.f1 ilike 'x'\""),
    ("params.x in (", "bad filter at column 14: expected a number or a quoted string after 'in'; "
                      "near \"params.x in (\""),
    ("params.x in (1,", "bad filter at column 16: expected a number or a quoted string after "
                        "'in'; near \"params.x in (1,\""),
    ("metrics.f1 = 'x'", "bad filter at column 1: metrics.f1 compares with numbers, not 'x'; "
                         "near \"metrics.f1 = 'x'\""),
    ("metrics.f1 = true", "bad filter at column 1: metrics.f1 compares with numbers, not 'true'; "
                          "near \"metrics.f1 = true\""),
    ("datasets.rows = 'x'", "bad filter at column 1: datasets.rows compares with numbers, not 'x';"
                            " near \"datasets.rows = 'x'\""),
    ("attributes.version = 'x'", "bad filter at column 1: attributes.version compares with "
                                 "numbers, not 'x'; near \"attributes.version =…\""),
    ("attributes.created > 'notadate'", "bad filter at column 1: 'notadate' is not a date; write "
                                        "'2026-01-31' or '2026-01-31T12:00'; near \"attributes.created >…\""),
    ("!!!", "bad filter at column 1: unexpected character '!'; near \"!!!\""),
    ("=", "bad filter at column 1: expected a condition, found '='; near \"=\""),
])
def test_bad_filter_reads_exactly(text, line) -> None:
    assert _line(text) == line


def test_errors_that_depend_on_the_scope() -> None:
    assert _line("attributes.nope = 1") == (
        f"bad filter at column 1: unknown attribute 'nope': use one of {_known('versions')}; "
        "near \"attributes.nope = 1\"")
    assert _line("attributes.nope = 1", "runs") == (
        f"bad filter at column 1: unknown attribute 'nope': use one of {_known('runs')}; "
        "near \"attributes.nope = 1\"")
    assert "artifact_hash" in _known("versions") and "artifact_hash" not in _known("runs")
    assert "stage" in _known("runs")
    assert _line("attributes.stage = 'x'", "runs") == (
        "bad filter at column 1: stages belong to versions, not runs; near \"attributes.stage = '…\"")
    assert _line("model = 'x'", "runs") == (
        "bad filter at column 1: attributes.model applies to versions, not runs; "
        "near \"model = 'x'\"")
    fields = ", ".join("datasets." + k for k in DATASET_FIELDS)
    assert _line("datasets.foo = 1") == (
        f"bad filter at column 1: unknown dataset field 'foo': use {fields}; near \"datasets.foo = 1\"")
    with pytest.raises(ValueError):
        compile_filter("x", "models")


def test_the_snippet_is_cut_twenty_characters_each_side() -> None:
    at_20 = "a" * 20 + " $"  # '$' at offset 21: a lead ellipsis only from offset 21 on
    with pytest.raises(FilterError) as info:
        compile_filter("b" * 19 + " $ " + "c" * 19)
    error = info.value
    assert (error.column, error.reason) == (21, "nothing searchable in this word")
    assert error.hint == f'near "{"b" * 19} $ {"c" * 18}…"'
    with pytest.raises(FilterError) as info:
        compile_filter(at_20)
    assert info.value.hint == f'near "…{"a" * 19} $"'
    with pytest.raises(FilterError) as info:
        compile_filter("x $" + " " * 19)  # ends exactly 20 after the '$': no tail
    assert info.value.hint == f'near "x ${" " * 19}"'
    assert FilterError("  ", 0, "m").hint == "the filter is empty"


def test_tokens_are_exact() -> None:
    tokens = tokenize("a==1 <> 'it''s' \"q\\\"\" `k` m.`x y` -2 x -3 .5 3e 2fa 1e3 (,) ~ é")
    assert [(t.kind, t.text, t.value, t.pos) for t in tokens] == [
        ("IDENT", "a", "a", 0), ("OP", "==", "=", 1), ("NUMBER", "1", 1.0, 3),
        ("OP", "<>", "!=", 5), ("STRING", "'it''s'", "it's", 8), ("STRING", '"q\\""', 'q"', 16),
        ("IDENT", "`k`", "k", 22), ("IDENT", "m.`x y`", "m.x y", 26), ("IDENT", "-2", "-2", 34),
        ("IDENT", "x", "x", 37), ("IDENT", "-3", "-3", 39), ("NUMBER", ".5", 0.5, 42),
        ("IDENT", "3e", "3e", 45), ("IDENT", "2fa", "2fa", 48), ("NUMBER", "1e3", 1000.0, 52),
        ("LPAREN", "(", "(", 56), ("COMMA", ",", ",", 57), ("RPAREN", ")", ")", 58),
        ("OP", "~", "~", 60), ("IDENT", "é", "é", 62), ("END", "", None, 63)]
    assert [(t.kind, t.value) for t in tokenize("p = -2 in (+1, -.5)")][2:] == [
        ("NUMBER", -2.0), ("IDENT", "in"), ("LPAREN", "("), ("NUMBER", 1.0), ("COMMA", ","),
        ("NUMBER", -0.5), ("RPAREN", ")"), ("END", None)]
    assert [t.value for t in tokenize("'a\\\\b' 'a\\b'")][:2] == ["a\\b", "a\\b"]
    assert tokenize("'x'")[0] == Token("STRING", "'x'", "x", 0)
    # A sign starts a number only where a value is expected: after a name it starts a word.
    assert tokenize("x +3 -4")[1:3] == [Token("IDENT", "+3", "+3", 2),
                                        Token("IDENT", "-4", "-4", 5)]
    assert [t.kind for t in tokenize(">= <= != < >")] == ["OP"] * 5 + ["END"]
    assert [t.value for t in tokenize(">=<=")][:2] == [">=", "<="]


def test_trees_are_exact() -> None:
    assert parse_filter("not not a") == Not(Not(Words(["a"], 8)))
    assert parse_filter("a AND b or 'c d'") == BoolOp("or", [
        BoolOp("and", [Words(["a"], 0), Words(["b"], 6)]), Words(["c d"], 11)])
    assert parse_filter("(a)") == Words(["a"], 1)
    assert parse_filter("params.x not in (1, 'b')") == Compare("params", "x", "not in", [1.0, "b"], 0)
    assert parse_filter("p.x not like 'a'") == Compare("params", "x", "not like", "a", 0)
    assert parse_filter("tags.x NOT ILIKE 'a'") == Compare("tags", "x", "not ilike", "a", 0)
    assert parse_filter("t.x ilike 'a'") == Compare("tags", "x", "ilike", "a", 0)
    assert parse_filter("m.x is not null") == Compare("metrics", "x", "is not null", None, 0)
    assert parse_filter("m.x IS NULL") == Compare("metrics", "x", "is null", None, 0)
    assert parse_filter("  a.status = TRUE") == Compare("attributes", "status", "=", "true", 2)
    assert parse_filter("stage in ('x')") == Compare("attributes", "stage", "in", ["x"], 0)
    assert parse_filter("Alias != 'x'") == Compare("attributes", "alias", "!=", "x", 0)
    assert parse_filter("data.name is null") == Compare("datasets", "name", "is null", None, 0)
    assert parse_filter("metrics.x not in (1)") == Compare("metrics", "x", "not in", [1.0], 0)
    # a known entity before the dot, nothing after it, and no operator: a search word
    assert parse_filter("metrics.") == Words(["metrics."], 0)
    assert parse_filter("stage") == Words(["stage"], 0)
    assert parse_filter("x.y") == Words(["x.y"], 0)
    # shortcuts take every operator word; a bare word before 'not <word>' stays a word
    assert parse_filter("status like 'F%'") == Compare("attributes", "status", "like", "F%", 0)
    assert parse_filter("model ilike 'f%'") == Compare("attributes", "model", "ilike", "f%", 0)
    assert parse_filter("status not like 'F%'") == Compare("attributes", "status", "not like",
                                                           "F%", 0)
    assert parse_filter("status not ilike 'f'") == Compare("attributes", "status", "not ilike",
                                                           "f", 0)
    assert parse_filter("status not in ('a')") == Compare("attributes", "status", "not in", ["a"], 0)
    assert parse_filter("yolo not tiny") == BoolOp("and", [Words(["yolo"], 0), Not(Words(["tiny"], 9))])


def test_compiled_shapes() -> None:
    assert (compile_filter(None).where, compile_filter(" \t").params) == ("1", [])
    both = compile_filter("a or b and c")
    assert both.where.startswith("(v.id IN (") and " OR (v.id IN " in both.where
    assert " AND v.id IN " in both.where
    assert both.params == ["version", '"a"*', "version", '"b"*', "version", '"c"*']
    negated = compile_filter("not a", "runs")
    assert negated.where.startswith("(NOT COALESCE(r.id IN (") and negated.where.endswith(", 0))")
    assert compile_filter("'x-y \"z\"' é", "runs").params == [
        "run", '"x"* "y"* "z"*', "run", '"é"*']
    assert compile_filter("version is not null").where == "v.version IS NOT NULL"
    assert compile_filter("attributes.user is null", "runs").where == "r.user IS NULL"
    assert compile_filter("params.a in (1, 2)").params == ["a", 1.0, 2.0]
    assert compile_filter("params.a in (1, 'x')").params == ["a", "1", "x"]
    assert compile_filter("params.a not in (1, 'x')").where.endswith("x.value NOT IN (?, ?))")
    assert compile_filter("params.a = 0.5").params == ["a", 0.5]
    assert compile_filter("params.a like 'a_%*'").params == ["a", "a?*[*]"]
    assert compile_filter("params.a ilike 'a_%'").params == ["a", "a_%"]
    assert compile_filter("status in ('ok', 'Bad')").params == ["OK", "BAD"]
    assert compile_filter("status = 'ok'").where == "UPPER(r.status) = ?"
    assert compile_filter("metrics.loss.max > 1").where.count("ms.max > ?") == 1
    assert compile_filter("metrics.`.min` > 1").params == [".min", 1.0]
    assert compile_filter("metrics.a.last < 1").params == ["a", 1.0]
    assert compile_filter("metrics.a.min is null").where.startswith("NOT EXISTS")
    assert "ms.min IS NOT NULL" in compile_filter("metrics.a.min is null").where
    assert compile_filter("datasets.rows is null").where.startswith("NOT EXISTS")
    assert compile_filter("datasets.rows is not null").where.startswith("EXISTS")
    assert compile_filter("stage is null").where == \
        "NOT EXISTS (SELECT 1 FROM stages sg WHERE sg.version_id = v.id)"
    assert compile_filter("stage is not null").where == \
        "EXISTS (SELECT 1 FROM stages sg WHERE sg.version_id = v.id)"
    assert compile_filter("attributes.Run_UUID = 'x'").where == "r.uid = ?"
    assert compile_filter("attributes.GIT_COMMIT is null", "runs").where == "r.git_commit IS NULL"
    assert compile_filter("tags.a is null").where.startswith("(NOT EXISTS") and \
        ") AND NOT EXISTS" in compile_filter("tags.a is null").where
    assert ") OR EXISTS" in compile_filter("tags.a = 'x'").where
    assert compile_filter("tags.a = 'x'", "runs").where.startswith("EXISTS (SELECT 1 FROM run_tags")
    assert base_from("runs") == "runs r"
    assert base_from("versions").startswith("model_versions v JOIN models mo")


@pytest.mark.parametrize("value,converted", [
    ("'2026-01-31'", 1_769_817_600.0), ("'2026-01-31T12:00+02:00'", 1_769_853_600.0),
    ("1769817600", 1_769_817_600.0), ("1769817600000", 1_769_817_600.0),
    ("100000000000", 100_000_000_000.0), ("100000000001", 100_000_000.001),
])
def test_times_in_seconds_milliseconds_or_dates(value, converted) -> None:
    assert compile_filter(f"attributes.created > {value}").params == [converted]
    assert compile_filter(f"created in ({value}, {value})", "runs").params == [converted, converted]


def test_a_date_without_a_zone_is_utc_whatever_the_local_zone(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert compile_filter("attributes.created > '2026-01-31'").params == [1_769_817_600.0]
    finally:
        monkeypatch.undo()
        time.tzset()


def test_like_patterns_become_globs() -> None:
    from mltui.core.query import like_to_glob

    assert like_to_glob("aX_%*?[b]") == "aX?*[*][?][[]b]"


@pytest.mark.parametrize("value,text", [(5.0, "5"), (0.5, "0.5"), (1e-3, "0.001"), ("x", "x")])
def test_numbers_compared_with_text(value, text) -> None:
    assert _as_text(value) == text


@pytest.mark.parametrize("text,scope,key", [
    ("-metrics.f1", "versions", ("metrics", "f1", True)),
    ("metrics.f1 DESC", "versions", ("metrics", "f1", True)),
    ("metrics.f1  asc", "versions", ("metrics", "f1", False)),
    ("metrics.f1 asc", "versions", ("metrics", "f1", False)),
    ("`created`", "runs", ("attributes", "created", False)),
    ("metrics.f1`", "versions", ("metrics", "f1`", False)),  # one backtick is kept as typed
    ("+created", "runs", ("attributes", "created", False)),
    ("-`metrics.a b`", "versions", ("metrics", "a b", True)),
    ("p.lr desc", "versions", ("params", "lr", True)),
    ("Created_At", "versions", ("attributes", "created", False)),
    ("MODEL", "versions", ("attributes", "model", False)),
])
def test_sort_keys(text, scope, key) -> None:
    sort = parse_sort(text, scope)
    assert (sort.entity, sort.key, sort.descending) == key
    assert sort.label() == f"{'-' if key[2] else ''}{key[0]}.{key[1]}"


@pytest.mark.parametrize("text,scope,hint", [
    ("foo.bar", "versions", "an attribute such as created"),
    ("tags.team", "runs", "an attribute such as created"),
    ("stage", "versions", "versions"),
    ("model", "runs", "runs"),
    (" nope ", "versions", "versions"),
])
def test_bad_sort_reads_exactly(text, scope, hint) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_sort(text, scope)
    if hint in ("versions", "runs"):
        index = 0 if hint == "versions" else 1
        known = ", ".join(sorted(k for k, v in ATTRIBUTES.items() if v[2] != "stage" and v[index]))
        hint = f"one of {known}"
    assert info.value.one_line() == (f"cannot sort by {text.strip()!r}; sort by metrics.<key>, "
                                     f"params.<key> or {hint}")


def test_sort_scope_defaults_to_versions() -> None:
    assert parse_sort("model") == parse_sort("model", "versions")
    assert parse_sort("model").key == "model"


def test_sort_sql() -> None:
    params: list = []
    assert sort_sql(None, "runs", params) == ("", "r.id DESC")
    assert sort_sql(parse_sort("-metrics.f1"), "versions", params) == (
        "LEFT JOIN metric_summary so ON so.run_id = v.run_id AND so.key = ?",
        "so.last IS NULL, so.last DESC, v.id DESC")
    join, order = sort_sql(parse_sort("params.lr"), "runs", params)
    assert join == "LEFT JOIN params so ON so.run_id = r.id AND so.key = ?"
    assert "CAST(so.value AS REAL) ASC, so.value ASC, r.id DESC" in order
    assert sort_sql(parse_sort("created"), "runs", params) == (
        "", "r.created_at IS NULL, r.created_at ASC, r.id DESC")
    assert sort_sql(parse_sort("-created"), "versions", params) == (
        "", "v.created_at IS NULL, v.created_at DESC, v.id DESC")
    assert params == ["f1", "lr"]


@pytest.fixture(scope="module")
def cat(tmp_path_factory) -> Catalog:
    """Runs whose params, tags, times and data sit on the edges the compiler treats specially."""
    from mltui.core.catalog import open_catalog
    from tests.conftest import TickingClock

    folder = tmp_path_factory.mktemp("mutants")
    (folder / "small.csv").write_text("a\n1\n")
    cat = open_catalog(folder / "catalog.db", create=True, clock=TickingClock())
    specs = [  # name, lr, tag on the run, status, start (s), data
        ("one", "0.5", "x", "finished", 1_000.0, "small.csv"),
        ("two", "v2", None, "FAILED", 2_000.0, None),
        ("three", "1e-3", "y", "Finished", 3_000.0, None),
        ("four", " 7 ", None, "KILLED", 4_000.0, None),
    ]
    for name, lr, tag, status, start, data in specs:
        run = cat.log_run(name, params={"lr": lr}, metrics={"m": [3.0, 1.0, 2.0]},
                          tags={"t": tag, "n": "5"} if tag else {}, status=status, start_time=start,
                          datasets=[folder / data] if data else [])
        cat.register("m", run=run)
    cat.set_tag("m@2", "t", "v")  # a version tag where the run has none
    yield cat
    cat.close()


def _runs(cat: Catalog, text: str) -> list[str]:
    return sorted(r["name"] for r in cat.runs(cat.run_ids(filter=text)))


def _versions(cat: Catalog, text: str) -> list[int]:
    return sorted(r["version"] for r in cat.versions(cat.version_ids(filter=text)))


@pytest.mark.parametrize("text,names", [
    ("params.lr < 1", ["one", "three"]),           # 'v2' is text, ' 7 ' is 7
    ("params.lr > 1", ["four"]),
    ("params.lr = 0.5", ["one"]),
    ("params.lr = 'v2'", ["two"]),
    ("params.lr in (0.5, 7)", ["four", "one"]),
    ("params.lr in (0.001, 'v2')", ["two"]),
    ("params.lr not in (0.5)", ["four", "three", "two"]),
    ("params.lr not like 'v%'", ["four", "one", "three"]),
    ("params.lr like '_2'", ["two"]),
    ("params.lr like 'V%'", []),
    ("params.lr ilike 'V%'", ["two"]),
    ("params.lr not ilike 'V%'", ["four", "one", "three"]),
    ("params.lr is not null", ["four", "one", "three", "two"]),
    ("params.nope is not null", []),
    ("status = 'FINISHED'", ["one", "three"]),
    ("status in ('finished', 'killed')", ["four", "one", "three"]),
    ("status not in ('finished')", ["four", "two"]),
    ("attributes.start_time >= 2000", ["four", "three", "two"]),
    ("attributes.start_time < 2000000", ["four", "one", "three", "two"]),  # ms: 2000 s
    ("attributes.start_time <= 3000000", ["four", "one", "three", "two"]),
    ("tags.t = 'x'", ["one"]),
    ("tags.n = 5", []),                    # tags are text: a number literal is not cast
    ("tags.t is null", ["four", "two"]),
    ("datasets.rows = 1", ["one"]),
    ("datasets.name is not null", ["one"]),
    ("datasets.name is null", ["four", "three", "two"]),
    ("metrics.m.min = 1", ["four", "one", "three", "two"]),
    ("metrics.m.max = 3", ["four", "one", "three", "two"]),
    ("metrics.m = 2", ["four", "one", "three", "two"]),
    ("metrics.m is null", []),
    ("metrics.m.min is not null", ["four", "one", "three", "two"]),
    ("attributes.name = 'two'", ["two"]),
])
def test_runs_selected_exactly(cat, text, names) -> None:
    assert _runs(cat, text) == names


@pytest.mark.parametrize("text,versions", [
    ("tags.t = 'v'", [2]),
    ("tags.t is null", [4]),               # m@2 has a version tag, so only four has neither
    ("tags.t is not null", [1, 2, 3]),
    ("attributes.version_status = 'ready'", [1, 2, 3, 4]),
    ("attributes.name like 'default_m_v1_%'", [1]),
    ("stage is null", [1, 2, 3, 4]),
    ("datasets.rows = 1", [1]),
])
def test_versions_selected_exactly(cat, text, versions) -> None:
    assert _versions(cat, text) == versions


def test_param_sort_orders_numbers_numerically(cat) -> None:
    # 'v2' is left out: text holding a digit casts to 0 and sorts among the numbers today
    names = [r["name"] for r in cat.runs(cat.run_ids(sort="params.lr")) if r["name"] != "two"]
    assert names == ["three", "one", "four"]
    names = [r["name"] for r in cat.runs(cat.run_ids(sort="-params.lr")) if r["name"] != "two"]
    assert names == ["four", "one", "three"]


def test_nesting_is_limited_to_64_levels() -> None:
    inner = "tags.a = 'x'"
    assert parse_filter("(" * 64 + inner + ")" * 64) == parse_filter(" " * 64 + inner)
    assert parse_filter(" and ".join([f"({inner})"] * 70)) is not None  # siblings do not nest
    text = "(" * 65 + inner + ")" * 65
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert (info.value.column, info.value.reason, info.value.text) == (
        65, "filter too deeply nested (max 64)", text)
    with pytest.raises(FilterError) as info:
        parse_filter("not " * 65 + inner)
    assert info.value.column == 257  # the 65th "not"
    # leaving a group or a "not" gives its level back exactly
    for closed in (f"({inner}) and ", f"not {inner} and "):
        assert parse_filter(closed + "(" * 64 + inner + ")" * 64) is not None
        assert parse_filter(closed + "not " * 64 + inner) is not None
        for deep in ("(" * 65 + inner + ")" * 65, "not " * 65 + inner):
            with pytest.raises(FilterError, match=r"too deeply nested"):
                parse_filter(closed + deep)


@pytest.mark.parametrize(("text", "value"), [("params.f = false", "false"),
                                             ("params.f = TRUE", "true"),
                                             ("params.f in (False, 'x')", ["false", "x"])])
def test_true_and_false_are_values_in_any_case(text, value) -> None:
    assert parse_filter(text).value == value


@pytest.mark.parametrize(("text", "column"), [("", 1), ("   ", 4)])
def test_an_empty_filter_reads_exactly(text, column) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert (info.value.one_line(), info.value.column) == (
        f"bad filter at column {column}: the filter is empty; the filter is empty", column)


def test_a_quoted_phrase_joins_by_and() -> None:
    assert parse_filter("tags.a = 'x' 'fraud detector'") == BoolOp("and", [
        Compare("tags", "a", "=", "x", 0), Words(["fraud detector"], 13)])


def test_an_unknown_scope_is_a_programming_error_naming_it() -> None:
    with pytest.raises(ValueError) as info:
        compile_filter("tags.a = 'x'", "bogus")
    assert info.value.args == ("bogus",)


@pytest.mark.parametrize(("text", "found"), [("tags.a = X1", "X1"), ("metrics.f1 > 1_0", "1_0"),
                                             ("metrics.f1 > 1x", "1x")])
def test_a_word_where_a_value_goes_reads_exactly(text, found) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert info.value.reason == (f"expected a number or a quoted string, found {found!r} "
                                 f"(quote text values: '{found}')")


def test_capital_x_is_an_ordinary_letter() -> None:
    assert parse_filter("XGBoost") == Words(["XGBoost"], 0)
