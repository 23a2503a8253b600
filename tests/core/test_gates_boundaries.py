"""Gates at their edges: each operator at its boundary, one failing gate of many, regression
offsets both ways, missing metrics on either side, and rollback over a long stage history.

The values are binary fractions (0.25, 0.5, 0.75…) so "exactly at the threshold" is exact in
floating point and a flipped or loosened comparison shows up as a wrong verdict.
"""

from __future__ import annotations

import pytest

from mltui.core.errors import GateFailed, InvalidInput
from mltui.core.gates import GateResult, Rule, evaluate, parse_rule
from tests.conftest import snapshot_tables

EPS = 2 ** -10  # a step well above the 1e-12 tolerance of '=' and '!=', exact in binary

# (op, threshold, candidate, passes): every operator just below, at and just above 0.5.
BOUNDARIES = [
    (op, 0.5, value, expected)
    for op, verdicts in {
        ">=": (False, True, True), ">": (False, False, True),
        "<=": (True, True, False), "<": (True, False, False),
        "=": (False, True, False), "!=": (True, False, True),
    }.items()
    for value, expected in zip((0.5 - EPS, 0.5, 0.5 + EPS), verdicts)
]


@pytest.mark.parametrize("op,threshold,value,passes", BOUNDARIES,
                         ids=[f"{b[2]}{b[0]}{b[1]}" for b in BOUNDARIES])
def test_each_operator_at_its_boundary(op, threshold, value, passes) -> None:
    rule = parse_rule(f"metrics.f1 {op} {threshold}")
    assert (rule.op, rule.threshold, rule.stage) == (op, threshold, None)
    result = evaluate(rule, value, None)
    assert result.passed is passes and result.skipped is False
    assert result.actual == value and result.expected == f"{op} 0.5"
    verdict = f"{value:.6g} {op} 0.5" if passes else f"{value:.6g} is not {op} 0.5"
    assert result.detail == verdict


@pytest.mark.parametrize("op", ["=", "!="])
def test_equality_tolerates_float_noise_only(op) -> None:
    # 0.1 + 0.2 is not 0.3 in binary; '=' treats them as equal, a 1e-9 gap as different.
    rule = parse_rule(f"metrics.f1 {op} 0.3")
    assert evaluate(rule, 0.1 + 0.2, None).passed is (op == "=")
    assert evaluate(rule, 0.3 + 1e-9, None).passed is (op == "!=")


def test_rule_parsing_keeps_key_column_and_stage() -> None:
    assert parse_rule("metrics.loss.min <= 0.25") == Rule(
        "metrics.loss.min <= 0.25", "loss", "min", "<=", threshold=0.25)
    assert parse_rule("  m.acc.max > staging  ") == Rule(
        "m.acc.max > staging", "acc", "max", ">", stage="staging")
    assert parse_rule("metrics.f1.last >= Production - 0.25") == Rule(
        "metrics.f1.last >= Production - 0.25", "f1", "last", ">=", stage="production", offset=-0.25)
    assert parse_rule("metrics.f1 >= staging+0.5").offset == 0.5
    assert parse_rule("metrics.f1 >= staging + 1e-1").offset == pytest.approx(0.1)
    assert parse_rule("metrics.min >= 1").key == "min"  # a metric called 'min' is a key
    assert (parse_rule("metrics..min >= 1").key, parse_rule("metrics..min >= 1").column) == \
        (".min", "last")
    assert parse_rule("metrics.f1 >= 1").column == "last"


RULE_HINT = "write 'metrics.KEY OP NUMBER' or 'metrics.KEY OP STAGE [- NUMBER]'"


@pytest.mark.parametrize("text,message,hint", [
    ("", "empty gate rule", "write e.g. 'metrics.f1 >= 0.85'"),
    ("metrics.f1", "expected a metric, an operator and a value", RULE_HINT),
    ("0.5 >= metrics.f1", "expected a metric, an operator and a value", RULE_HINT),
    ("params.lr >= 1", "gates compare metrics: start with metrics.<key>", RULE_HINT),
    ("metrics. >= 1", "gates compare metrics: start with metrics.<key>", RULE_HINT),
    ("metrics.f1 >= prod-uction",
     "expected a number, or a stage with an optional '- NUMBER', after >=", RULE_HINT),
    ("metrics.f1 < production * 2",
     "expected a number, or a stage with an optional '- NUMBER', after <", RULE_HINT),
    ("metrics.f1 ~ 1", "unknown operator '~'", RULE_HINT),
    ('metrics.f1 >= "x', 'unterminated string: missing closing " at column 15', None),
])
def test_bad_rules_say_what_is_wrong(text, message, hint) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rule(text)
    expected = "empty gate rule" if not text else f"bad gate rule {text!r}: {message}"
    assert (str(caught.value), caught.value.hint) == (expected, hint)


def test_regression_offsets_in_both_directions() -> None:
    down = parse_rule("metrics.f1 >= production - 0.25")
    up = parse_rule("metrics.f1 >= production + 0.25")
    # Holder at 0.5: '- 0.25' allows down to 0.25; '+ 0.25' demands at least 0.75.
    assert [evaluate(down, v, 0.5).passed for v in (0.25 - EPS, 0.25, 0.5)] == [False, True, True]
    assert [evaluate(up, v, 0.5).passed for v in (0.5, 0.75 - EPS, 0.75)] == [False, False, True]
    result = evaluate(down, 0.375, 0.5, "production (fraud@1)")
    assert result.expected == ">= 0.25 (production (fraud@1) 0.5 - 0.25)"
    assert result.detail == "0.375 >= 0.25"
    assert evaluate(up, 0.5, 0.5).expected == ">= 0.75 (production 0.5 + 0.25)"
    plain = parse_rule("metrics.latency <= staging")
    assert evaluate(plain, 0.5, 0.5).expected == "<= 0.5 (staging 0.5)"
    assert evaluate(plain, 0.5 + EPS, 0.5).passed is False


def test_a_candidate_without_the_metric_fails() -> None:
    for rule in (parse_rule("metrics.f1 >= 0.5"), parse_rule("metrics.f1 >= production")):
        assert evaluate(rule, None, 0.5) == GateResult(
            rule.text, False, None, rule.describe_expected(0.5),
            "the candidate has no value for metrics.f1")


def test_a_regression_rule_without_a_reference_is_skipped() -> None:
    rule = parse_rule("metrics.f1 >= production - 0.25")
    assert evaluate(rule, 0.1, None) == GateResult(
        rule.text, True, 0.1, ">= production", "skipped: no version holds production", True)
    lacking = evaluate(rule, None, None, "production (fraud@1)")
    assert (lacking.passed, lacking.skipped) == (True, True)
    assert lacking.detail == "skipped: production (fraud@1) has no f1"
    custom = evaluate(rule, 0.1, None, skip_reason="because")
    assert custom.detail == "skipped: because"


def test_gate_result_as_dict() -> None:
    result = GateResult("metrics.f1 > 0.5", False, 0.25, "> 0.5", "0.25 is not > 0.5")
    assert result.as_dict() == {"rule": "metrics.f1 > 0.5", "passed": False, "actual": 0.25,
                                "expected": "> 0.5", "detail": "0.25 is not > 0.5",
                                "skipped": False}


# -- through the catalog: promotion and check -------------------------------------------------

GATES = ["metrics.f1 >= 0.5", "metrics.loss <= 0.5", "metrics.acc > 0.5"]
PASSING = {"f1": 0.75, "loss": 0.25, "acc": 0.75}
FAILING = {"f1": 0.25, "loss": 0.75, "acc": 0.5}  # each value fails its own gate


@pytest.fixture
def gated(catalog):
    """Model 'm': v1 passes all three gates; v2..v4 each fail exactly one of them (in order)."""
    def version(metrics):
        return catalog.register("m", run=catalog.log_run("r", metrics=metrics))["version"]

    version(PASSING)
    for key in ("f1", "loss", "acc"):
        version({**PASSING, key: FAILING[key]})
    for rule in GATES:
        catalog.add_gate("m", rule)
    return catalog


@pytest.mark.parametrize("failing", [0, 1, 2], ids=GATES)
def test_one_failing_gate_of_several_blocks_promotion(gated, catalog_path, failing) -> None:
    gated.promote("m@1", reason="all pass")
    ref = f"m@{failing + 2}"
    before = snapshot_tables(catalog_path)
    with pytest.raises(GateFailed) as caught:
        gated.promote(ref, reason="should be refused")
    assert snapshot_tables(catalog_path) == before
    assert gated.ref_of(gated.stage_holder("m", "production")) == "m@1"
    message = str(caught.value)
    assert f"1 gate(s) failed: {GATES[failing]} (" in message
    assert [r["passed"] for r in caught.value.results] == [i != failing for i in range(3)]
    check = gated.check(ref)
    assert check["passed"] is False
    assert [r["passed"] for r in check["results"]] == [i != failing for i in range(3)]
    # Forcing records the one failure; staging has no gates at all.
    assert gated.promote(ref, "staging")["gates"] == []
    forced = gated.promote(ref, reason="accepted risk", force=True)
    assert forced["forced"] is True and forced["from"] == "m@1"


def test_all_gates_passing_promotes(gated) -> None:
    result = gated.promote("m@1")
    assert result["changed"] is True and result["forced"] is False
    assert [g["passed"] for g in result["gates"]] == [True, True, True]
    assert gated.check("m@1") == {"ref": "m@1", "stage": "production", "passed": True,
                                  "results": result["gates"]}


def test_catalog_gates_at_the_boundary(catalog) -> None:
    at = catalog.register("m", run=catalog.log_run("r", metrics={"f1": 0.5}))["version"]
    below = catalog.register("m", run=catalog.log_run("r", metrics={"f1": 0.5 - EPS}))["version"]
    catalog.add_gate("m", "metrics.f1 >= 0.5")
    assert catalog.check(f"m@{at}")["passed"] is True
    assert catalog.check(f"m@{below}")["passed"] is False
    assert catalog.promote(f"m@{at}")["changed"] is True
    with pytest.raises(GateFailed):
        catalog.promote(f"m@{below}")


def test_summary_columns_min_max_last(catalog) -> None:
    # Logged 0.75, 0.25, 0.5: last 0.5, min 0.25, max 0.75.
    catalog.register("m", run=catalog.log_run("r", metrics={"loss": [0.75, 0.25, 0.5]}))
    for rule, passes in (("metrics.loss.min <= 0.25", True), ("metrics.loss <= 0.25", False),
                         ("metrics.loss.last >= 0.5", True), ("metrics.loss.max >= 0.75", True),
                         ("metrics.loss.max > 0.75", False), ("metrics.loss.min > 0.25", False)):
        catalog.add_gate("m", rule, stage="s")
        assert catalog.check("m@1", stage="s")["results"][-1]["passed"] is passes, rule


def _regression_catalog(catalog, holder_metrics, candidate_metrics, rule):
    catalog.register("m", run=catalog.log_run("holder", metrics=holder_metrics))
    catalog.register("m", run=catalog.log_run("candidate", metrics=candidate_metrics))
    catalog.promote("m@1")
    catalog.add_gate("m", rule)
    return catalog


@pytest.mark.parametrize("rule,candidate,passes", [
    ("metrics.f1 >= production - 0.25", 0.25, True),
    ("metrics.f1 >= production - 0.25", 0.25 - EPS, False),
    ("metrics.f1 >= production + 0.25", 0.75, True),
    ("metrics.f1 >= production + 0.25", 0.75 - EPS, False),
    ("metrics.f1 <= production + 0.25", 0.75, True),
    ("metrics.f1 <= production + 0.25", 0.75 + EPS, False),
    ("metrics.f1 > production", 0.5, False),
])
def test_regression_gate_against_the_holder(catalog, rule, candidate, passes) -> None:
    cat = _regression_catalog(catalog, {"f1": 0.5}, {"f1": candidate}, rule)
    result = cat.check("m@2")
    assert result["passed"] is passes
    assert result["results"][0]["expected"].endswith("(production (m@1) 0.5" +
                                                     rule.partition("production")[2] + ")")
    if passes:
        assert cat.promote("m@2")["from"] == "m@1"
    else:
        with pytest.raises(GateFailed):
            cat.promote("m@2")


def test_a_stage_holder_without_the_metric_skips_the_regression(catalog) -> None:
    cat = _regression_catalog(catalog, {"loss": 0.5}, {"f1": 0.25},
                              "metrics.f1 >= production - 0.01")
    result = cat.check("m@2")["results"][0]
    assert (result["passed"], result["skipped"]) == (True, True)
    assert result["detail"] == "skipped: production (m@1) has no f1"
    assert cat.promote("m@2")["changed"] is True


def test_a_candidate_without_the_metric_is_refused(catalog) -> None:
    cat = _regression_catalog(catalog, {"f1": 0.5}, {"loss": 0.25},
                              "metrics.f1 >= production - 0.25")
    result = cat.check("m@2")["results"][0]
    assert (result["passed"], result["skipped"]) == (False, False)
    with pytest.raises(GateFailed, match="the candidate has no value for metrics.f1"):
        cat.promote("m@2")


def test_the_holder_itself_skips_its_regression(catalog) -> None:
    cat = _regression_catalog(catalog, {"f1": 0.5}, {"f1": 0.25}, "metrics.f1 > production")
    result = cat.check("m@1")["results"][0]
    assert (result["passed"], result["skipped"]) == (True, True)
    assert result["detail"] == "skipped: the candidate holds production itself"


def test_no_holder_skips_the_regression(catalog) -> None:
    catalog.register("m", run=catalog.log_run("r", metrics={"f1": 0.25}))
    catalog.add_gate("m", "metrics.f1 >= production")
    assert catalog.check("m@1")["results"][0]["detail"] == "skipped: no version holds production"
    assert catalog.promote("m@1")["changed"] is True


def test_gates_list_shows_the_parsed_rule(gated) -> None:
    gated.add_gate("m", "metrics.f1 >= staging - 0.25", stage="canary")
    rows = gated.gates("m", stage="canary")
    assert [(r["key"], r["op"], r["threshold"], r["stage"], r["offset"], r["guards"])
            for r in rows] == [("f1", ">=", None, "staging", -0.25, "canary")]
    assert [r["threshold"] for r in gated.gates("m", stage="production")] == [0.5, 0.5, 0.5]


# -- rollback over a long history --------------------------------------------------------------

def test_rollback_with_many_earlier_holders_restores_the_previous_one(catalog) -> None:
    for _ in range(5):
        catalog.register("m", run=catalog.log_run("r"))
    for number in range(1, 6):
        catalog.promote(f"m@{number}")
    holder = lambda: catalog.ref_of(catalog.stage_holder("m", "production"))  # noqa: E731
    assert [catalog.ref_of(v) for v in catalog.rollback_target("m")] == ["m@5", "m@4"]
    for expected in ("m@4", "m@3", "m@2", "m@1"):
        previous = holder()
        result = catalog.rollback("m", reason="walk back")
        assert (result["from"], result["to"], holder()) == (previous, expected, expected)
    assert catalog.rollback_target("m") is None
    with pytest.raises(InvalidInput, match="nothing to roll back"):
        catalog.rollback("m")
    # A promotion after rollbacks becomes the newest entry: rolling back returns to m@1.
    catalog.promote("m@3")
    assert catalog.rollback("m")["to"] == "m@1"
