"""Read commands answer in a blink: they import nothing heavy they do not use.

sqlite-utils imports pandas, numpy and pyarrow (~0.5-0.8 s); Textual, plotext and the Markdown
renderer are the app's.  A read command run as a script would pay for all of them on every call
(and shell completion on every Tab), so this test runs each one in a fresh interpreter and looks
at ``sys.modules`` afterwards.  Timing itself is measured in benchmarks/run.py, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mltui.core.catalog import open_catalog

HEAVY = ("pandas", "numpy", "pyarrow", "sqlite_utils", "textual", "plotext", "markdown_it",
         "yaml", "mltui.importers", "mltui.tui", "mlflow", "requests")

PROBE = """
import json, sys
from mltui.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy
                or any(m.startswith(h + '.') for h in heavy))
sys.__stderr__.write('\\nPROBE ' + json.dumps({{'code': code, 'loaded': loaded}}) + '\\n')
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("budget") / "catalog.db"
    with open_catalog(path, create=True) as cat:
        run = cat.log_run("r1", params={"lr": 0.1}, metrics={"f1": [0.5, 0.7]})
        cat.register("fraud", run=run["id"])
        cat.add_gate("fraud", "metrics.f1 >= 0.1")
        cat.promote("fraud@1", "production", reason="first")
    return path


@pytest.mark.parametrize("args", [
    ["ls"], ["ls", "runs"], ["ls", "models"], ["show", "fraud@1"], ["history"],
    ["check", "fraud@1"], ["doc", "fraud@1"], ["lineage", "fraud@1"], ["gate", "list", "fraud"],
    ["--version"], ["--help"], ["import", "--help"],
], ids=lambda a: " ".join(a))
def test_read_command_imports_nothing_heavy(seeded, args):
    probe = PROBE.format(heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe, "--catalog", str(seeded), *args],
                            capture_output=True, text=True, timeout=60)
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    report = json.loads(line[len("PROBE "):])
    assert report["code"] in (0, None), result.stderr
    assert report["loaded"] == [], f"mltui {' '.join(args)} imported {report['loaded']}"


@pytest.mark.parametrize("words", ["mltui promote fr", "mltui promote fraud@", "mltui ch",
                                   "mltui promote fraud@1 --stage "], ids=str)
def test_shell_completion_imports_nothing_heavy(seeded, words):
    """A Tab runs ``mltui`` once per keypress: it reads the catalog with sqlite3 alone."""
    import os

    env = {**os.environ, "_MLTUI_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
           "MLTUI_CATALOG": str(seeded)}
    probe = PROBE.format(heavy=HEAVY + ("rich", "mltui.core.catalog", "mltui.core.db"))
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                            text=True, timeout=60)
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    report = json.loads(line[len("PROBE "):])
    assert report["code"] in (0, None) and result.stdout.strip(), result.stderr
    assert report["loaded"] == [], f"completing {words!r} imported {report['loaded']}"


# What the catalog needs only for rare work, loaded at its first use (issue 11): the records'
# dataclasses and hashing (imports, checkout, verify), the packed series (curves, imports), the
# gates (promotion), the monitor rules' grammar, the remote's pull state and writes, the hook
# runner (a stage change), the CSV and shell-word parsers (observation logs, hook commands),
# and OpenSSL's hashes (the audit chain's check at open uses CPython's own SHA-256).  Every mixin module is imported with the Catalog class, so an
# import put back at the top of one of them lands on every start of the app.
DEFERRED = ("mltui.core.records", "mltui.core.hashing", "mltui.core.safefile",
            "mltui.core.series", "mltui.core.gates", "mltui.core.monitor_rules",
            "mltui.core.remote_writes", "mltui.core.hook_runs", "csv", "shlex",
            "hashlib", "_hashlib")

START_PROBE = """
import json, os, sys
import mltui.cli
import mltui.cli.app_start as app_start

def app_imported():  # every module the app needs is imported: the first frame comes next
    deferred = {deferred!r}
    sys.__stdout__.write('START ' + json.dumps(sorted(m for m in deferred if m in sys.modules)))
    sys.__stdout__.flush()
    os._exit(0)

app_start.app_imported = app_imported
mltui.cli.main(sys.argv[1:])
"""


def test_app_start_imports_none_of_the_catalogs_rare_helpers(seeded):
    """``mltui`` alone: the catalog opened, the app's modules imported, before its first frame."""
    probe = START_PROBE.format(deferred=DEFERRED)
    result = subprocess.run([sys.executable, "-c", probe, "--catalog", str(seeded)],
                            capture_output=True, text=True, timeout=60)
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("START ")]
    assert line, result.stderr
    assert json.loads(line[-1][len("START "):]) == [], "the app's start imports them"
