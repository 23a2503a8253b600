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
    (["--version"], ["mltui.cli.base", "mltui.cli.completion"]),
    (["ls", "--help"], ["mltui.cli.base", "mltui.cli.browse", "mltui.cli.completion"]),
    # stages borrows deploy's hook printers, so both come in.
    (["gate", "list", "--help"], ["mltui.cli.base", "mltui.cli.completion", "mltui.cli.deploy",
                                  "mltui.cli.stages"]),
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
