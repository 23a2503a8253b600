"""Promote and rollback of a pulled model move the server's alias, or are refused whole."""

from __future__ import annotations

import json

from mltui.core.catalog import open_catalog
from tests.cli.test_cli import run
from tests.conftest import snapshot_tables
from tests.remote.conftest import own_model


def alias(client, model, name):
    return client.get_registered_model(model).aliases.get(name)


def pulled(project, model):
    result = run(["pull", "team", "--model", model], project)
    assert result.exit_code == 0, result.stderr
    return project


def test_promote_and_rollback_move_the_servers_alias(project, server):
    client = own_model(server.url, "wt-promote")
    pulled(project, "wt-promote")
    result = run(["promote", "wt-promote@3", "--stage", "production", "-r", "better recall"],
                 project)
    assert result.exit_code == 0, result.stderr
    assert alias(client, "wt-promote", "production") == "3"
    note = json.loads(client.get_model_version("wt-promote", "3").tags["mltui.stage.production"])
    assert note["reason"] == "better recall" and note["action"] == "promote"
    with open_catalog(project) as cat:
        assert note["history_id"] == cat.history(model="wt-promote")[0]["id"]
    result = run(["rollback", "wt-promote", "--stage", "production", "-r", "latency"], project)
    assert result.exit_code == 0, result.stderr
    assert alias(client, "wt-promote", "production") == "1"
    # A new stage is a new alias on the server.
    assert run(["promote", "wt-promote@2", "--stage", "staging"], project).exit_code == 0
    assert alias(client, "wt-promote", "staging") == "2"


def test_an_alias_moved_on_the_server_since_the_pull_is_a_conflict(project, server):
    client = own_model(server.url, "wt-conflict")
    pulled(project, "wt-conflict")
    client.set_registered_model_alias("wt-conflict", "production", "3")  # someone else
    before = snapshot_tables(project)
    result = run(["promote", "wt-conflict@2", "--stage", "production", "-r", "mine"], project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "is v3, but this catalog last saw v1" in result.stderr and "mltui pull" in result.stderr
    assert alias(client, "wt-conflict", "production") == "3"
    assert snapshot_tables(project) == before
    # After a pull the change is seen, recorded as observed, and the promotion goes through.
    pulled(project, "wt-conflict")
    history = run(["history", "--model", "wt-conflict", "--json"], project)
    assert json.loads(history.stdout)[0]["action"] == "observed"
    assert run(["promote", "wt-conflict@2", "--stage", "production", "-r", "mine"],
               project).exit_code == 0
    assert alias(client, "wt-conflict", "production") == "2"


def pulled_with_local_artifact(project, server, tmp_path, model):
    """A pulled model of its own, and a model file only this machine has."""
    client = own_model(server.url, model)
    pulled(project, model)
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"weights")
    return client, artifact


def test_a_version_only_in_this_catalog_is_refused(project, server, tmp_path):
    client, artifact = pulled_with_local_artifact(project, server, tmp_path, "wt-local")
    assert run(["register", "wt-local", "--artifact", str(artifact)], project).exit_code == 0
    before = snapshot_tables(project)
    result = run(["promote", "wt-local@4", "--stage", "production", "-r", "x"], project)
    assert result.exit_code == 2 and "exists only in this catalog" in result.stderr
    assert alias(client, "wt-local", "production") == "1"
    assert snapshot_tables(project) == before


def test_another_machines_promotion_appears_as_observed_with_its_reason(project, server,
                                                                        tmp_path):
    client = own_model(server.url, "wt-team")
    pulled(project, "wt-team")
    other = tmp_path / "other" / ".mltui" / "catalog.db"
    other.parent.mkdir(parents=True)
    (other.parent / "config.yaml").write_text(f"remotes:\n  team: {server.url}\n")
    pulled(other, "wt-team")
    result = run(["promote", "wt-team@2", "--stage", "production", "-r", "from the GPU box"],
                 other)
    assert result.exit_code == 0, result.stderr
    client.delete_registered_model_alias("wt-team", "production")  # then someone clears it
    client.set_registered_model_alias("wt-team", "production", "2")  # and sets it back by hand
    client.set_registered_model_alias("wt-team", "canary", "3")
    pulled(project, "wt-team")
    rows = json.loads(run(["history", "--model", "wt-team", "--json"], project).stdout)
    by_stage = {row["stage"]: row for row in rows if row["action"] == "observed"}
    assert by_stage["production"]["to_version"] == 2
    assert "promote on team: from the GPU box" in by_stage["production"]["reason"]
    assert by_stage["canary"]["to_version"] == 3
    assert "observed" in run(["history", "--model", "wt-team"], project).stdout
    client.delete_registered_model_alias("wt-team", "canary")
    pulled(project, "wt-team")
    with open_catalog(project) as cat:
        assert cat.stage_holder("wt-team", "canary") is None


def test_push_sends_a_promotion_made_without_write_through(project, server):
    client = own_model(server.url, "wt-push")
    pulled(project, "wt-push")
    with open_catalog(project) as cat:  # the Python API alone: no write-through attached
        cat.promote("wt-push@2", "production", reason="from a notebook")
    assert alias(client, "wt-push", "production") == "1"
    result = run(["push", "team", "--json"], project)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"stage": "wt-push@production", "from": 1, "to": 2}]
    assert alias(client, "wt-push", "production") == "2"
    assert json.loads(run(["push", "team", "--json"], project).stdout) == []


def test_offline_a_synced_promotion_is_refused_not_queued(project, server):
    client = own_model(server.url, "wt-offline")
    pulled(project, "wt-offline")
    (project.parent / "config.yaml").write_text("remotes:\n  team: http://127.0.0.1:9\n")
    before = snapshot_tables(project)
    result = run(["promote", "wt-offline@2", "--stage", "production", "-r", "x"], project)
    assert result.exit_code == 2 and "cannot connect" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot_tables(project) == before
    assert alias(client, "wt-offline", "production") == "1"


def test_a_doc_saved_on_a_synced_version_becomes_its_description(project, server, tmp_path):
    client = own_model(server.url, "wt-doc")
    pulled(project, "wt-doc")
    doc = tmp_path / "notes.md"
    doc.write_text("# wt-doc v2\n\nTrained on Q3; recall first.\n")
    result = run(["doc", "wt-doc@2", "--set", str(doc)], project)
    assert result.exit_code == 0, result.stderr
    assert client.get_model_version("wt-doc", "2").description == doc.read_text()


def test_a_model_deleted_on_the_server_is_one_line_and_changes_nothing(project, server):
    client = own_model(server.url, "wt-deleted")
    pulled(project, "wt-deleted")
    client.delete_registered_model("wt-deleted")
    before = snapshot_tables(project)
    result = run(["promote", "wt-deleted@2", "--stage", "production", "-r", "x"], project)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "RESOURCE_DOES_NOT_EXIST" in result.stderr or "not found" in result.stderr
    assert snapshot_tables(project) == before
    result = run(["pull", "team", "--model", "wt-deleted"], project)
    assert result.exit_code == 2 and "no registered model 'wt-deleted'" in result.stderr


def test_a_description_edited_on_the_server_becomes_a_doc_revision(project, server):
    client = own_model(server.url, "wt-desc")
    pulled(project, "wt-desc")
    client.update_model_version("wt-desc", "1", description="edited in the MLflow UI")
    client.set_model_version_tag("wt-desc", "1", "reviewed", "yes")
    result = run(["pull", "team", "--model", "wt-desc", "--full"], project)
    assert result.exit_code == 0, result.stderr
    assert run(["doc", "wt-desc@1"], project).stdout.strip() == "edited in the MLflow UI"
    with open_catalog(project) as cat:
        assert cat.doc_revisions("wt-desc@1")[0]["author"] == "remote:team"
        assert cat.versions([cat.resolve("wt-desc@1")])[0]["tags"]["reviewed"] == "yes"


def test_archive_and_unarchive_tag_the_servers_version(project, server):
    client = own_model(server.url, "wt-archive")
    pulled(project, "wt-archive")
    result = run(["archive", "wt-archive@3", "-r", "leaks labels"], project)
    assert result.exit_code == 0, result.stderr
    note = json.loads(client.get_model_version("wt-archive", "3").tags["mltui.archived"])
    assert note["action"] == "archive" and note["reason"] == "leaks labels"
    # Archiving a stage holder with --force keeps its alias, as it keeps the local stage.
    assert run(["archive", "wt-archive@1", "--force", "-r", "old"], project).exit_code == 0
    assert "mltui.archived" in client.get_model_version("wt-archive", "1").tags
    assert alias(client, "wt-archive", "production") == "1"
    result = run(["unarchive", "wt-archive@3", "-r", "relabelled"], project)
    assert result.exit_code == 0, result.stderr
    assert "mltui.archived" not in client.get_model_version("wt-archive", "3").tags


def test_an_archive_after_a_stage_moved_on_the_server_is_a_conflict(project, server):
    client = own_model(server.url, "wt-archive-conflict")
    pulled(project, "wt-archive-conflict")
    client.set_registered_model_alias("wt-archive-conflict", "staging", "3")  # someone else
    before = snapshot_tables(project)
    result = run(["archive", "wt-archive-conflict@3", "-r", "mine"], project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "holds staging, but this catalog last saw no alias" in result.stderr
    assert "mltui.archived" not in client.get_model_version("wt-archive-conflict", "3").tags
    assert snapshot_tables(project) == before


def test_registering_a_pulled_run_creates_the_version_on_the_server(project, server):
    client = own_model(server.url, "wt-register")
    run(["pull", "team"], project)  # the runs as well as the registry
    run_id = client.get_model_version("wt-register", "1").run_id
    result = run(["register", "wt-register", "--run", f"run:{run_id}", "--tag", "team=risk"],
                 project)
    assert result.exit_code == 0, result.stderr
    assert "not registered on remote" not in result.stderr
    made = client.get_model_version("wt-register", "4")
    assert made.source == f"runs:/{run_id}/model" and made.run_id == run_id
    assert made.tags["team"] == "risk"
    with open_catalog(project) as cat:
        event = cat._read("SELECT id FROM events WHERE action = 'register' ORDER BY id DESC")[0]
        assert json.loads(made.tags["mltui.registered"])["event_id"] == event["id"]
    # The next pull finds that version already here (no duplicate), and it promotes through.
    pulled(project, "wt-register")
    rows = json.loads(run(["ls", "-m", "wt-register", "--json"], project).stdout)
    assert len(rows) == 4, rows
    assert run(["promote", "wt-register@4", "--stage", "production", "-r", "new"],
               project).exit_code == 0
    assert alias(client, "wt-register", "production") == "4"


def test_registering_a_local_artifact_stays_local_and_says_so(project, server, tmp_path):
    client, artifact = pulled_with_local_artifact(project, server, tmp_path,
                                                  "wt-register-local")
    result = run(["register", "wt-register-local", "--artifact", str(artifact)], project)
    assert result.exit_code == 0, result.stderr
    assert "not registered on remote 'team'" in result.stderr and "local path" in result.stderr
    assert len(client.search_model_versions("name = 'wt-register-local'")) == 3
