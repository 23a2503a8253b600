"""Whole-process figures, as a user sees them: from ``exec`` to the first rows on screen.

The clock starts when the process is started (interpreter, imports and app included) and stops
when the terminal shows the needle; every figure is measured beside a floor taken in the same
run on the same machine — a minimal Textual app showing one line, or ``python -c pass`` — and
the ratio is what the targets are about, because absolute times on a shared machine are noise.

Bytecode: the installed package has its ``.pyc`` files, so the processes run with a warmed
bytecode cache in the benchmark's work folder (``PYTHONPYCACHEPREFIX``), whatever
``PYTHONDONTWRITEBYTECODE`` says in the caller's environment.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import terminal

MINIMAL_APP = '''
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")


Minimal().run()
'''
MINIMAL_NEEDLE = "minimal app ready"


def process_env(work: Path) -> dict[str, str]:
    """The environment of every measured process: a warm bytecode cache, no user config."""
    env = dict(os.environ)
    # Empty, not absent: ``terminal.spawn`` lays this over the caller's environment, where a
    # missing key would let the caller's ``PYTHONDONTWRITEBYTECODE=1`` back in (every process
    # then compiled every module, ~1 s of each start).  Python ignores the empty string.
    env.update(PYTHONDONTWRITEBYTECODE="", PYTHONPYCACHEPREFIX=str(work / "pycache"),
               MLTUI_CONFIG="/nonexistent")
    return env


def mltui_argv(*args: str) -> list[str]:
    """The ``mltui`` console script as installed next to this Python, else ``python -m mltui``."""
    script = Path(sys.executable).with_name("mltui")
    if script.exists():  # it honours PYTHONPATH, so a work tree's code runs too
        return [str(script), *args]
    return [sys.executable, "-m", "mltui", *args]


def first_screen(argv: list[str], needle: str, env: dict[str, str], *, width: int = 80,
                 height: int = 24, extra_env: dict[str, str] | None = None,
                 timeout: float = 60.0) -> tuple[float, str]:
    """Seconds from starting ``argv`` in a fresh pty to ``needle`` on screen, and the screen."""
    started = time.monotonic()
    session = terminal.spawn(argv, width=width, height=height, env={**env, **(extra_env or {})})
    try:
        session.wait_for(needle, timeout=timeout)
        seconds = time.monotonic() - started
        return seconds, terminal.strip_ansi(bytes(session.output))
    finally:
        session.close()


def paired(measure_floor, measure, repeat: int) -> tuple[float, float, float, object]:
    """Floor and subject measured alternately, ``repeat`` pairs after one warm-up pair.

    Returns the median floor, the median subject, the median of the per-pair ratios (robust to
    the load of a shared machine drifting during the run) and the subject's last answer.
    """
    measure_floor(), measure()  # warm-up: bytecode cache, OS file cache
    floors, subjects, answer = [], [], None
    for _ in range(repeat):
        floors.append(measure_floor()[0])
        seconds, answer = measure()
        subjects.append(seconds)
    ratio = statistics.median(s / f for s, f in zip(subjects, floors))
    return statistics.median(floors), statistics.median(subjects), ratio, answer


def first_row_needle(catalog: Path) -> str:
    """What the app's first screen shows once its rows are in: the first row's name.

    The app opens on the first model; its newest version is the first row.  The name is cut
    to 12 characters because the column is narrow at 80×24.
    """
    from mltui.core.catalog import open_catalog

    with open_catalog(catalog) as cat:
        model = cat.models()[0]["name"]
        first = cat.versions(cat.version_ids(model=model, limit=1))[0]
    return first["canonical_name"][:12]


def bench_app_start(report, Result, catalog: Path, work: Path, repeat: int, *, label: str,
                    target: float) -> None:
    """The app on ``catalog`` from exec to its first rows, beside the minimal Textual app."""
    env = process_env(work)
    minimal = work / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    needle = first_row_needle(catalog)
    ways = {"as a user": {"COLORTERM": "truecolor"},
            # sshd passes TERM only: no COLORTERM, so 256 colours.
            "as over SSH": {"COLORTERM": "", "SSH_TTY": "/dev/pts/0"}}
    for way, extra in ways.items():
        floor, seconds, ratio, screen = paired(
            lambda: first_screen([sys.executable, str(minimal)], MINIMAL_NEEDLE, env,
                                 extra_env=extra),
            lambda: first_screen(mltui_argv("--catalog", str(catalog)), needle, env,
                                 extra_env=extra), repeat)
        report.check("versions" in screen and needle in screen,
                     f"the app's first screen on {label} does not show {needle!r}")
        report.add(Result(f"minimal Textual app, exec to first line ({way})", floor, "s",
                          note="the floor, same run, 80x24 pty"))
        report.add(Result(f"app exec to first rows, {label} ({way})", seconds, "s",
                          note="whole process: interpreter, imports, app, first query"))
        report.add(Result(f"ratio: app start / minimal Textual app, {label} ({way})", ratio, "×",
                          target, note="median of paired runs"))


READ_COMMANDS = (("ls",), ("show", "{ref}"), ("history",), ("check", "{ref}"), ("doc", "{ref}"),
                 ("lineage", "{ref}"), ("--version",))


def run_time(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Seconds of one whole process, output captured."""
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, result


def bench_read_commands(report, Result, catalog: Path, work: Path, repeat: int) -> None:
    """Each read command as a whole process, beside ``python -c pass`` in the same run."""
    from mltui.core.catalog import open_catalog

    env = process_env(work)
    with open_catalog(catalog) as cat:
        ref = cat.ref_of(cat.version_ids(limit=1)[0])
    floor_argv = [sys.executable, "-c", "pass"]
    floors = []
    for template in READ_COMMANDS:
        args = [part.format(ref=ref) for part in template]
        name = "mltui " + " ".join(template).replace("{ref}", "REF")
        floor, seconds, ratio, last = paired(lambda: run_time(floor_argv, env),
                                             lambda: run_time(mltui_argv("--catalog", str(catalog),
                                                                         *args), env), repeat)
        floors.append(floor)
        # `check` exits 1 when a gate fails: an answer, not an error.  Anything else is wrong.
        report.check(last.returncode in ((0, 1) if args[0] == "check" else (0,))
                     and "Traceback" not in last.stderr and bool(last.stdout.strip()),
                     f"{name} failed: {last.stderr.strip()[-200:]}")
        if args[0] in ("show", "lineage"):
            report.check(ref in last.stdout, f"{name} does not show {ref}")
        report.add(Result(f"{name} (whole process)", seconds, "s", note=f"{ref}" if "REF" in name
                          else ""))
        report.add(Result(f"ratio: {name} / python -c pass", ratio, "×", 5,
                          note="median of paired runs"))
    report.add(Result("python -c pass", statistics.median(floors), "s",
                      note="the floor, measured beside each command"))


def bench_cli(report, Result, repeat: int) -> None:
    """``mltui --help`` and ``mltui import --help`` as processes."""
    for args in (["--help"], ["import", "--help"]):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "mltui", *args], capture_output=True)
            times.append(time.perf_counter() - started)
            report.check(result.returncode == 0 and b"Usage" in result.stdout, f"mltui {args} failed")
        report.add(Result(f"mltui {' '.join(args)}", statistics.median(times), "s", 0.3))


def bench_before_after(report, Result, catalog: Path, work: Path, rounds: int,
                       before: str, before_catalog: Path | None = None) -> None:
    """The app from this checkout and from ``before`` (another checkout, by ``PYTHONPATH``),
    and the minimal app, in rotating order each round; medians of per-round ratios.

    ``before_catalog``: the same data at the schema ``before`` knows, when this checkout
    migrates catalogs (each code opens its own copy; neither ever migrates the other's).
    """
    env = process_env(work)
    minimal = work / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    needle = first_row_needle(catalog)
    here = str(Path(__file__).resolve().parents[1])
    ways = {"as a user": {"COLORTERM": "truecolor"},
            "as over SSH": {"COLORTERM": "", "SSH_TTY": "/dev/pts/0"}}
    for way, extra in ways.items():
        def start(which: str) -> float:
            if which == "minimal":
                return first_screen([sys.executable, str(minimal)], MINIMAL_NEEDLE, env,
                                    extra_env=extra)[0]
            code = {"PYTHONPATH": before if which == "before" else here}
            opened = (before_catalog or catalog) if which == "before" else catalog
            seconds, screen = first_screen(mltui_argv("--catalog", str(opened)), needle, env,
                                           extra_env={**extra, **code})
            report.check(needle in screen, f"{which}: the first screen does not show {needle!r}")
            return seconds

        order = ["minimal", "before", "after"]
        times: dict[str, list[float]] = {name: [] for name in order}
        for name in order:
            start(name)  # warm-up: bytecode cache, OS file cache
        for index in range(rounds):
            for name in order[index % 3:] + order[:index % 3]:
                times[name].append(start(name))
        for name in ("before", "after"):
            ratio = statistics.median(s / f for s, f in zip(times[name], times["minimal"]))
            report.add(Result(f"ratio: app start / minimal app, {name} ({way})", ratio, "×",
                              note=f"{statistics.median(times[name]):.3f} s beside "
                                   f"{statistics.median(times['minimal']):.3f} s"))
        report.add(Result(f"ratio: after / before ({way})", statistics.median(
            a / b for a, b in zip(times["after"], times["before"])), "×",
            note=f"{rounds} rounds; before = {before}"
                 + (f" on {before_catalog}" if before_catalog else "")))


def _alone(report, work: Path, smoke: bool) -> None:
    import run
    from mltui.demo import build_demo_catalog

    demo = build_demo_catalog(progress=lambda *_: None)
    before = os.environ.get("MLTUI_BENCH_BEFORE")  # another checkout: before/after, same run
    if before:  # MLTUI_BENCH_CATALOG: another catalog than the demo; _ROUNDS: not 15 rounds;
        # _CATALOG_BEFORE: the before code's copy of it, when the two differ in schema.
        catalog = Path(os.environ.get("MLTUI_BENCH_CATALOG") or demo)
        before_catalog = os.environ.get("MLTUI_BENCH_CATALOG_BEFORE")
        rounds = 1 if smoke else int(os.environ.get("MLTUI_BENCH_ROUNDS", "15"))
        bench_before_after(report, run.Result, catalog, work, rounds, before,
                           Path(before_catalog) if before_catalog else None)
        return
    repeat = 1 if smoke else 9
    bench_app_start(report, run.Result, demo, work, repeat, label="demo catalog", target=1.3)
    bench_read_commands(report, run.Result, demo, work, 1 if smoke else 5)


if __name__ == "__main__":
    # This module alone: python benchmarks/startup.py [--smoke]; with MLTUI_BENCH_BEFORE=PATH
    # (a checkout of the code before a change) the app from both, alternately, in one run.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run

    sys.exit(run.run_alone(_alone, "whole-process start figures"))
