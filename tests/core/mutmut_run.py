"""Mutation testing of the whole trust core in one command (docs/testing.md).

    python tests/core/mutmut_run.py              # fresh run: every mutant of every module
    python tests/core/mutmut_run.py --keep       # keep mutants/: re-test only what changed

Runs ``mutmut run`` over the modules of ``[tool.mutmut] only_mutate`` (pyproject.toml) from the
checkout this file is in, without ``PYTHONPATH`` (mutmut puts its ``mutants/`` copy first on
the path itself, and a ``PYTHONPATH`` naming a checkout would shadow it), with pytest's
temporary folders in a folder of the run's own (removed after it) and no plugin autoload; then
prints per module: killed / all, the share killed, timeouts (counted as killed by mutmut; each
is listed with its estimate, to check with ``mutmut show`` that it loops rather than ran slow),
SQL letter-case equivalents (see mutmut_scores.py) and every survivor; and what the
run cost: wall clock, CPU time of mutmut and its workers, and the load average, because the
build box's 2 CPUs are shared.  Exits 1 when a module is under 90% killed.  It is not a test;
pytest does not collect it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutmut_scores import score  # noqa: E402  (a sibling script, not a package)

THRESHOLD = 90.0
TIMEOUT_CODES = {-24, 24, 36, 152, 255}


def _timeouts(meta_path: Path) -> list[str]:
    codes = json.loads(meta_path.read_text())["exit_code_by_key"]
    return [key for key, code in codes.items() if code in TIMEOUT_CODES]


def report(root: Path) -> bool:
    """Print the per-module table; True when every module reaches the threshold."""
    ok = True
    print(f"{'module':28} {'killed / all':>14} {'%':>6}  timeouts  sql-case  survivors")
    for meta in sorted(root.glob("mltui/**/*.py.meta")):
        module = Path(str(meta).removesuffix(".meta"))
        counts = score(module)
        checked = counts["all"] - len(counts["unchecked"])
        scored = checked - len(counts["equivalent"])
        pct = 100.0 * len(counts["killed"]) / scored if scored else 0.0
        ok = ok and pct >= THRESHOLD and not counts["unchecked"]
        name = str(module.relative_to(root))
        print(f"{name:28} {len(counts['killed']):>6} / {scored:<6} {pct:5.1f}%  "
              f"{len(_timeouts(meta)):>8}  {len(counts['equivalent']):>8}  {len(counts['survived']):>9}"
              + (f"  ({len(counts['unchecked'])} not run)" if counts["unchecked"] else ""))
    for meta in sorted(root.glob("mltui/**/*.py.meta")):
        module = Path(str(meta).removesuffix(".meta"))
        for key in score(module)["survived"]:
            print(f"  survived: {key}    (mutmut show '{key}')")
        data = json.loads(meta.read_text())
        for key in _timeouts(meta):  # check each with mutmut show: a loop, or a slow box?
            print(f"  timeout:  {key}    (tests estimated at "
                  f"{data['estimated_durations_by_key'].get(key, 0):.1f} s, stopped after "
                  f"{data['durations_by_key'].get(key, 0):.1f} s)")
    return ok


def main(argv: list[str]) -> int:
    """Run mutmut over the trust core and print what it found and what it cost."""
    os.chdir(ROOT)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if "--keep" not in argv:
        shutil.rmtree("mutants", ignore_errors=True)
    children = str(os.cpu_count() or 2)
    load_before = os.getloadavg()
    start = time.monotonic()
    log = ROOT / "mutmut-run.log"
    # Each mutant's pytest makes a numbered temporary folder and, ended by os._exit, never
    # removes it: one per mutant.  They go to a folder of this run's own, removed after it.
    env["PYTEST_DEBUG_TEMPROOT"] = temproot = tempfile.mkdtemp(prefix="mutmut-tmp-")
    # The selected tests use no installed pytest plugin; looking them up (every distribution's
    # entry points) costs each mutant's pytest ~9 ms of its ~95 ms start.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        with open(log, "w") as out:
            code = subprocess.call(["mutmut", "run", "--max-children", children], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    finally:
        shutil.rmtree(temproot, ignore_errors=True)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    if code != 0:
        print(f"mutmut run failed (exit {code}); its output is in {log}")
        return code
    ok = report(ROOT / "mutants")
    print(f"\nwall {wall / 60:.1f} min, CPU {cpu / 60:.1f} min (user {usage.ru_utime:.0f} s, "
          f"sys {usage.ru_stime:.0f} s) on {children} workers: {cpu / 60 / int(children):.1f} min "
          f"on {children} idle CPUs; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[1]:.1f} over the last 5 min.  mutmut's output: {log.name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
