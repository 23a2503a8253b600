"""The entry point, and ``mltui`` with no command: the app, started without click.

Most starts are ``mltui`` alone, or with ``--catalog``, ``--model``, ``--all``, ``--no-mouse``:
they open the catalog and run the app, and use none of click's parsing, help or command tree
(its import alone was ~5 % of the app's start, benchmarks/phases.py).  ``main`` takes that
path when the arguments hold only those options, well formed; an error on the way (no
catalog, an unknown model) is said in one line exactly as the group says it.  Everything
else — a command, ``--help``, ``--remote``, an option it does not know, a catalog that opens
with a warning to print — goes to the click group, which parses, reports and exits as it
always did.

This module imports no click (``tests/cli/test_lazy_commands.py`` checks it).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, NoReturn

# Options of the app itself: option → key, and flags.  Anything else goes to click.
APP_OPTIONS = {"--catalog": "catalog", "--model": "model"}
APP_FLAGS = {"--all": "all", "--no-mouse": "no_mouse"}
# Environment that changes what click would do (shell completion, the mouse flag's envvar).
CLICK_ENVIRONMENT = ("_MLTUI_COMPLETE", "MLTUI_NO_MOUSE")

# Whether the collector was on when ``main`` paused it (a caller may have turned it off).
_collector_was_enabled: list[bool] = []


def pause_collector() -> None:
    """Turn the garbage collector off while the process starts (``resume_collector`` ends it)."""
    _collector_was_enabled[:] = [gc.isenabled()]
    gc.disable()


def resume_collector() -> None:
    """Turn the collector back on if ``main`` paused it (once; later calls do nothing)."""
    if _collector_was_enabled and _collector_was_enabled.pop():
        gc.enable()


def app_imported() -> None:
    """Called once every module the app needs is imported (objects that live as long as the
    process): frozen, the collector never walks them again — its first full pass otherwise
    fell on the first frame's layout, ~50 ms.  It stays paused while the app builds its
    first screen (``first_rows_shown``)."""
    gc.freeze()


def first_rows_shown() -> None:
    """The app's first rows are on screen: what the start made (the screen, its widgets and
    styles) lives as long as the app, so it is frozen too, and the collector collects as
    usual from here.  Its young-generation passes over the start's new objects were ~14 ms
    of the first frame (benchmarks/phases.py)."""
    gc.freeze()
    resume_collector()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    # Starting is importing: the catalog, Textual, click for a command — long-lived objects
    # and next to no garbage, yet the collector walked them again and again (~40 ms of the
    # app's start, benchmarks/phases.py).  It is paused until a command or the app runs.
    pause_collector()
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        options = app_options(args)
        if options is not None and start_app(options):
            return
        from .base import cli

        cli.main(args=argv, prog_name="mltui")
    finally:
        resume_collector()


def app_options(args: list[str]) -> dict[str, Any] | None:
    """The app's options when ``args`` hold nothing else and need no word from click (None
    otherwise: a command, help, an unknown or repeated option, a value that looks odd)."""
    if any(os.environ.get(name) for name in CLICK_ENVIRONMENT):
        return None
    try:
        os.getcwd()  # a deleted working folder: click's group says so
    except OSError:
        return None
    options: dict[str, Any] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if "\x00" in arg or not arg.isprintable() or not _utf8(arg):
            return None
        name, equals, value = arg.partition("=")
        if name in APP_OPTIONS and (equals or rest):
            value = value if equals else rest.pop(0)
            key = APP_OPTIONS[name]
            if key in options or not value or value.startswith("-") or not _utf8(value) \
                    or not value.isprintable():
                return None
            options[key] = value
        elif arg in APP_FLAGS and APP_FLAGS[arg] not in options:
            options[APP_FLAGS[arg]] = True
        else:
            return None
    return options


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def start_app(options: dict[str, Any]) -> bool:
    """Open the catalog and run the app.  An error (no catalog, an unknown model, a locked
    file) is said in one line and exits, exactly as the click group says it — once, without
    waiting on a locked catalog a second time; False when the catalog opened with a warning
    to print (the click group opens it again and prints it)."""
    from ..core.catalog import open_catalog

    try:
        cat = open_catalog(options.get("catalog") or os.environ.get("MLTUI_CATALOG") or None,
                           notice=_say_migrating)
        if options.get("model"):
            cat.model_id(options["model"])  # an unknown model is a clear error before the app
    except BaseException as exc:  # noqa: BLE001 - said as the click group says it
        say_and_exit(exc)
    if cat.warnings:
        cat.close()
        return False
    attach_write_through(cat)
    from ..tui.app import run_app  # Textual is imported only here (and in the click group)

    app_imported()
    try:
        run_app(cat, "*" if options.get("all") else options.get("model"),
                mouse=not options.get("no_mouse"), on_first_rows=first_rows_shown)
    except BaseException as exc:  # noqa: BLE001 - said as the click group says it
        say_and_exit(exc)
    return True


def _say_migrating(line: str) -> None:
    """Say an upgrade of the catalog before it starts, on stderr as every command says it
    (the printer is loaded only then: a migration is rare, the app's start is not)."""
    from .base import info

    info(line)


def say_and_exit(exc: BaseException) -> NoReturn:
    """Report ``exc`` as the click group reports a command's error (one line, an exit code;
    ``MLTUI_DEBUG=1``: the traceback), or let it through when it is an exit already."""
    if isinstance(exc, SystemExit):
        raise exc
    from .base import one_line_errors

    with one_line_errors():
        raise exc
    raise exc  # one_line_errors exits or re-raises: never reached


def attach_write_through(cat: Any) -> None:
    """Stage moves, docs and registrations of a model synced with an MLflow server are written
    through to it (the services and MLflow are imported only when such a model changes)."""

    def write_through(write):
        from ..services.remote import apply_write

        return apply_write(cat, write)  # a registration's server number and source uid

    cat.write_through = write_through
