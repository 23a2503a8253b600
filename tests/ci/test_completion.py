"""Shell completion: the scripts for bash, zsh and fish, and completing commands, options,
model names, stages and references from the nearest catalog (silently nothing without one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import BashComplete
from click.testing import CliRunner

from mltui.cli import cli

INSTRUCTIONS = {"bash": "bash_complete", "zsh": "zsh_complete", "fish": "fish_complete"}


def complete(args: list[str], incomplete: str) -> list[str]:
    """What a Tab after ``mltui ARGS INCOMPLETE`` offers (click's own completion machinery)."""
    return [item.value for item in
            BashComplete(cli, {}, "mltui", "_MLTUI_COMPLETE").get_completions(args, incomplete)]


@pytest.fixture
def in_demo(demo_catalog: Path, monkeypatch) -> Path:
    """The working directory is the demo project (its catalog found like .git)."""
    monkeypatch.chdir(demo_catalog.parent.parent)
    return demo_catalog


@pytest.mark.parametrize("shell", sorted(INSTRUCTIONS))
def test_completion_prints_each_shells_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert f"_MLTUI_COMPLETE={INSTRUCTIONS[shell]}" in result.stdout
    assert {"bash": "complete -o nosort -F _mltui_completion mltui", "zsh": "#compdef mltui",
            "fish": "complete --no-files --command mltui"}[shell] in result.stdout


def test_completion_refuses_an_unknown_shell() -> None:
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 2


@pytest.mark.parametrize("shell", sorted(INSTRUCTIONS))
def test_each_shells_protocol_completes_references(shell: str, in_demo: Path) -> None:
    env = {**os.environ, "_MLTUI_COMPLETE": INSTRUCTIONS[shell], "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    if shell == "fish":  # fish passes the command line and the word under the cursor
        env.update(COMP_WORDS="mltui promote fraud@p", COMP_CWORD="fraud@p")
    else:
        env.update(COMP_WORDS="mltui promote fraud@p", COMP_CWORD="2")
    result = subprocess.run([sys.executable, "-m", "mltui"], env=env, check=False, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    if shell == "zsh":  # type, value, help: three lines per item
        assert result.stdout.splitlines()[:2] == ["plain", "fraud@production"]
    else:
        assert result.stdout.splitlines() == ["plain,fraud@production"]


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("mltui") is None,
                    reason="needs bash and the mltui console script")
def test_bash_script_completes_through_bash(in_demo: Path) -> None:
    script = subprocess.run(["mltui", "completion", "bash"], check=False, capture_output=True, text=True,
                            timeout=60).stdout
    # bash calls the function with the command's name as $1, which the script runs.
    driver = script + "\nCOMP_WORDS=(mltui gate list ch); COMP_CWORD=3; _mltui_completion mltui; " \
                      "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    result = subprocess.run(["bash", "-c", driver], check=False, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["churn"], result.stderr


def test_commands_and_options_complete() -> None:
    assert "check" in complete([], "ch") and "completion" in complete([], "comp")
    assert "--report" in complete(["check"], "--re")


def test_references_complete_from_the_nearest_catalog(in_demo: Path) -> None:
    assert complete(["promote"], "f") == ["fraud@latest", "fraud@champion", "fraud@production",
                                          "fraud@staging"] + [f"fraud@{n}" for n in range(7, 0, -1)]
    assert complete(["show"], "") == ["churn", "fraud"]
    assert complete(["check"], "churn@") == ["churn@latest", "churn@production", "churn@3",
                                             "churn@2", "churn@1"]
    assert complete(["compare", "fraud@1"], "fraud@pro") == ["fraud@production"]
    assert complete(["show"], "data:trans") == ["data:transactions@3", "data:transactions@2",
                                                "data:transactions@1"]
    runs = complete(["show"], "run:")
    assert len(runs) == 10 and all(r.startswith("run:") for r in runs)
    assert complete(["show"], "nosuch") == [] and complete(["show"], "nosuch@") == []


def test_models_and_stages_complete(in_demo: Path) -> None:
    assert complete(["gate", "list"], "") == ["churn", "fraud"]
    assert complete(["ls", "--model"], "fr") == ["fraud"]
    assert complete(["promote", "fraud@7", "--stage"], "") == ["champion", "production",
                                                               "staging"]
    assert complete(["rollback"], "c") == ["churn"]


def test_catalog_option_is_followed_before_and_after_the_command(demo_catalog: Path, tmp_path,
                                                                 monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert complete(["--catalog", str(demo_catalog), "gate", "list"], "") == ["churn", "fraud"]
    assert complete(["gate", "list", "--catalog", str(demo_catalog)], "") == ["churn", "fraud"]
    monkeypatch.setenv("MLTUI_CATALOG", str(demo_catalog))
    assert complete(["gate", "list"], "f") == ["fraud"]


def test_catalog_option_completes_file_names() -> None:
    for args in (["--catalog"], ["show", "--catalog"]):
        [item] = BashComplete(cli, {}, "mltui", "_MLTUI_COMPLETE").get_completions(args, "pro")
        assert (item.type, item.value) == ("file", "pro")


def test_silent_and_harmless_without_a_catalog(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert complete(["promote"], "") == [] and complete(["gate", "list"], "") == []
    assert complete(["promote", "x", "--stage"], "") == ["production", "staging"]
    bad = tmp_path / "bad" / ".mltui" / "catalog.db"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a database" * 100)
    assert complete(["--catalog", str(bad), "show"], "") == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == [".mltui", "bad", "catalog.db"]


def test_help_command_shows_each_commands_help() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["help", "gate", "add"], prog_name="mltui")
    assert result.exit_code == 0 and result.stdout.startswith("Usage: mltui gate add")
    assert runner.invoke(cli, ["help"], prog_name="mltui").stdout == \
        runner.invoke(cli, ["--help"], prog_name="mltui").stdout
    unknown = runner.invoke(cli, ["help", "nosuch"])
    assert unknown.exit_code == 2 and "no such command" in unknown.stderr


def _commands(group, path=()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in _commands(cli)])
def test_every_commands_help_has_an_example(path: str) -> None:
    result = CliRunner().invoke(cli, ["help", *path.split()], prog_name="mltui")
    assert result.exit_code == 0
    examples = [line for line in result.stdout.splitlines()
                if line.strip().startswith(("mltui ", 'eval "$(mltui '))]
    assert examples, f"`mltui {path} --help` shows no example"
