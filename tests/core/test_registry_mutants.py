"""Promotion, rollback, archive, tags and gates pinned exactly (mutation testing of
mltui/core/registry.py, docs/testing.md).

Results are compared as whole dicts, errors as the whole line a user reads, and the audit
trail (stage history and events) field by field, so a changed word, flag or pointer fails.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from mltui.core.errors import Conflict, GateFailed, InvalidInput, NotFound
from mltui.core.registry import canonical_name, stage_stack
from tests.conftest import snapshot_tables

F1 = "metrics.f1 >= 0.75"
REGRESSION = "metrics.f1 >= production - 0.05"


def _error(kind, call, *args, **kwargs):
    with pytest.raises(kind) as info:
        call(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("project,model,version,at,name", [
    (None, "m", 1, 0, "default_m_v1_19700101"),
    ("", "m", 1, 0, "default_m_v1_19700101"),
    ("--", "//", 2, 365 * 86_400, "default_model_v2_19710101"),
    (" my  proj ", "-a b.c-", 10, 1_790_000_000, "my-proj_a-b.c_v10_20260921"),
    ("x_y", "m", 3, 86_399, "x-y_m_v3_19700101"),
])
def test_canonical_name_parts(project, model, version, at, name) -> None:
    assert canonical_name(project, model, version, at) == name


def test_canonical_name_day_is_utc_and_only_dashes_are_trimmed(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert canonical_name("X-lab-X", "Xm", 1, 86_399) == "X-lab-X_Xm_v1_19700101"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("rows,stack", [
    ([("rollback", 1)], []),
    ([("import", 1), ("rollback", None), ("promote", 2)], [2]),
    ([("promote", 1), ("clear", None), ("promote", 2), ("rollback", 1)], [1, None]),
])
def test_stage_stack_edges(rows, stack) -> None:
    assert stage_stack(rows) == stack


def test_register_records_the_model_the_version_and_events(catalog, tmp_path) -> None:
    err = _error(InvalidInput, catalog.register, "bad name")
    assert err.one_line() == ("bad model name 'bad name'; use letters, digits, '_', '.', '-', "
                              "starting with a letter or digit")
    err = _error(InvalidInput, catalog.register, "m", artifact=str(tmp_path / "none.pkl"))
    assert err.one_line() == (f"artifact {tmp_path / 'none.pkl'} does not exist; pass the path of "
                              "the model file or folder")
    run = catalog.log_run("train", project="proj", tags={"team": "risk"})
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"abc")
    first = catalog.register("m", run=run, description="the model", tags={"n": 5})
    second = catalog.register("m", run=run, artifact=str(weights), base="m@1", doc="# notes",
                              actor="alice")
    assert (first["version"], second["version"]) == (1, 2)
    assert (second["artifact_path"], second["artifact_path_raw"]) == (str(weights.resolve()),
                                                                     str(weights))
    assert second["artifact_hash"] == hashlib.sha256(b"abc").hexdigest()
    assert second["artifact_hash_algo"] == "sha256" and second["artifact_size"] == 3
    assert second["created_by"] == "alice" and first["created_by"] == "tester"
    assert second["canonical_name"].startswith("proj_m_v2_")
    model = next(m for m in catalog.models() if m["name"] == "m")
    assert (model["description"], model["project"]) == ("the model", "proj")
    assert catalog.version_detail("m@1")["tags"] == {"n": "5"}
    doc = catalog.get_doc("m@2")
    assert (doc["text"], doc["author"], doc["message"]) == ("# notes", "alice", "initial documentation")
    create = catalog.events(action="create-model")
    assert [(e["entity_kind"], e["entity_id"], e["ref"]) for e in create] == [
        ("model", catalog.model_id("m"), "m")]
    assert model["created_at"] is not None
    err = _error(InvalidInput, catalog.register, "")
    assert err.one_line().startswith("bad model name ''")
    register = catalog.events(action="register")[0]
    assert (register["entity_kind"], register["entity_id"], register["ref"], register["actor"]) == (
        "version", catalog.resolve("m@2"), "m@2", "alice")
    assert register["after"] == {"canonical_name": second["canonical_name"], "run_id": run["id"],
                                 "artifact_hash": second["artifact_hash"]}
    lineage = catalog._read("SELECT src_kind, src_id, dst_kind, dst_id, role FROM lineage "
                            "WHERE dst_kind = 'version' ORDER BY dst_id, role")
    v1, v2 = catalog.resolve("m@1"), catalog.resolve("m@2")
    assert [tuple(r.values()) for r in lineage] == [
        ("run", run["id"], "version", v1, "output"), ("version", v1, "version", v2, "base"),
        ("run", run["id"], "version", v2, "output")]
    catalog.register("m", doc="# more")
    assert catalog.get_doc("m@3")["author"] == "tester"


def test_a_version_without_a_run_takes_the_given_project(catalog) -> None:
    version = catalog.register("solo", project="lab")
    assert version["canonical_name"].startswith("lab_solo_v1_")
    assert version["run_id"] is None
    # the model keeps its project for later versions that name none
    assert catalog.register("solo")["canonical_name"].startswith("lab_solo_v2_")


def test_an_import_keeps_its_version_number_unless_taken(catalog) -> None:
    with catalog._write() as conn:
        five = catalog._register(conn, "m", run_id=None, number=5)
        low = catalog._register(conn, "m", run_id=None, number=2)
        same = catalog._register(conn, "m", run_id=None, number=7)
        catalog._register(conn, "m", run_id=None, number=8)
    assert [catalog.ref_of(v) for v in (five, low, same)] == ["m@5", "m@6", "m@7"]
    assert catalog.ref_of(catalog.resolve("m")) == "m@8"


def test_run_artifact_prefers_best_then_model_then_last(catalog) -> None:
    run = catalog.log_run("r")
    assert catalog.run_artifact(run["id"]) == {}
    with catalog._write() as conn:
        for seq, kind in enumerate(("other", "model", "last", "best", "extra")):
            conn.execute("INSERT INTO run_artifacts (run_id, seq, kind, path, path_raw, hash_algo, "
                         "hash, size, base_model) VALUES (?,?,?,?,?,?,?,?,?)",
                         (run["id"], seq, kind, f"/{kind}", kind, "sha256", f"h{kind}", seq, f"b{kind}"))
    assert catalog.run_artifact(run["id"]) == {
        "artifact_path": "/best", "artifact_path_raw": "best", "artifact_hash_algo": "sha256",
        "artifact_hash": "hbest", "artifact_size": 3, "base_model": "bbest"}
    with catalog._write() as conn:
        conn.execute("DELETE FROM run_artifacts WHERE kind = 'best'")
    assert catalog.run_artifact(run["id"])["artifact_path"] == "/model"
    with catalog._write() as conn:
        conn.execute("DELETE FROM run_artifacts WHERE kind = 'model'")
    assert catalog.run_artifact(run["id"])["artifact_path"] == "/extra"


def test_tags_are_searchable_and_audited(seeded) -> None:
    assert _error(InvalidInput, seeded.set_tag, "fraud@1", "", "x").one_line() == "bad tag key ''"
    assert _error(InvalidInput, seeded.set_tag, "fraud@1", "a\x1f", "x").one_line() == \
        "bad tag key 'a\\x1f'"
    seeded.set_tag("fraud@1", "owner", "zanzibar")
    assert seeded.version_ids(filter="zanzibar") == [seeded.resolve("fraud@1")]
    seeded.set_tag("fraud@1", "owner", "quixote")
    seeded.set_tag("fraud@1", "owner", None)
    assert seeded.version_ids(filter="zanzibar") == [] == seeded.version_ids(filter="quixote")
    assert seeded.version_detail("fraud@1")["tags"] == {}
    seeded.set_tag("fraud@1", "two words", "ok")  # a space (32) is not a control character
    assert seeded.version_detail("fraud@1")["tags"] == {"two words": "ok"}
    vid = seeded.resolve("fraud@1")
    events = [(e["entity_kind"], e["entity_id"], e["ref"], e["before"], e["after"])
              for e in seeded.events(action="tag")][1:]
    assert {e[:2] for e in events} == {("version", vid)}
    events = [e[2:] for e in events]
    assert events == [("fraud@1", {"owner": "quixote"}, {"owner": None}),
                      ("fraud@1", {"owner": "zanzibar"}, {"owner": "quixote"}),
                      ("fraud@1", {"owner": None}, {"owner": "zanzibar"})]


def test_search_text_holds_names_tags_and_the_latest_doc(seeded) -> None:
    vid = seeded.resolve("fraud@2")
    seeded.set_doc("fraud@2", "mentions walrus", base_rev=seeded.get_doc(vid)["rev"])
    body = seeded._scalar("SELECT body FROM search_text WHERE kind = 'version' AND ref_id = ?",
                          (vid,))
    lines = body.split("\n")
    assert lines[:3] == [seeded.versions([vid])[0]["canonical_name"], "fraud", "better"]
    assert "payments" in lines and "mentions walrus" in lines


def test_archive_and_unarchive_results_events_and_refusals(seeded, catalog_path) -> None:
    seeded.promote("fraud@2", reason="r")
    before = snapshot_tables(catalog_path)
    err = _error(Conflict, seeded.archive, "fraud@2")
    assert err.one_line() == ("fraud@2 holds production: archiving it would leave that stage on a "
                              "version that can no longer be promoted; promote another version "
                              "first, or pass --force")
    seeded.promote("fraud@2", "staging")
    err = _error(Conflict, seeded.archive, "fraud@2")
    assert err.one_line().startswith("fraud@2 holds production, staging: archiving it would leave "
                                     "those stages on a version")
    assert snapshot_tables(catalog_path)["events"] != before["events"]  # only the staging promote
    assert seeded.archive("fraud@2", force=True, reason=" kept ") == {
        "ref": "fraud@2", "status": "archived", "changed": True, "stages": ["production", "staging"]}
    assert seeded.archive("fraud@1", reason="   ") == {
        "ref": "fraud@1", "status": "archived", "changed": True, "stages": []}
    assert seeded.archive("fraud@1") == {
        "ref": "fraud@1", "status": "archived", "changed": False, "stages": []}
    assert seeded.unarchive("fraud@1", reason="back") == {
        "ref": "fraud@1", "status": "ready", "changed": True, "stages": []}
    assert seeded.unarchive("fraud@1")["changed"] is False
    seeded.archive("fraud@3")
    v1, v2, v3 = (seeded.resolve(f"fraud@{n}") for n in (1, 2, 3))
    trail = [(e["action"], e["entity_kind"], e["entity_id"], e["ref"], e["before"], e["after"],
              e["detail"]) for e in seeded.events(limit=4)]
    assert trail == [
        ("archive", "version", v3, "fraud@3", {"status": "ready"}, {"status": "archived"}, None),
        ("unarchive", "version", v1, "fraud@1", {"status": "archived"}, {"status": "ready"}, "back"),
        ("archive", "version", v1, "fraud@1", {"status": "ready"}, {"status": "archived"}, None),
        ("archive", "version", v2, "fraud@2", {"status": "ready"}, {"status": "archived"}, "kept")]
    assert [v["status"] for v in seeded.versions(seeded.version_ids(model="fraud"))] == [
        "archived", "archived", "ready"]


def test_check_and_holders(seeded) -> None:
    assert seeded.stage_holder("fraud", "Production") is None
    assert seeded.rollback_target("fraud") is None
    seeded.promote("fraud@2", "PRODUCTION")
    assert seeded.ref_of(seeded.stage_holder("fraud", "Production")) == "fraud@2"
    assert seeded.check("fraud@1", stage="Production") == {
        "ref": "fraud@1", "stage": "production", "passed": False, "results": [
            {"rule": F1, "passed": True, "actual": 0.8, "expected": ">= 0.75",
             "detail": "0.8 >= 0.75", "skipped": False},
            {"rule": REGRESSION, "passed": False, "actual": 0.8,
             "expected": ">= 0.85 (production (fraud@2) 0.9 - 0.05)",
             "detail": "0.8 is not >= 0.85", "skipped": False}]}
    seeded.add_gate("fraud", "metrics.loss <= 0.5")  # a gate after the skipped one still counts
    held = seeded.check("fraud@2")
    assert held["passed"] is True
    assert [(r["rule"], r["actual"], r["skipped"]) for r in held["results"]] == [
        (F1, 0.9, False), (REGRESSION, 0.9, True), ("metrics.loss <= 0.5", 0.3, False)]
    assert held["results"][1]["detail"] == "skipped: the candidate holds production itself"
    seeded.promote("fraud@1", force=True, reason="r")
    current, target = seeded.rollback_target("fraud", "Production")
    assert (seeded.ref_of(current), seeded.ref_of(target)) == ("fraud@1", "fraud@2")


def test_gate_on_min_and_max_columns(catalog) -> None:
    run = catalog.log_run("r", metrics={"loss": [0.9, 0.1, 0.5]})
    catalog.register("m", run=run)
    catalog.add_gate("m", "metrics.loss.min <= 0.1")
    catalog.add_gate("m", "metrics.loss.max >= 0.9")
    catalog.add_gate("m", "metrics.loss <= 0.5")
    assert [r["actual"] for r in catalog.check("m@1")["results"]] == [0.1, 0.9, 0.5]
    assert catalog.check("m@1")["passed"] is True


def _stage_change(result: dict) -> dict:
    """A promote/rollback result without its deployment part: no hooks are configured here,
    so none ran; the history entry id is pinned by the history tests."""
    result = dict(result)
    assert result.pop("hooks", []) == [] and result.pop("hooks_failed", []) == []
    result.pop("history_id", None)
    return result


def test_promote_results_history_and_refusals(seeded, catalog_path) -> None:
    err = _error(InvalidInput, seeded.promote, "fraud@3", force=True, reason="  ")
    assert err.one_line() == 'a forced promotion needs a reason; add --reason "why the gate is overridden"'
    first = seeded.promote("fraud@2", reason=" good ")
    assert _stage_change(first) == {"ref": "fraud@2", "stage": "production", "changed": True, "from": None,
                     "to": "fraud@2", "gates": first["gates"], "forced": False}
    assert [g["passed"] for g in first["gates"]] == [True, True]
    assert _stage_change(seeded.promote("fraud@2", reason="again")) == {
        "ref": "fraud@2", "stage": "production", "changed": False, "from": "fraud@2",
        "to": "fraud@2", "gates": [], "forced": False}
    before = snapshot_tables(catalog_path)
    err = _error(GateFailed, seeded.promote, "fraud@3")
    assert err.one_line() == (
        "promotion of fraud@3 to production refused: 2 gate(s) failed: metrics.f1 >= 0.75 "
        "(0.7 is not >= 0.75); metrics.f1 >= production - 0.05 (0.7 is not >= 0.85); fix the "
        'model, or override with --force --reason "…"')
    assert [r["passed"] for r in err.results] == [False, False]
    assert snapshot_tables(catalog_path) == before
    forced = seeded.promote("fraud@3", force=True, reason="hotfix", actor="bob")
    assert (forced["from"], forced["to"], forced["forced"], forced["changed"]) == (
        "fraud@2", "fraud@3", True, True)
    passing = seeded.promote("fraud@1", "staging", force=True, reason="no gates here")
    assert passing["forced"] is False and passing["gates"] == []
    history = seeded.history(model="fraud")
    assert [(h["stage"], h["action"], h["from_version"], h["to_version"], h["reason"], h["actor"],
             h["forced"]) for h in history] == [
        ("staging", "promote", None, 1, "no gates here", "tester", False),
        ("production", "promote", 2, 3, "hotfix", "bob", True),
        ("production", "promote", None, 2, "good", "tester", False)]
    assert history[1]["gate_results"] == forced["gates"] and history[0]["gate_results"] == []
    assert history[0]["at"] > history[1]["at"] > history[2]["at"]
    event = seeded.events(action="promote")[1]
    assert event["entity_id"] == seeded.model_id("fraud")
    assert (event["entity_kind"], event["ref"], event["before"], event["after"], event["detail"],
            event["actor"]) == ("stage", "fraud@production", {"production": "fraud@2"},
                                {"production": "fraud@3"}, "hotfix", "bob")
    seeded.archive("fraud@1", force=True, reason="x")
    err = _error(InvalidInput, seeded.promote, "fraud@1")
    assert err.one_line() == "fraud@1 is archived and cannot be promoted"


def test_rollback_results_messages_and_audit(seeded) -> None:
    err = _error(InvalidInput, seeded.rollback, "fraud", "Canary")
    assert err.one_line() == ("nothing to roll back: fraud has no stage 'canary'; nothing was ever "
                              "promoted; mltui promote fraud@N --stage canary")
    seeded.promote("fraud@2", "staging")
    seeded.promote("fraud@1", reason="a")
    err = _error(InvalidInput, seeded.rollback, "fraud", "canary")
    assert err.one_line() == ("nothing to roll back: fraud has no stage 'canary'; its stages: "
                              "production, staging")
    err = _error(InvalidInput, seeded.rollback, "fraud")
    assert err.one_line() == ("nothing to roll back: fraud@production has no earlier version; see "
                              "the history with: mltui history --model fraud")
    seeded.promote("fraud@2", reason="b")
    assert _stage_change(seeded.rollback("fraud", "Production", reason=" alerts ", actor="carol")) == {
        "model": "fraud", "stage": "production", "from": "fraud@2", "to": "fraud@1"}
    entry = seeded.history(model="fraud")[0]
    assert (entry["action"], entry["from_version"], entry["to_version"], entry["reason"],
            entry["actor"], entry["forced"], entry["gate_results"]) == (
        "rollback", 2, 1, "alerts", "carol", False, [])
    event = seeded.events(action="rollback")[0]
    assert (event["ref"], event["before"], event["after"], event["detail"]) == (
        "fraud@production", {"production": "fraud@2"}, {"production": "fraud@1"}, "alerts")


def test_rollback_to_an_empty_stage_and_clear(seeded) -> None:
    err = _error(NotFound, seeded.clear_stage, "fraud", "Staging")
    assert err.one_line() == "no version of 'fraud' holds 'staging'"
    seeded.promote("fraud@1", "staging")
    seeded.clear_stage("fraud", "Staging", reason="retired", actor="dan")
    clear = seeded.history(model="fraud")[0]
    assert (clear["action"], clear["from_version"], clear["to_version"], clear["reason"],
            clear["actor"], clear["forced"]) == ("clear", 1, None, "retired", "dan", False)
    event = seeded.events(action="clear")[0]
    assert (event["before"], event["after"]) == ({"staging": "fraud@1"}, {"staging": None})
    seeded.promote("fraud@2", "staging")
    # the stack is [1, None, 2]: rolling back restores the cleared (empty) stage
    assert _stage_change(seeded.rollback("fraud", "staging")) == {
        "model": "fraud", "stage": "staging", "from": "fraud@2", "to": None}
    assert seeded.stage_holder("fraud", "staging") is None
    assert seeded.history(model="fraud")[0]["reason"] is None
    assert seeded.events(action="rollback")[0]["detail"] is None
    assert _stage_change(seeded.rollback("fraud", "staging")) == {
        "model": "fraud", "stage": "staging", "from": None, "to": "fraud@1"}


def test_rollback_after_an_outside_change_is_refused(seeded, catalog_path) -> None:
    seeded.promote("fraud@1")
    seeded.promote("fraud@2")
    with seeded._write() as conn:
        conn.execute("DELETE FROM stages")
    err = _error(Conflict, seeded.rollback, "fraud")
    assert err.one_line() == ("fraud@production changed outside the recorded history; promote the "
                              "version you want explicitly")


def test_gate_listing_adding_and_removing(seeded) -> None:
    seeded.add_gate("fraud", "metrics.loss.min <= staging + 0.1", stage="Canary")
    assert [(g["rule"], g["guards"], g["key"], g["op"], g["threshold"], g["stage"], g["offset"],
             g["created_by"]) for g in seeded.gates("fraud")] == [
        (F1, "production", "f1", ">=", 0.75, None, 0.0, "tester"),
        (REGRESSION, "production", "f1", ">=", None, "production", -0.05, "tester"),
        ("metrics.loss.min <= staging + 0.1", "canary", "loss", "<=", None, "staging", 0.1,
         "tester")]
    assert [g["rule"] for g in seeded.gates("fraud", stage="CANARY")] == [
        "metrics.loss.min <= staging + 0.1"]
    err = _error(InvalidInput, seeded.add_gate, "fraud", " metrics.f1 >= 0.75 ")
    assert err.one_line() == "fraud already has the gate 'metrics.f1 >= 0.75' on production"
    again = seeded.add_gate("fraud", F1, stage="canary")  # the same rule on another stage
    assert again == {"id": seeded.gates("fraud")[-1]["id"], "rule": F1, "stage": "canary"}
    added = seeded.events(action="gate-add")[0]
    assert (added["entity_kind"], added["entity_id"], added["ref"], added["after"]) == (
        "model", seeded.model_id("fraud"), "fraud", {"rule": F1, "stage": "canary"})
    ids = [g["id"] for g in seeded.gates("fraud")]
    seeded.remove_gate("fraud", ids[0])
    seeded.remove_gate("fraud", str(ids[1]))
    seeded.remove_gate("fraud", "  metrics.loss.min <= staging + 0.1 ")
    assert [g["rule"] for g in seeded.gates("fraud")] == [F1]
    mid = seeded.model_id("fraud")
    removed = [(e["entity_kind"], e["entity_id"], e["ref"], e["before"])
               for e in seeded.events(action="gate-remove")]
    assert removed == [("model", mid, "fraud", {"rule": "metrics.loss.min <= staging + 0.1"}),
                       ("model", mid, "fraud", {"rule": REGRESSION}),
                       ("model", mid, "fraud", {"rule": F1})]
    err = _error(NotFound, seeded.remove_gate, "fraud", 999)
    assert err.one_line() == "fraud has no gate 999; list them: mltui gate list fraud"
    err = _error(NotFound, seeded.remove_gate, "fraud", "metrics.nope > 1")
    assert err.one_line() == "fraud has no gate 'metrics.nope > 1'; list them: mltui gate list fraud"


def test_a_gate_id_is_up_to_18_digits(seeded) -> None:
    # 18 digits always fit SQLite's integers; 19 may not, so such text is a rule, never an id.
    gate_id = seeded._conn().execute("SELECT min(id) FROM gates").fetchone()[0]
    with seeded._write() as conn:
        conn.execute("UPDATE gates SET id = ? WHERE id = ?", (10 ** 17, gate_id))
    with pytest.raises(NotFound) as info:
        seeded.remove_gate("fraud", "9" * 19)
    assert info.value.one_line() == f"fraud has no gate '{'9' * 19}'; list them: mltui gate list fraud"
    seeded.remove_gate("fraud", str(10 ** 17))
    assert seeded._conn().execute("SELECT count(*) FROM gates WHERE id = ?",
                                  (10 ** 17,)).fetchone()[0] == 0


def test_a_registered_version_keeps_its_base_model_and_is_searchable(catalog) -> None:
    run = catalog.log_run("finetune-xyz")
    with catalog._write() as conn:
        conn.execute("INSERT INTO run_artifacts (run_id, seq, kind, path, path_raw, hash_algo, "
                     "hash, size, base_model) VALUES (?,?,?,?,?,?,?,?,?)",
                     (run["id"], 0, "model", "/m", "m", "sha256", "h", 1, "bert-base-uncased"))
    version = catalog.register("m", run=run)
    assert catalog.versions([catalog.resolve("m@1")])[0]["base_model"] == "bert-base-uncased"
    assert catalog.version_ids(filter="'finetune-xyz'") == [version["id"]]


def test_check_run_evaluates_one_stages_gates_on_a_runs_latest_values(seeded) -> None:
    seeded.promote("fraud@1", "production")  # f1 0.80: the regression gate's reference
    seeded.add_gate("fraud", "metrics.loss <= 0.1", stage="staging")
    live = seeded.log_run("live", metrics={"f1": [0.9, 0.78]})  # latest 0.78, not the best
    regression = {"rule": REGRESSION, "expected": ">= 0.75 (production (fraud@1) 0.8 - 0.05)",
                  "skipped": False}
    assert seeded.check_run("fraud", live["id"], stage=" Production") == {
        "model": "fraud", "stage": "production", "passed": True, "results": [
            {"rule": F1, "passed": True, "actual": 0.78, "expected": ">= 0.75",
             "detail": "0.78 >= 0.75", "skipped": False},
            {**regression, "passed": True, "actual": 0.78, "detail": "0.78 >= 0.75"}]}
    no_f1 = seeded.log_run("no-f1", metrics={"loss": [0.05]})
    assert seeded.check_run("fraud", no_f1["id"], stage="staging") == {
        "model": "fraud", "stage": "staging", "passed": True, "results": [
            {"rule": "metrics.loss <= 0.1", "passed": True, "actual": 0.05, "expected": "<= 0.1",
             "detail": "0.05 <= 0.1", "skipped": False}]}
    missing = "the candidate has no value for metrics.f1"
    assert seeded.check_run("fraud", no_f1["id"]) == {
        "model": "fraud", "stage": "production", "passed": False, "results": [
            {"rule": F1, "passed": False, "actual": None, "expected": ">= 0.75", "detail": missing,
             "skipped": False},
            {**regression, "passed": False, "actual": None, "detail": missing}]}


def test_archiving_a_synced_version_hands_the_server_the_change_and_the_reason(seeded) -> None:
    from mltui.core.remote_writes import ArchiveWrite

    vid = seeded.resolve("fraud@2")
    with seeded._write() as conn:  # as a pull links a version to its server copy
        conn.execute("INSERT INTO remote_versions VALUES ('srv', 'fraud-srv', 7, ?)", (vid,))
        conn.execute("INSERT INTO remote_aliases VALUES ('srv', 'fraud-srv', 'champion', 7)")
    writes = []
    seeded.write_through = writes.append
    seeded.archive("fraud@2", reason=" too slow ")
    seeded.unarchive("fraud@2")
    events = {a: seeded.events(action=a)[0] for a in ("archive", "unarchive")}
    assert writes == [
        ArchiveWrite("srv", "fraud-srv", 7, archived, ["champion"],
                     {"event_id": events[action]["id"], "action": action, "reason": reason,
                      "actor": "tester", "at": events[action]["at"]})
        for archived, action, reason in ((True, "archive", "too slow"), (False, "unarchive", None))]


def test_registering_on_a_synced_model_goes_to_its_server_or_says_why_not(seeded, tmp_path) -> None:
    from mltui.core.remote import REGISTERED_TAG
    from mltui.core.remote_writes import RegisterWrite

    url = "http://mlflow.test:5000"
    pulled = seeded.log_run("pulled", metrics={"f1": 0.9})
    local = seeded.log_run("local", metrics={"f1": 0.9})
    with seeded._write() as conn:  # as a pull records a server, its model and one of its runs
        conn.execute("INSERT INTO remote_state (remote, url) VALUES ('srv', ?)", (url,))
        conn.execute("INSERT INTO remote_models (remote, server_name, model_id) "
                     "SELECT 'srv', 'fraud-srv', id FROM models WHERE name = 'fraud'")
        conn.execute("UPDATE runs SET source_format = 'mlflow-server', source_path = ? "
                     "WHERE id = ?", (url, pulled["id"]))
    writes = []
    seeded.write_through = lambda write: writes.append(write) or (7, "server-uid-7")
    row = seeded.register("fraud", run=pulled["id"])
    vid = seeded.resolve("fraud@4")
    event = seeded.events(action="register")[0]
    note = {"event_id": event["id"], "actor": "tester", "at": event["at"], "ref": "fraud@4"}
    assert [(w.remote, w.server_name, w.run_uid, w.source, w.tags) for w in writes] == [
        ("srv", "fraud-srv", pulled["uid"], f"runs:/{pulled['uid']}/model",
         {REGISTERED_TAG: json.dumps(note, sort_keys=True, default=str)})]
    assert isinstance(writes[0], RegisterWrite) and "remote_note" not in row
    with seeded._write() as conn:
        assert conn.execute("SELECT * FROM remote_versions").fetchall() == [
            ("srv", "fraud-srv", 7, vid)]
    unreachable = "not registered on remote 'srv': the run is not one pulled from it, so the " \
                  "server cannot reach the artifact (this version stays local)"
    assert seeded.register("fraud", run=local["id"])["remote_note"] == unreachable
    art = tmp_path / "model.bin"
    art.write_bytes(b"w")
    assert seeded.register("fraud", run=pulled["id"], artifact=str(art))["remote_note"] == (
        "not registered on remote 'srv': the artifact is a local path the server cannot reach "
        "(this version stays local; register it there from the run, without --artifact)")
    assert len(writes) == 1
