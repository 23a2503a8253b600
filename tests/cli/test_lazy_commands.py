"""Command modules are imported when one of their commands runs, not at start.

``mltui`` alone opens the app: it must not pay for the ~14 command modules it never runs
(benchmarks/phases.py).  The map in ``mltui/cli/__init__.py`` names each command's module;
these tests keep it true and check what a fresh interpreter has imported.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from mltui.cli import COMMAND_MODULES, cli, main
from mltui.cli.app_start import app_options

PROBE = """
import json, sys
from mltui.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith("mltui.cli."))
sys.__stderr__.write("\\nPROBE " + json.dumps(loaded) + "\\n")
"""


def loaded_by(*args: str) -> list[str]:
    """The ``mltui.cli`` modules a fresh interpreter has imported after ``mltui ARGS``."""
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                            text=True, timeout=60)
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    return json.loads(line[len("PROBE "):])


def test_the_map_names_the_module_of_every_command():
    """Every registered command is in the map under the module that registers it."""
    for name, command in cli.commands.items():
        module = command.callback.__module__ if command.callback else ""
        expected = "mltui.cli.completion" if name in ("completion", "help") \
            else f"mltui.cli.{COMMAND_MODULES.get(name)}"
        assert module == expected, f"{name} is registered by {module}, the map says {expected}"
    assert set(COMMAND_MODULES) <= set(cli.commands), "the map names a command no module has"


@pytest.mark.parametrize("args, expected", [
    (["--version"], ["mltui.cli.app_start", "mltui.cli.base", "mltui.cli.completion"]),
    (["ls", "--help"], ["mltui.cli.app_start", "mltui.cli.base", "mltui.cli.browse",
                        "mltui.cli.completion"]),
    # stages borrows deploy's hook printers, so both come in.
    (["gate", "list", "--help"], ["mltui.cli.app_start", "mltui.cli.base", "mltui.cli.completion",
                                  "mltui.cli.deploy", "mltui.cli.stages"]),
], ids=" ".join)
def test_a_command_imports_only_its_own_module(args, expected):
    assert loaded_by(*args) == expected


def test_help_lists_every_command():
    assert set(COMMAND_MODULES) | {"completion", "help"} <= set(cli.list_commands(None))


def test_main_gives_the_collector_back_as_it_found_it():
    """``main`` pauses the garbage collector while the process starts; a caller gets it back
    in the state it left it, whether on or off."""
    for state in (True, False):
        (gc.enable if state else gc.disable)()
        try:
            with pytest.raises(SystemExit):
                main(["--version"])
            assert gc.isenabled() is state
        finally:
            gc.enable()


APP_PROBE = """
import gc, json, sys
import mltui.tui.app
started = []
def run_app(cat, start, on_first_rows=None, **options):
    # The collector: paused while the app builds its first screen, on once its rows show.
    paused = not gc.isenabled()
    if on_first_rows is not None:
        on_first_rows()
    started.append([str(cat.path), start, options, paused, gc.isenabled()])
mltui.tui.app.run_app = run_app
from mltui.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m == "click" or m.startswith(("click.", "mltui.cli.")))
sys.__stderr__.write("\\nPROBE " + json.dumps({"started": started, "loaded": loaded}) + "\\n")
"""


def app_start(*args: str, env: dict[str, str] | None = None) -> dict:
    """``mltui ARGS`` with the app replaced by a note of how it was started."""
    import os

    result = subprocess.run([sys.executable, "-c", APP_PROBE, *args], capture_output=True,
                            text=True, timeout=60, env={**os.environ, **(env or {})})
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    return json.loads(line[len("PROBE "):])


def test_the_app_alone_starts_without_click(tmp_path):
    from mltui.core.catalog import open_catalog

    path = tmp_path / "catalog.db"
    with open_catalog(path, create=True) as cat:
        run = cat.log_run("r1", metrics={"f1": [0.5]})
        cat.register("fraud", run=run["id"])
    report = app_start("--catalog", str(path), "--model", "fraud", "--no-mouse")
    assert report["started"] == [[str(path), "fraud", {"mouse": False}, True, True]]
    assert report["loaded"] == ["mltui.cli.app_start"]
    report = app_start("--all", env={"MLTUI_CATALOG": str(path)})
    assert report["started"] == [[str(path), "*", {"mouse": True}, True, True]]
    assert report["loaded"] == ["mltui.cli.app_start"]


@pytest.mark.parametrize("args", [["--remote", "team"], ["--catalog"], ["--model", "nosuch"],
                                  ["--catalog", "x", "--catalog", "y"], ["ls"], ["--bogus"]],
                         ids=" ".join)
def test_anything_else_goes_to_the_click_group(tmp_path, args):
    """A command, an option the app path does not know, a catalog or model that does not
    open: the click group's code decides, or says what is wrong, as it always did."""
    from mltui.core.catalog import open_catalog

    path = tmp_path / "catalog.db"
    open_catalog(path, create=True).close()
    report = app_start(*args, env={"MLTUI_CATALOG": str(path)})
    assert "mltui.cli.base" in report["loaded"] and "click" in report["loaded"]


@pytest.mark.parametrize("args", [["--catalog", "a\udcffb"], ["--model", "a\x00b"]], ids=repr)
def test_odd_arguments_go_to_the_click_group(args):
    assert app_options(args) is None


def test_app_options_read_both_spellings():
    assert app_options(["--catalog=x.db", "--model", "m", "--all"]) == \
        {"catalog": "x.db", "model": "m", "all": True}
    assert app_options([]) == {}
    assert app_options(["--model", "-x"]) is None


def test_an_error_on_the_app_path_is_one_line_said_once(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mltui", "--catalog",
                             str(tmp_path / "missing.db")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("mltui: error: no mltui catalog at") == 1, result.stderr
    assert "Traceback" not in result.stderr
