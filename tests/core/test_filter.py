"""The filter language (SPEC §3): what each filter selects, and where a bad one is wrong."""

from __future__ import annotations

import pytest

from mltui.core.catalog import Catalog
from mltui.core.errors import InvalidInput
from mltui.core.query import FilterError, compile_filter, like_to_glob, parse_filter, parse_sort


@pytest.fixture(scope="module")
def cat(tmp_path_factory) -> Catalog:
    """Five versions of two models with varied metrics, params, tags, data and stages."""
    from mltui.core.catalog import open_catalog
    from tests.conftest import TickingClock

    folder = tmp_path_factory.mktemp("filter")
    (folder / "reviews.csv").write_text("text,label\nok,1\n")
    (folder / "images.csv").write_text("path,label\na.png,0\n")
    cat = open_catalog(folder / "catalog.db", create=True, clock=TickingClock())
    specs = [
        # model, name, f1, loss, lr, optimizer, team, status, dataset, mAP
        ("fraud", "baseline", 0.80, 0.40, "0.01", "adam", "risk", "FINISHED", "reviews.csv", None),
        ("fraud", "wide [net]", 0.90, 0.30, "0.02", "sgd", "risk", "FINISHED", "reviews.csv", None),
        ("fraud", "tiny", 0.70, 0.60, "0.1", "adam", "vision", "FAILED", None, None),
        ("detector", "yolo-s", None, 1.20, "0.001", "AdamW", "vision", "FINISHED", "images.csv", 0.51),
        ("detector", "yolo-m", None, 0.90, "1e-3", "AdamW", "Vision", "KILLED", "images.csv", 0.62),
    ]
    for model, name, f1, loss, lr, optimizer, team, status, data, map50 in specs:
        metrics = {"loss": loss}
        if f1 is not None:
            metrics["f1"] = f1
        if map50 is not None:
            metrics["mAP50(B)"] = map50
        run = cat.log_run(name, params={"lr": lr, "optimizer": optimizer, "epochs": "10"},
                          metrics=metrics, tags={"team": team}, status=status, project="proj",
                          datasets=[folder / data] if data else [])
        cat.register(model, run=run)
    cat.set_tag("fraud@2", "reviewed", "yes")
    cat.set_doc("fraud@3", "Quantised for the edge gateway.", base_rev=0)
    cat.promote("fraud@2", "production", reason="best")
    cat.promote("detector@1", "champion", reason="first")
    yield cat
    cat.close()


def refs(cat: Catalog, text: str) -> set[str]:
    return {f"{r['model']}@{r['version']}" for r in cat.versions(cat.version_ids(filter=text))}


VALID = [
    ("metrics.f1 > 0.8", {"fraud@2"}),
    ("metrics.f1 >= 0.8", {"fraud@1", "fraud@2"}),
    ("metrics.f1 < 0.8", {"fraud@3"}),
    ("metrics.f1 <= 0.7", {"fraud@3"}),
    ("metrics.f1 = 0.9", {"fraud@2"}),
    ("metrics.f1 == 0.9", {"fraud@2"}),
    ("metrics.f1 != 0.9", {"fraud@1", "fraud@3"}),
    ("metrics.f1 <> 0.9", {"fraud@1", "fraud@3"}),
    ("metric.loss > 1", {"detector@1"}),
    ("metrics.loss >= -1", {"fraud@1", "fraud@2", "fraud@3", "detector@1", "detector@2"}),
    ("metrics.f1 > 8e-1", {"fraud@2"}),
    ("metrics.f1 > .85", {"fraud@2"}),
    ("metrics.`mAP50(B)` > 0.6", {"detector@2"}),
    ("metrics.f1 is null", {"detector@1", "detector@2"}),
    ("metrics.f1 is not null", {"fraud@1", "fraud@2", "fraud@3"}),
    ("metrics.f1 in (0.7, 0.9)", {"fraud@2", "fraud@3"}),
    ("metrics.f1 not in (0.7, 0.9)", {"fraud@1"}),
    ("metrics.loss.min < 0.35", {"fraud@2"}),
    ("params.lr = '0.01'", {"fraud@1"}),
    ("params.lr = \"0.02\"", {"fraud@2"}),
    ("params.lr = 0.001", {"detector@1", "detector@2"}),
    ("params.lr < 0.01", {"detector@1", "detector@2"}),
    ("params.lr > 0.05", {"fraud@3"}),
    ("params.optimizer in ('adam', 'sgd')", {"fraud@1", "fraud@2", "fraud@3"}),
    ("params.optimizer not in ('adam')", {"fraud@2", "detector@1", "detector@2"}),
    ("params.optimizer like 'Adam%'", {"detector@1", "detector@2"}),
    ("params.optimizer ilike 'adam%'", {"fraud@1", "fraud@3", "detector@1", "detector@2"}),
    ("params.optimizer not like 'a%'", {"fraud@2", "detector@1", "detector@2"}),
    ("params.epochs = 10", {"fraud@1", "fraud@2", "fraud@3", "detector@1", "detector@2"}),
    ("params.missing is null", {"fraud@1", "fraud@2", "fraud@3", "detector@1", "detector@2"}),
    ("tags.team = 'vision'", {"fraud@3", "detector@1"}),
    ("tags.team ilike 'vision'", {"fraud@3", "detector@1", "detector@2"}),
    ("tags.reviewed = 'yes'", {"fraud@2"}),
    ("tag.team != 'risk'", {"fraud@3", "detector@1", "detector@2"}),
    ("attributes.status = 'FINISHED'", {"fraud@1", "fraud@2", "detector@1"}),
    ("attributes.status = 'failed'", {"fraud@3"}),
    ("status in ('KILLED', 'FAILED')", {"fraud@3", "detector@2"}),
    ("attributes.run_name like 'yolo%'", {"detector@1", "detector@2"}),
    ("attributes.model = 'detector'", {"detector@1", "detector@2"}),
    ("attributes.version >= 2", {"fraud@2", "fraud@3", "detector@2"}),
    ("attributes.stage = 'production'", {"fraud@2"}),
    ("stage = 'champion'", {"detector@1"}),
    ("attributes.stage is null", {"fraud@1", "fraud@3", "detector@2"}),
    ("datasets.name = 'reviews'", {"fraud@1", "fraud@2"}),
    ("datasets.name = 'images' and metrics.loss < 1", {"detector@2"}),
    ("datasets.name is null", {"fraud@3"}),
    ("metrics.f1 > 0.75 and params.optimizer = 'adam'", {"fraud@1"}),
    ("metrics.f1 > 0.85 or params.lr = '0.1'", {"fraud@2", "fraud@3"}),
    ("(metrics.f1 > 0.85 or tags.team = 'vision') and attributes.model = 'fraud'",
     {"fraud@2", "fraud@3"}),
    ("metrics.f1 > 0.85 or tags.team = 'vision' and attributes.model = 'fraud'",
     {"fraud@2", "fraud@3"}),  # and binds tighter than or
    ("not metrics.f1 > 0.75", {"fraud@3", "detector@1", "detector@2"}),
    ("not (tags.team = 'risk' or tags.team = 'vision')", {"detector@2"}),
    ("METRICS.f1 > 0.85 AND PARAMS.optimizer = 'sgd'", {"fraud@2"}),
    ("yolo", {"detector@1", "detector@2"}),
    ("edge", {"fraud@3"}),  # full text reaches the documentation
    ("wide", {"fraud@2"}),
    ("'wide [net]'", {"fraud@2"}),
    ("yolo metrics.loss < 1", {"detector@2"}),
    ("reviewed yes", {"fraud@2"}),
    ("attributes.created > '2000-01-01'", {"fraud@1", "fraud@2", "fraud@3", "detector@1", "detector@2"}),
    ("attributes.created < '2000-01-01'", set()),
]


@pytest.mark.parametrize("text,expected", VALID, ids=[v[0] for v in VALID])
def test_valid_filter_selects_exactly(cat: Catalog, text: str, expected: set[str]) -> None:
    assert refs(cat, text) == expected


INVALID = [
    ("metrics.f1 >", 13, "expected a number or a quoted string"),
    ("metrics.f1 > > 3", 14, "expected a number"),
    ("metrics.f1 0.8", 12, "expected an operator"),
    ("metrics. > 3", 1, "needs a key"),
    ("metrics.f1 > 'high'", 1, "compares with numbers"),
    ("metrics.f1 like '%x'", 1, "compare with numbers"),
    ("(metrics.f1 > 0.8", 18, "missing ')'"),
    ("metrics.f1 > 0.8)", 17, "unmatched ')'"),
    ("()", 2, "empty parentheses"),
    ("", 1, "empty"),
    ("   ", 4, "empty"),
    ("params.lr = 'abc", 13, "unterminated string"),
    ("metrics.`f1 > 2", 9, "unterminated identifier"),
    ("params.optimizer in 'adam'", 21, "expected '('"),
    ("params.optimizer in ('adam'", 28, "expected ',' or ')'"),
    ("params.optimizer in ('adam',)", 29, "expected a number"),
    ("params.optimizer like adam", 23, "needs a quoted pattern"),
    ("params.optimizer not = 'a'", 22, "expected 'in', 'like' or 'ilike'"),
    ("tags.team is 'x'", 14, "expected 'null'"),
    ("foo.bar = 1", 1, "unknown field"),
    ("f1 > 0.8", 1, "did you mean metrics.f1"),
    ("attributes.colour = 'red'", 1, "unknown attribute"),
    ("datasets.colour = 'red'", 1, "unknown dataset field"),
    ("metrics.f1 > 0.8 and", 21, "expected a condition but the filter ended"),
    ("and metrics.f1 > 0.8", 1, "needs a condition before it"),
    ("metrics.f1 > 0.8 or or x", 21, "needs a condition before it"),
    ("metrics.f1 ~ 3", 12, "use like or ilike"),
    ("metrics.f1 > 0.8 , 2", 18, "unexpected ','"),
    ("attributes.version > 'two'", 1, "compares with numbers"),
    ("attributes.created > 'yesterday'", 1, "is not a date"),
    ("not", 4, "expected a condition"),
    ("metrics.f1 > 0.8 @", 18, "nothing searchable"),
    ("metrics.f1 > 0.8 'x", 18, "unterminated string"),
]


@pytest.mark.parametrize("text,column,message", INVALID, ids=[v[0] or "<empty>" for v in INVALID])
def test_invalid_filter_points_at_the_problem(cat: Catalog, text: str, column: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)  # syntax errors
        cat.version_ids(filter=text)  # semantic errors (unknown names, types)
    assert info.value.column == column, info.value.one_line()
    assert message in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_filter_values_never_reach_sql_as_text(cat: Catalog) -> None:
    hostile = "x'; DROP TABLE runs; --"
    compiled = compile_filter(f"params.lr = \"{hostile}\" or tags.`a'b` = 'c'")
    assert hostile in compiled.params and "a'b" in compiled.params
    assert "DROP" not in compiled.where and "a'b" not in compiled.where
    assert refs(cat, f"params.lr = \"{hostile}\"") == set()
    assert cat.summary()["runs"] == 5


def test_quotes_escape_by_doubling_or_backslash() -> None:
    tree = parse_filter("params.note = 'it''s' or params.note = 'it\\'s'")
    assert [t.value for t in tree.terms] == ["it's", "it's"]


def test_runs_scope_filters_runs(cat: Catalog) -> None:
    ids = cat.run_ids(filter="metrics.loss < 0.5 and attributes.status = 'FINISHED'")
    assert {r["name"] for r in cat.runs(ids)} == {"baseline", "wide [net]"}
    with pytest.raises(FilterError, match="versions, not runs"):
        cat.run_ids(filter="attributes.stage = 'production'")


def test_sort_orders_with_missing_values_last(cat: Catalog) -> None:
    ids = cat.version_ids(sort="metrics.f1")
    assert [cat.ref_of(i) for i in ids][:3] == ["fraud@3", "fraud@1", "fraud@2"]
    ids = cat.version_ids(sort="-metrics.f1")
    assert [cat.ref_of(i) for i in ids][:3] == ["fraud@2", "fraud@1", "fraud@3"]
    ids = cat.version_ids(sort="metrics.loss desc", filter="metrics.f1 is null")
    assert [cat.ref_of(i) for i in ids] == ["detector@1", "detector@2"]
    ids = cat.version_ids(sort="params.lr")
    assert cat.ref_of(ids[0]) in ("detector@1", "detector@2") and cat.ref_of(ids[-1]) == "fraud@3"


def test_filter_and_sort_page(cat: Catalog) -> None:
    page = cat.version_ids(filter="metrics.loss > 0", sort="metrics.loss", limit=2, offset=1)
    assert [cat.ref_of(i) for i in page] == ["fraud@1", "fraud@3"]


@pytest.mark.parametrize("text", ["colour", "metrics", "tags.team", "attributes.stage", "-"])
def test_bad_sort_is_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_sort(text)
    assert "cannot sort by" in info.value.one_line()


def test_like_to_glob_escapes_glob_characters() -> None:
    assert like_to_glob("a*b?[c]%_") == "a[*]b[?][[]c]*?"
