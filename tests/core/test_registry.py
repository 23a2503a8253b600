"""Registering, promoting and rolling back: atomic, audited, reflog-like."""

from __future__ import annotations

import sqlite3

import pytest

from mltui.core.errors import Conflict, GateFailed, InvalidInput, NotFound
from mltui.core.registry import canonical_name, stage_stack
from tests.conftest import snapshot_tables


def holder(cat, stage="production"):
    vid = cat.stage_holder("fraud", stage)
    return cat.ref_of(vid) if vid else None


def test_versions_are_numbered_and_named(seeded) -> None:
    rows = seeded.versions(seeded.version_ids(model="fraud"))
    assert [r["version"] for r in rows] == [3, 2, 1]
    assert all(r["canonical_name"].startswith(f"payments_fraud_v{r['version']}_2026") for r in rows)
    assert canonical_name("my proj", "fraud/x", 3, 0) == "my-proj_fraud-x_v3_19700101"


def test_numbers_are_never_reused(catalog) -> None:
    run = catalog.log_run("r")
    first = catalog.register("m", run=run)
    catalog.archive("m@1")
    second = catalog.register("m", run=run)
    assert (first["version"], second["version"]) == (1, 2)


def test_promote_then_rollback_sequence(seeded) -> None:
    cat = seeded
    assert cat.promote("fraud@1", reason="first")["from"] is None
    assert cat.promote("fraud@2", reason="better")["from"] == "fraud@1"
    assert holder(cat) == "fraud@2"
    result = cat.rollback("fraud", reason="alerts")
    assert (result["from"], result["to"]) == ("fraud@2", "fraud@1")
    assert holder(cat) == "fraud@1"
    history = cat.history(model="fraud")
    assert [(h["action"], h["from_version"], h["to_version"], h["reason"]) for h in history] == [
        ("rollback", 2, 1, "alerts"), ("promote", 1, 2, "better"), ("promote", None, 1, "first")]


def test_repeated_rollbacks_walk_back_like_a_reflog(seeded) -> None:
    cat = seeded
    cat.promote("fraud@1", reason="a")
    cat.promote("fraud@2", reason="b")
    cat.promote("fraud@3", reason="c", force=True)
    cat.rollback("fraud")
    assert holder(cat) == "fraud@2"
    cat.rollback("fraud")
    assert holder(cat) == "fraud@1"
    with pytest.raises(InvalidInput, match="nothing to roll back"):
        cat.rollback("fraud")
    assert cat.rollback_target("fraud") is None


def test_rollback_with_no_history_changes_nothing(seeded, catalog_path) -> None:
    before = snapshot_tables(catalog_path)
    with pytest.raises(InvalidInput, match="nothing to roll back"):
        seeded.rollback("fraud", reason="x")
    seeded.promote("fraud@1", reason="only one")
    with pytest.raises(InvalidInput):
        seeded.rollback("fraud")
    assert seeded.rollback_target("fraud") is None
    with pytest.raises(NotFound):
        seeded.rollback("nomodel")
    assert snapshot_tables(catalog_path)["stage_history"] != before["stage_history"]  # the promote


def test_rollback_target_previews_the_restore(seeded) -> None:
    seeded.promote("fraud@1")
    seeded.promote("fraud@2")
    current, target = seeded.rollback_target("fraud")
    assert (seeded.ref_of(current), seeded.ref_of(target)) == ("fraud@2", "fraud@1")


def test_clear_is_undone_by_rollback(seeded) -> None:
    seeded.promote("fraud@2", "staging")
    seeded.clear_stage("fraud", "staging", reason="retired")
    assert seeded.stage_holder("fraud", "staging") is None
    seeded.rollback("fraud", "staging")
    assert holder(seeded, "staging") == "fraud@2"


def test_failing_gate_refuses_and_writes_nothing(seeded, catalog_path) -> None:
    seeded.promote("fraud@2", reason="ok")
    before = snapshot_tables(catalog_path)
    with pytest.raises(GateFailed) as info:
        seeded.promote("fraud@3", reason="try")
    assert info.value.exit_code == 1
    failed = [r for r in info.value.results if not r["passed"]]
    assert {r["rule"] for r in failed} == {"metrics.f1 >= 0.75", "metrics.f1 >= production - 0.05"}
    assert snapshot_tables(catalog_path) == before


def test_forced_promotion_needs_a_reason_and_is_recorded(seeded) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        seeded.promote("fraud@3", force=True)
    result = seeded.promote("fraud@3", force=True, reason="hotfix")
    assert result["forced"] is True
    entry = seeded.history(model="fraud")[0]
    assert entry["forced"] and entry["reason"] == "hotfix"
    assert any(not g["passed"] for g in entry["gate_results"])


def test_regression_gate_compares_with_the_stage_holder(seeded) -> None:
    seeded.promote("fraud@2")  # f1 0.90
    check = seeded.check("fraud@1")  # f1 0.80 < 0.90 - 0.05
    assert not check["passed"]
    regression = check["results"][1]
    assert regression["expected"].startswith(">= 0.85 (production (fraud@2) 0.9 - 0.05)")
    assert seeded.check("fraud@2")["results"][1]["skipped"]  # the holder itself


def test_promoting_the_holder_again_changes_nothing(seeded, catalog_path) -> None:
    seeded.promote("fraud@2")
    before = snapshot_tables(catalog_path)
    assert seeded.promote("fraud@2")["changed"] is False
    assert snapshot_tables(catalog_path) == before


def test_archived_versions_cannot_be_promoted(seeded) -> None:
    seeded.archive("fraud@1", reason="old")
    with pytest.raises(InvalidInput, match="archived"):
        seeded.promote("fraud@1")


def test_rollback_refuses_when_stage_moved_outside_history(seeded, catalog_path) -> None:
    seeded.promote("fraud@1")
    seeded.promote("fraud@2")
    conn = sqlite3.connect(str(catalog_path))
    conn.execute("UPDATE stages SET version_id = (SELECT id FROM model_versions WHERE version = 3)")
    conn.commit()
    conn.close()
    with pytest.raises(Conflict):
        seeded.rollback("fraud")


def test_every_write_is_an_event(seeded) -> None:
    seeded.promote("fraud@2", reason="r")
    seeded.rollback("fraud") if seeded.rollback_target("fraud") else None
    actions = [e["action"] for e in seeded.events(limit=100)]
    for action in ("create-model", "register", "gate-add", "promote"):
        assert action in actions
    promote = next(e for e in seeded.events() if e["action"] == "promote")
    assert promote["before"] == {"production": None} and promote["after"] == {"production": "fraud@2"}
    assert promote["actor"] == "tester"


@pytest.mark.parametrize("table", ["stage_history", "events", "doc_revisions"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
def test_audit_tables_are_append_only(seeded, catalog_path, table, statement) -> None:
    seeded.promote("fraud@2", reason="r")
    seeded.set_doc("fraud@2", "text", base_rev=0)
    conn = sqlite3.connect(str(catalog_path))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(statement.format(t=table))
    conn.close()
    assert not [m for m in dir(seeded) if m.startswith(("delete_", "update_history", "edit_event"))]


def test_stage_stack_replay() -> None:
    rows = [("promote", 1), ("promote", 2), ("rollback", 1), ("promote", 3), ("clear", None)]
    assert stage_stack(rows) == [1, 3, None]


def test_gates_are_validated_and_removable(seeded) -> None:
    with pytest.raises(InvalidInput):
        seeded.add_gate("fraud", "params.lr >= 1")
    with pytest.raises(InvalidInput):
        seeded.add_gate("fraud", "metrics.f1 >= 0.75")  # duplicate
    rules = [g["rule"] for g in seeded.gates("fraud")]
    seeded.remove_gate("fraud", rules[0])
    assert [g["rule"] for g in seeded.gates("fraud")] == rules[1:]
    with pytest.raises(NotFound):
        seeded.remove_gate("fraud", "metrics.nope > 1")


@pytest.mark.parametrize("rule,ok", [
    ("metrics.f1 >= 0.85", True), ("metrics.latency_ms <= 40", True),
    ("metrics.f1 >= production - 0.01", True), ("metrics.f1 >= production-0.01", True),
    ("metrics.loss.min <= staging + 0.1", True), ("metrics.`mAP50(B)` > 0.5", True),
    ("metrics.f1 >=", False), ("metrics.f1 0.8", False), ("f1 >= 0.8", False),
    ("metrics.f1 >= production * 2", False), ("metrics.f1 like 'x'", False), ("", False),
])
def test_gate_rule_syntax(rule, ok) -> None:
    from mltui.core.gates import parse_rule

    if ok:
        assert parse_rule(rule).key
    else:
        with pytest.raises(InvalidInput):
            parse_rule(rule)


def test_gates_guard_their_own_stage(seeded) -> None:
    # The seeded gates guard production: a weak version may still go to staging.
    assert seeded.promote("fraud@3", "staging", reason="shadow")["changed"]
    seeded.add_gate("fraud", "metrics.f1 >= 0.85", stage="canary")
    with pytest.raises(GateFailed):
        seeded.promote("fraud@1", "canary", reason="try")
    assert seeded.promote("fraud@2", "canary", reason="ok")["gates"][0]["passed"]
    assert [g["guards"] for g in seeded.gates("fraud")] == ["production", "production", "canary"]
    assert len(seeded.gates("fraud", stage="canary")) == 1
    assert seeded.check("fraud@1", stage="canary")["passed"] is False


def test_registering_a_run_takes_its_model_file(catalog, tmp_path) -> None:
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights")
    run = catalog.log_run("train", artifact=model_file)
    version = catalog.register("fraud", run=run)
    assert version["artifact_hash_algo"] == "sha256" and version["artifact_path"] == str(model_file)
    assert catalog.run_detail(run["id"])["artifacts"][0]["hash"] == version["artifact_hash"]
    other = tmp_path / "other.pkl"
    other.write_bytes(b"other weights")
    explicit = catalog.register("fraud", run=run, artifact=str(other))  # an explicit file wins
    assert explicit["artifact_path"] == str(other.resolve())
    assert catalog.register("fraud", run=catalog.log_run("no-model"))["artifact_hash"] is None


def test_rollback_of_a_stage_that_never_existed_names_the_stages(seeded) -> None:
    seeded.promote("fraud@1", "production", reason="first")
    with pytest.raises(InvalidInput, match="no stage 'nosuchstage'") as info:
        seeded.rollback("fraud", "nosuchstage")
    assert "production" in info.value.one_line()


def test_unarchive_makes_a_version_promotable_again_and_is_recorded(seeded) -> None:
    seeded.archive("fraud@1", reason="old")
    assert seeded.unarchive("fraud@1", reason="needed for the A/B test") ["changed"] is True
    assert seeded.versions([seeded.resolve("fraud@1")])[0]["status"] == "ready"
    event = seeded.events(action="unarchive")[0]
    assert (event["ref"], event["detail"]) == ("fraud@1", "needed for the A/B test")
    assert seeded.promote("fraud@1", reason="back")["to"] == "fraud@1"
    assert seeded.unarchive("fraud@1")["changed"] is False  # not archived: nothing written
