"""The start's work in instructions: a figure the load of a shared machine does not move.

Wall-clock ratios on a machine shared by several engineers swing by ±0.1 from one run to the
next (benchmarks/startup.py pairs its rounds for that reason); instructions retired do not.
This runs the minimal Textual app and ``mltui --catalog X`` (from each checkout given) in an
80×24 pty under valgrind's cachegrind (no cache simulation) and stops each process as it writes
its first frame — for the app, the one with the first rows, which Browse's prefetched read puts
in the first frame.  Python runs ~30× slower under valgrind, so this is a check of the work done,
not of time: the interpreter's start, the imports, the catalog and the first frame all count,
waits (the terminal, the disk, the other engineers' processes) do not.  Warm bytecode, as in
startup.py; each subject runs once to warm it, then once measured (the count barely moves).

    python benchmarks/instructions.py [CATALOG] [--before PATH] [--after PATH]

``--before``/``--after`` are checkouts of the code (by ``PYTHONPATH``; default: this one).
Needs ``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import startup  # noqa: E402
import terminal  # noqa: E402

# Run inside the measured process: the first frame written ends it (os._exit: no teardown).
DRIVER = r'''
import os, sys
def stop_at_first_frame():
    from textual.drivers.linux_driver import LinuxDriver
    write = LinuxDriver.write
    def first_frame(self, data):
        result = write(self, data)
        if len(data) > 200:
            os._exit(0)
        return result
    LinuxDriver.write = first_frame
if sys.argv[1] == "minimal":
    stop_at_first_frame()
    exec(compile(__MINIMAL_APP__, "minimal_app.py", "exec"))  # as startup.py measures it
else:
    import mltui.cli
    import mltui.cli.app_start as app_start
    imported = app_start.app_imported
    def app_imported():
        stop_at_first_frame()
        imported()
    app_start.app_imported = app_imported
    mltui.cli.main(sys.argv[2:])
'''.replace("__MINIMAL_APP__", repr(startup.MINIMAL_APP))
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(argv_tail: list[str], env: dict[str, str], work: Path) -> int:
    """Instructions the process retires from exec to its first frame (valgrind cachegrind)."""
    log = work / "cachegrind.log"
    log.unlink(missing_ok=True)
    argv = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            f"--log-file={log}", sys.executable, "-c", DRIVER, *argv_tail]
    session = terminal.spawn(argv, width=80, height=24, env=env)
    try:
        while not os.waitpid(session.pid, os.WNOHANG)[0]:
            session.read(0.1)  # drained, so a frame bigger than the pty's buffer never blocks
    finally:
        os.close(session.fd)
    found = REFS.search(log.read_text())
    if found is None:
        raise SystemExit(f"valgrind did not report instructions: {log.read_text()[-400:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    """Command line: the minimal app, then each checkout's app; counts and ratios printed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("catalog", nargs="?", type=Path)
    parser.add_argument("--before", help="a checkout of the code before a change")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="mltui-instructions-"))
    os.chdir(work)  # ``python -c`` puts the working folder first on sys.path: not a checkout
    catalog = args.catalog
    if catalog is None:
        from mltui.demo import build_demo_catalog

        catalog = build_demo_catalog(progress=lambda *_: None)
    env = startup.process_env(work)
    subjects = {"minimal Textual app": (["minimal"], {})}
    for name, path in (("before", args.before), ("after", args.after)):
        if path:
            subjects[f"mltui, {name} ({path})"] = (
                ["app", "--catalog", str(catalog)], {"PYTHONPATH": str(Path(path).resolve())})
    counts = {}
    for name, (tail, extra) in subjects.items():
        instructions(tail, {**env, **extra}, work)  # warm-up: bytecode
        counts[name] = instructions(tail, {**env, **extra}, work)
    floor = counts["minimal Textual app"]
    for name, count in counts.items():
        print(f"{count / 1e6:8.1f} M instructions  {count / floor:5.2f}× the minimal app  {name}")


if __name__ == "__main__":
    main()
