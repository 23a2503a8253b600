"""The app's start path imports only what the first screen draws.

The Markdown renderer (markdown-it, Pygments, ``importlib.metadata``: ~0.1 s), plotext, pandas
and the other screens are loaded when they are first used, not before the first rows are on
screen.  A fresh interpreter imports what ``mltui`` with no command imports before ``App.run``
(the CLI, the catalog, the app and its Browse screen) and lists ``sys.modules``.  Timing itself
is measured in benchmarks/run.py (whole process, beside a minimal Textual app), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

LATER = ("markdown_it", "pygments", "rich.markdown", "plotext", "textual_plotext", "pandas",
         "numpy", "sqlite_utils", "yaml", "tree_sitter", "mltui.importers", "mltui.services",
         "mltui.report", "mltui.tui.screens.compare", "mltui.tui.screens.docs",
         "mltui.tui.screens.lineage", "mltui.tui.screens.history", "mltui.tui.screens.promote",
         "mltui.tui.screens.runs", "mltui.tui.widgets.curves", "mltui.tui.widgets.doctext",
         # The filter prompt's text field is made at its first open; ``mltui`` alone starts
         # the app without click, its group or any command module (cli/app_start.py).
         "mltui.tui.widgets.inputs", "click", "mltui.cli.base", "mltui.cli.browse",
         "mltui.cli.deploy", "mltui.cli.docs", "mltui.cli.imports", "mltui.cli.keys",
         "mltui.cli.lineage", "mltui.cli.remote", "mltui.cli.stages", "mltui.cli.versions",
         "mltui.cli.watch")

PROBE = """
import json, sys
import mltui.cli
from mltui.core.catalog import open_catalog
from mltui.tui.app import MltuiApp
from mltui.tui.screens.browse import BrowseScreen
later = {later!r}
print(json.dumps(sorted(m for m in sys.modules
                        if any(m == name or m.startswith(name + ".") for name in later))))
"""


def test_first_screen_imports_nothing_it_does_not_draw():
    result = subprocess.run([sys.executable, "-c", PROBE.format(later=LATER)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the app's start path imports {loaded}"
