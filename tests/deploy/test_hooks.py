"""Stage hooks: veto before, deploy after, recorded with the history entry, never a shell."""

from __future__ import annotations

import os
import sys
import time

import pytest

from mltui.core.errors import InvalidInput
from mltui.core.hooks import HookFailed
from tests.conftest import snapshot_tables


def _hooks(stage: str, before=None, after=None, timeout=None) -> dict:
    phases = {}
    if before:
        phases["before"] = before
    if after:
        phases["after"] = after
    hooks = {"stages": {stage: phases}}
    if timeout:
        hooks["timeout"] = timeout
    return {"hooks": hooks}


def test_vetoing_before_hook_leaves_everything_unchanged(seeded, project, catalog_path):
    seeded.promote("fraud@1", "production")
    project.write(_hooks("production", before=[
        [sys.executable, "-c", "print('loading model'); print('smoke test: f1 0.1'); raise SystemExit(3)"]]))
    before = snapshot_tables(catalog_path)
    with pytest.raises(HookFailed) as info:
        seeded.promote("fraud@2", "production", reason="better")
    assert "exit 3" in str(info.value) and "smoke test: f1 0.1" in str(info.value)
    assert info.value.exit_code == 1
    assert info.value.runs[0]["tail"] == ["loading model", "smoke test: f1 0.1"]
    assert snapshot_tables(catalog_path) == before


def test_after_hook_gets_the_change_in_its_environment(seeded, project):
    seeded.promote("fraud@1", "production")
    project.write(_hooks("production", after=[project.recorder]))
    result = seeded.promote("fraud@2", "production", reason="better recall")
    env = project.calls()[0]["env"]
    version = seeded.versions([seeded.resolve("fraud@2")])[0]
    assert env["MLTUI_ACTION"] == "promote" and env["MLTUI_PHASE"] == "after"
    assert env["MLTUI_MODEL"] == "fraud" and env["MLTUI_STAGE"] == "production"
    assert env["MLTUI_VERSION"] == "2" and env["MLTUI_PREVIOUS_VERSION"] == "1"
    assert env["MLTUI_CANONICAL_NAME"] == version["canonical_name"]
    assert env["MLTUI_REASON"] == "better recall" and env["MLTUI_ACTOR"] == "tester"
    assert env["MLTUI_HISTORY_ID"] == str(result["history_id"])
    assert env["MLTUI_CATALOG"] == str(seeded.path)
    assert result["hooks_failed"] == [] and result["hooks"][0]["ok"]


def test_failing_after_hook_is_recorded_and_the_promotion_stays(seeded, project, monkeypatch):
    seeded.promote("fraud@1", "production")
    project.write(_hooks("production", after=[project.recorder, project.recorder]))
    monkeypatch.setenv("HOOK_EXIT", "4")
    result = seeded.promote("fraud@2", "production")
    assert seeded.stage_holder("fraud", "production") == seeded.resolve("fraud@2")
    assert len(project.calls()) == 1  # the second step does not run after a failed first
    assert "exit 4" in result["hooks_failed"][0] and "hook says hello" in result["hooks_failed"][0]
    runs = seeded.hook_runs("stage_history", [result["history_id"]])[result["history_id"]]
    assert [(r["phase"], r["exit_code"], r["tail"]) for r in runs] == [("after", 4, ["hook says hello"])]


def test_before_runs_recorded_with_the_history_entry(seeded, project):
    project.write(_hooks("production", before=[project.recorder], after=[project.recorder]))
    result = seeded.promote("fraud@2", "production")
    runs = seeded.hook_runs("stage_history", [result["history_id"]])[result["history_id"]]
    assert [r["phase"] for r in runs] == ["before", "after"]
    assert all(r["duration"] >= 0 and r["command"] == project.recorder for r in runs)
    assert project.calls()[0]["env"]["MLTUI_HISTORY_ID"] == ""  # not written yet when it ran


def test_rollback_runs_the_same_hooks(seeded, project):
    seeded.promote("fraud@1", "production")
    seeded.promote("fraud@2", "production")
    project.write(_hooks("production", before=[project.recorder], after=[project.recorder]))
    result = seeded.rollback("fraud", "production", reason="p99 latency")
    calls = project.calls()
    assert [c["env"]["MLTUI_PHASE"] for c in calls] == ["before", "after"]
    assert all(c["env"]["MLTUI_ACTION"] == "rollback" and c["env"]["MLTUI_VERSION"] == "1"
               and c["env"]["MLTUI_PREVIOUS_VERSION"] == "2" for c in calls)
    assert result["to"] == "fraud@1" and not result["hooks_failed"]


def test_vetoed_rollback_changes_nothing(seeded, project, catalog_path, monkeypatch):
    seeded.promote("fraud@1", "production")
    seeded.promote("fraud@2", "production")
    project.write(_hooks("production", before=[project.recorder]))
    monkeypatch.setenv("HOOK_EXIT", "1")
    before = snapshot_tables(catalog_path)
    with pytest.raises(HookFailed):
        seeded.rollback("fraud", "production")
    assert snapshot_tables(catalog_path) == before


def test_refused_promotion_runs_no_hook(seeded, project):
    seeded.promote("fraud@2", "production")
    project.write(_hooks("production", before=[project.recorder], after=[project.recorder]))
    with pytest.raises(Exception):
        seeded.promote("fraud@3", "production")  # f1 0.70 fails the gates
    seeded.promote("fraud@2", "production")  # already there: nothing to deploy
    assert project.calls() == []


def test_other_stages_hooks_do_not_run(seeded, project):
    project.write(_hooks("staging", after=[project.recorder]))
    result = seeded.promote("fraud@2", "production")
    assert project.calls() == [] and result["hooks"] == []


HOSTILE = ["x; rm -rf ~", "$(touch pwned)", "`touch pwned`", "a\nb; touch pwned", "' \" \\ | & >pwned"]


@pytest.mark.parametrize("reason", HOSTILE)
def test_hostile_reasons_and_paths_never_reach_a_shell(seeded, project, tmp_path, reason,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    art = tmp_path / "$(touch pwned); rm -rf x" / "model `touch pwned`.bin"
    art.parent.mkdir()
    art.write_bytes(b"weights")
    seeded.register("fraud", run=seeded.versions([seeded.resolve("fraud@2")])[0]["run_id"],
                    artifact=str(art))
    project.write(_hooks("production", before=[project.recorder], after=[
        project.recorder + ["--reason-as-arg"]]))
    result = seeded.promote("fraud@4", "production", reason=reason)
    env = project.calls()[1]["env"]
    assert env["MLTUI_REASON"] == reason and env["MLTUI_ARTIFACT_PATH"] == str(art.resolve())
    assert not list(tmp_path.rglob("pwned")) and not result["hooks_failed"]


HUNG = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "w") as f:
    f.write(str(child.pid))
print("warming up", flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_hung_hook_is_killed_at_its_timeout(seeded, project, tmp_path):
    script, pid_file = tmp_path / "hung.py", tmp_path / "child.pid"
    script.write_text(HUNG)
    project.write(_hooks("production", before=[{"command": [sys.executable, str(script),
                                                            str(pid_file)], "timeout": 1}]))
    started = time.monotonic()
    with pytest.raises(HookFailed) as info:
        seeded.promote("fraud@2", "production")
    assert time.monotonic() - started < 30  # the hook would sleep for 600 s
    assert info.value.runs[0]["timed_out"] and "timed out" in str(info.value)
    assert "warming up" in info.value.runs[0]["tail"]
    # The hook's own child dies with it (its whole process group is killed).
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)
    assert seeded.stage_holder("fraud", "production") is None


def test_missing_command_is_a_failed_hook(seeded, project):
    project.write(_hooks("production", before=[["/nonexistent/deploy-tool", "--now"]]))
    with pytest.raises(HookFailed) as info:
        seeded.promote("fraud@2", "production")
    assert "exit 127" in str(info.value) and "cannot run" in str(info.value)


@pytest.mark.parametrize("config, key", [
    ({"hook": {}}, "hook: unknown section"),
    ({"hooks": {"stages": {"production": {"afterr": []}}}}, "hooks.stages.production.afterr"),
    ({"hooks": {"timeout": -1}}, "hooks.timeout: must be a positive"),
    ({"hooks": {"stages": {"production": {"after": [{"command": ["x"], "timeout": "soon"}]}}}},
     "hooks.stages.production.after[0].timeout"),
    ({"hooks": {"stages": {"production": {"after": [{"cmd": ["x"]}]}}}},
     "hooks.stages.production.after[0].cmd"),
    ({"hooks": {"stages": {"production": {"after": [[]]}}}}, "after[0]: empty command"),
    ({"hooks": {"on_alert": "notify"}}, "hooks.on_alert: must be a list"),
])
def test_bad_config_names_the_bad_key(seeded, project, catalog_path, config, key):
    project.write(config)
    before = snapshot_tables(catalog_path)
    with pytest.raises(InvalidInput) as info:
        seeded.promote("fraud@2", "production")
    assert key in info.value.one_line()
    assert snapshot_tables(catalog_path) == before


def test_string_command_is_split_not_run_by_a_shell(seeded, project):
    project.write(_hooks("production", after=[f"{sys.executable} -c 'import sys; print(sys.argv[1:])' 'a b' '$HOME'"]))
    result = seeded.promote("fraud@2", "production")
    assert result["hooks"][0]["tail"] == ["['a b', '$HOME']"]


def test_cli_failed_after_hook_exits_1_and_keeps_the_promotion(seeded, project, catalog_path,
                                                               monkeypatch):
    from tests.deploy.conftest import run_cli

    project.write(_hooks("production", after=[project.recorder]))
    monkeypatch.setenv("HOOK_EXIT", "2")
    result = run_cli(["promote", "fraud@2", "--reason", "x"], catalog_path)
    assert result.exit_code == 1
    assert "production: none → fraud@2" in result.stderr and "hook says hello" in result.stderr
    assert seeded.stage_holder("fraud", "production") == seeded.resolve("fraud@2")


def test_cli_vetoed_promotion_shows_the_hooks_last_lines(seeded, project, catalog_path,
                                                         monkeypatch):
    from tests.deploy.conftest import run_cli

    project.write(_hooks("production", before=[project.recorder]))
    monkeypatch.setenv("HOOK_EXIT", "5")
    result = run_cli(["promote", "fraud@2"], catalog_path)
    assert result.exit_code == 1
    assert "| hook says hello" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("mltui: error: promote of fraud@production")
    assert seeded.stage_holder("fraud", "production") is None


def test_history_shows_hook_runs_under_their_entry(seeded, project, catalog_path, monkeypatch):
    import json as json_mod

    from tests.deploy.conftest import run_cli

    project.write(_hooks("production", after=[project.recorder]))
    monkeypatch.setenv("HOOK_EXIT", "3")
    run_cli(["promote", "fraud@2"], catalog_path)
    text = run_cli(["history"], catalog_path).stdout
    assert "hook after" in text and "exit 3: " in text
    rows = json_mod.loads(run_cli(["history", "--json"], catalog_path).stdout)
    assert rows[0]["hooks"][0]["exit_code"] == 3


def test_rollback_hooks_get_the_stage_model_reason_and_actor(seeded, project):
    seeded.promote("fraud@1", "staging")
    seeded.promote("fraud@2", "staging")
    project.write(_hooks("staging", before=[project.recorder], after=[project.recorder]))
    seeded.rollback("fraud", "Staging", reason="bad canary", actor="ops-bot")
    envs = [c["env"] for c in project.calls()]
    assert [(e["MLTUI_PHASE"], e["MLTUI_ACTION"], e["MLTUI_MODEL"], e["MLTUI_STAGE"],
             e["MLTUI_VERSION"], e["MLTUI_PREVIOUS_VERSION"], e["MLTUI_REASON"], e["MLTUI_ACTOR"])
            for e in envs] == [
        (phase, "rollback", "fraud", "staging", "1", "2", "bad canary", "ops-bot")
        for phase in ("before", "after")]


def test_rollback_after_a_clear_runs_the_before_hooks(seeded, project):
    # The stage was cleared; rolling back brings fraud@1 back: a deployment like any other.
    seeded.promote("fraud@1", "production")
    seeded.clear_stage("fraud", "production")
    project.write(_hooks("production", before=[project.recorder]))
    result = seeded.rollback("fraud", "production")
    assert result["to"] == "fraud@1"
    assert [(c["env"]["MLTUI_VERSION"], c["env"]["MLTUI_PREVIOUS_VERSION"])
            for c in project.calls()] == [("1", "")]


def test_promotion_hooks_get_the_actor_and_run_for_a_forced_promotion(seeded, project):
    project.write(_hooks("production", before=[project.recorder]))
    seeded.promote("fraud@3", "production", force=True, reason="hotfix", actor="ops-bot")
    assert [(c["env"]["MLTUI_VERSION"], c["env"]["MLTUI_ACTOR"], c["env"]["MLTUI_REASON"])
            for c in project.calls()] == [("3", "ops-bot", "hotfix")]


def test_promoting_an_archived_version_runs_no_hook(seeded, project):
    seeded.archive("fraud@2", reason="retired")
    project.write(_hooks("production", before=[project.recorder], after=[project.recorder]))
    with pytest.raises(InvalidInput):
        seeded.promote("fraud@2", "production")
    assert project.calls() == []
