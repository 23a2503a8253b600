"""Where a start's time goes: phase stamps taken inside the app process, no profiler.

A profiler inflates Textual's Python-heavy code several times over, so it misplaces the time.
This runs ``mltui --catalog X`` in an 80×24 pty through a small driver that notes the
``time.monotonic()`` of each phase (the same clock as the parent's, which started the process):
the interpreter ready, the first import of a few marker modules (an audit hook, which costs
nothing measurable), the app object made, Browse composed and mounted, every write to the
terminal — and the parent notes when the first row's name is on screen.  Medians of several
starts, alternating with the minimal Textual app (also stamped) so both see the same load::

    python benchmarks/phases.py [CATALOG] [--starts 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import startup  # noqa: E402
import terminal  # noqa: E402

# Run inside the measured process: stamps go to $STAMPS, one JSON line each, flushed at once
# (the process is killed by SIGTERM once the parent has seen the rows).
DRIVER = r'''
import os, sys, time, functools, inspect, gc
_out = open(os.environ["STAMPS"], "a", buffering=1)
def stamp(name, **extra):
    _out.write(__import__("json").dumps({"name": name, "t": time.monotonic(), **extra}) + "\n")
stamp("interpreter ready")
TOTALS = {}
MARKERS = {"click", "rich", "mltui.core.catalog", "textual", "textual.app", "mltui.tui.app",
           "mltui.tui.screens.browse", "mltui.tui.widgets.keybar"}
def hook(event, args):
    if event == "import" and args[0] in MARKERS:
        MARKERS.discard(args[0])
        stamp("import " + args[0])
sys.addaudithook(hook)
_gc_began = [0.0]
def on_gc(phase, info):
    # Collections pause everything: their time is summed per generation.
    if phase == "start":
        _gc_began[0] = time.monotonic()
    else:
        label = f"gc generation {info['generation']}"
        TOTALS[label] = TOTALS.get(label, 0.0) + time.monotonic() - _gc_began[0]
gc.callbacks.append(on_gc)

def wrap(owner, attr, label, calls=2):
    # Stamps on entry and exit of the first calls; the time inside, summed over all calls.
    original = getattr(owner, attr)
    count = [0]
    def before():
        count[0] += 1
        if count[0] <= calls:
            stamp(label + " >")
        return time.monotonic()
    def after(began):
        TOTALS[label] = TOTALS.get(label, 0.0) + time.monotonic() - began
        if count[0] <= calls:
            stamp(label + " <")
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(*a, **k):
            began = before()
            try:
                return await original(*a, **k)
            finally:
                after(began)
    else:
        @functools.wraps(original)
        def wrapper(*a, **k):
            began = before()
            try:
                return original(*a, **k)
            finally:
                after(began)
    setattr(owner, attr, wrapper)

PER_CLASS = ("render_lines", "_get_box_model", "arrange", "get_content_height")

def install(app_module=None):
    # Textual's phases; called where the process first has Textual (the app: inside
    # ``_run_app``, so every import before it happens where it does without the driver).
    import textual.app
    from textual.css.stylesheet import Stylesheet
    from textual.drivers.linux_driver import LinuxDriver
    from textual.screen import Screen
    from textual.widget import Widget
    write_original = LinuxDriver.write
    def write(self, data):
        if len(data) > 200:
            stamp("frame written", bytes=len(data))
            for label, total in TOTALS.items():
                stamp("total", label=label, total=total)
        return write_original(self, data)
    LinuxDriver.write = write
    for owner, attr, label, calls in [
            (textual.app.App, "__init__", "app init", 1), (Stylesheet, "parse", "css parse", 3),
            (Stylesheet, "apply", "css apply", 1),
            (Stylesheet, "update_nodes", "css update_nodes", 3),
            (Screen, "_compose", "screen compose", 2),
            (Screen, "_refresh_layout", "screen layout", 2),
            (textual.app.App, "_process_messages", "app messages", 1)]:
        wrap(owner, attr, label, calls)
    def per_class(attr):
        original = getattr(Widget, attr)
        def wrapper(self, *a, **k):
            began = time.monotonic()
            try:
                return original(self, *a, **k)
            finally:
                label = f"{attr} {type(self).__name__}"
                TOTALS[label] = TOTALS.get(label, 0.0) + time.monotonic() - began
        setattr(Widget, attr, wrapper)
    for attr in PER_CLASS:
        per_class(attr)
    if app_module is not None:
        from mltui.core.catalog import Catalog
        from mltui.tui.screens import browse_data
        from mltui.tui.screens.browse import BrowseScreen
        wrap(BrowseScreen, "on_mount", "browse on_mount", 1)
        wrap(app_module.MltuiApp, "on_mount", "app on_mount", 1)
        # Browse's one catalog call (on a database thread, started before Textual mounts
        # anything) and the part of it that grows with the catalog's models and versions.
        wrap(browse_data, "browse_data", "catalog call (browse_data)", 1)
        wrap(Catalog, "models", "catalog models()", 1)
        # The first page's ids, then (a model of many versions, or --all) the rest of them.
        wrap(Catalog, "version_ids", "catalog version_ids()", 2)

if sys.argv[1] == "minimal":
    from textual.app import App
    from textual.widgets import Static
    class Minimal(App):
        def compose(self):
            yield Static("minimal app ready")
    install()
    Minimal().run()
else:
    import mltui.cli
    import mltui.cli.app_start as app_start
    stamp("cli imported")
    # Called on both ways in (without click, and click's group) once the app's code is in.
    imported = app_start.app_imported
    def app_imported():
        import mltui.tui.app
        stamp("app code imported")
        install(mltui.tui.app)
        imported()
    app_start.app_imported = app_imported
    mltui.cli.main(sys.argv[2:])
'''


def one_start(argv_tail: list[str], needle: str, env: dict[str, str], work: Path) -> list[tuple[str, float]]:
    """One start: the phases in order, seconds since exec (the last is the needle on screen)."""
    stamps = work / "stamps.jsonl"
    stamps.unlink(missing_ok=True)
    session = terminal.spawn([sys.executable, "-c", DRIVER, *argv_tail], width=80, height=24,
                             env={**env, "STAMPS": str(stamps)})
    try:
        session.wait_for(needle, timeout=60)
        seen = time.monotonic()
    finally:
        session.close()
    rows = [json.loads(line) for line in stamps.read_text().splitlines()]
    phases = [(row["name"] + (f" ({row['bytes']} B)" if "bytes" in row else ""),
               row["t"] - session.started) for row in rows if row["name"] != "total"]
    # Time inside each wrapped function, summed over its calls until the first frame.
    totals: dict[str, float] = {}
    for row in rows:
        if row["name"] == "total":
            totals.setdefault(row["label"], row["total"])
    return phases + [("needle on screen", seen - session.started)] + [
        (f"time inside: {name}", total) for name, total in totals.items()]


def merged(runs: list[list[tuple[str, float]]]) -> list[tuple[str, float, float, float]]:
    """Median (and min, max) per phase name, in the order of the first start."""
    names: list[str] = []
    times: dict[str, list[float]] = {}
    for run in runs:
        seen: dict[str, int] = {}
        for name, t in run:
            count = seen[name] = seen.get(name, 0) + 1
            key = name if count == 1 else f"{name} #{count}"
            if key not in times:
                names.append(key)
                times[key] = []
            times[key].append(t)
    return [(n, statistics.median(times[n]), min(times[n]), max(times[n])) for n in names
            if len(times[n]) >= len(runs) // 2 + 1]


def main() -> None:
    """Command line: stamps of the app and the minimal app, alternately, medians printed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("catalog", nargs="?", type=Path)
    parser.add_argument("--starts", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mltui-phases-"))
    catalog = args.catalog
    if catalog is None:
        from mltui.demo import build_demo_catalog

        catalog = build_demo_catalog(progress=lambda *_: None)
    env = startup.process_env(work)
    needle = startup.first_row_needle(catalog)
    app_tail = ["app", "--catalog", str(catalog)]
    print(f"load average {os.getloadavg()}, {args.starts} starts each, alternating")
    one_start(["minimal"], startup.MINIMAL_NEEDLE, env, work)  # warm-up: bytecode, file cache
    one_start(app_tail, needle, env, work)
    minimal, app = [], []
    for _ in range(args.starts):
        minimal.append(one_start(["minimal"], startup.MINIMAL_NEEDLE, env, work))
        app.append(one_start(app_tail, needle, env, work))
    for title, runs in (("minimal Textual app", minimal), ("mltui", app)):
        print(f"\n{title}: ms since exec, median [min–max]; 'time inside': all calls")
        for name, median, low, high in merged(runs):
            print(f"  {median * 1000:7.1f}  [{low * 1000:5.0f}–{high * 1000:5.0f}]  {name}")
    ratio = statistics.median(dict(a)["needle on screen"] / dict(m)["needle on screen"]
                              for a, m in zip(app, minimal))
    print(f"\nratio app / minimal (median of pairs): {ratio:.2f}×   load {os.getloadavg()}")


if __name__ == "__main__":
    main()
