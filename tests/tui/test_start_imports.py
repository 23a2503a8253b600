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
from pathlib import Path

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


FIRST_ROWS = """
import asyncio, json, sys
from pathlib import Path
from mltui.core.catalog import init_catalog
from mltui.tui.app import MltuiApp

cat, _ = init_catalog(sys.argv[1])
cat.register("fraud-model", run=cat.log_run("r", metrics={{"acc": 0.9}})["id"])
(Path(cat.path).parent / "config.yaml").write_text(sys.argv[2])
seen = []

def first_rows():  # the modules loaded when the first rows are on screen
    seen.append(sorted(m for m in {later!r} if m in sys.modules))

async def main():
    app = MltuiApp(cat, keymap={{}}, on_first_rows=first_rows)  # watch on, as ``mltui`` starts
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(400):
            if seen:
                break
            await pilot.pause(0.05)
asyncio.run(main())
print(json.dumps(seen))
"""


def test_a_config_without_watch_or_columns_is_not_parsed_before_the_first_rows(tmp_path):
    # The demo's config holds a stage hook: at every start the app asks it for a ``watch:``
    # block and the model's ``columns:`` (core/config_file.py answers from the text), so
    # the config's validators and dataclasses (core/config.py) wait until after the first
    # rows, when the whole file is checked once.
    probe = FIRST_ROWS.format(later=["mltui.core.config", "yaml"])
    hooks_only = "hooks:\n  stages:\n    production:\n      after: ['echo deployed']\n"
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path), hooks_only],
                            capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[]]  # called once, nothing
