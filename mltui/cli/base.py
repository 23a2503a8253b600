"""The ``mltui`` group, its one printer and its error handling: parse, call the catalog, print.

Data goes to stdout, messages to stderr; every read command has ``--json``.  Exit codes: 0
success, 1 a check or gate failed, 2 bad input or usage.  Errors are one line, never a
traceback (``MLTUI_DEBUG=1`` shows it).  Only ``mltui`` (no command) and ``mltui demo`` import
Textual; everything else starts fast.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sqlite3
import sys
from typing import Any, Callable, Iterator, NoReturn

import click

from ..core.errors import MltuiError
from .app_start import app_imported, attach_write_through, first_rows_shown, resume_collector

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# --------------------------------------------------------------------------------------------
# Output helpers (Rich is imported lazily: `mltui --help` must stay fast)


def _console(stderr: bool = False):
    """The one Rich console every human-readable output goes through.

    Its ``render`` makes control characters visible in every text segment it draws (Rich's
    own style codes are separate control segments), so catalog data that reached a table or a
    tree unescaped still cannot move the cursor, retitle the window or clear the screen.
    """
    from rich.console import Console
    from rich.segment import Segment

    from ..display import has_unsafe, safe

    class SafeConsole(Console):
        def render(self, renderable, options=None):  # noqa: D102 - Rich's render, filtered
            for segment in super().render(renderable, options):
                if segment.control or not has_unsafe(segment.text):
                    yield segment
                else:
                    yield Segment(safe(segment.text, keep_newlines=True), segment.style)

    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    try:
        columns = int(os.environ.get("COLUMNS", "0") or 0)
    except ValueError:
        columns = 0
    width = None if is_tty else (columns if 0 < columns < 10_000 else 160)
    return SafeConsole(file=stream, width=width, highlight=False, soft_wrap=False,
                       no_color=bool(os.environ.get("NO_COLOR")) or None)


def _text(value: Any, style: str = ""):
    """User text as a Rich Text: never parsed as markup, control characters made visible."""
    from rich.text import Text

    from ..display import safe

    return Text(safe(value), style=style)


def info(message: str) -> None:
    """A message for the human on stderr (plain text, never markup, controls visible)."""
    _console(stderr=True).print(_text(message))


def out(message: str, *, multiline: bool = False) -> None:
    """A plain line of human-readable data on stdout, control characters made visible.

    ``multiline`` keeps line breaks (documentation text); Rich is not needed for a plain line.
    """
    from ..display import safe

    click.echo(safe(message, keep_newlines=multiline))


def emit_json(data: Any) -> None:
    """Machine output on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one error line on stderr (controls visible) and exit."""
    _error_line(f"mltui: error: {message}")
    sys.exit(code)


def _error_line(line: str) -> None:
    """One error line on stderr: file names and values in it are data, made safe to show."""
    from ..display import safe

    click.echo(safe(line), err=True)


def _open(ctx: click.Context, *, create: bool | str = False):
    """Open the command's catalog; ``create="on-write"`` makes the file only when a write commits."""
    from ..core.catalog import open_catalog

    cat = open_catalog(ctx.obj.get("catalog"), create=create, notice=info)
    for warning in cat.warnings:
        info(f"warning: {warning}")
    attach_write_through(cat)
    return cat


# --------------------------------------------------------------------------------------------
# The group: error handling in one place


class MltuiGroup(click.Group):
    """A click group that turns every error into one line and an exit code.

    Its commands are imported when first asked for: ``lazy`` maps each command's name to the
    module that registers it (``COMMAND_MODULES``, below), so ``mltui`` alone — the app —
    imports none of them, and ``mltui ls`` imports the one module that holds ``ls``.  Each
    function in ``on_load`` is given the group after a module has added its commands.
    ``commands`` (click's own attribute) imports them all, so every reader sees the full set.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lazy: dict[str, str] = {}  # command name → the module registering it
        self.on_load: list[Callable[[click.Group], None]] = []
        self.loaded: dict[str, click.Command] = {}  # the commands imported so far
        super().__init__(*args, **kwargs)

    @property
    def commands(self) -> dict[str, click.Command]:  # type: ignore[override]
        """Every command (imports the modules not imported yet)."""
        self._load(set(self.lazy))
        return self.loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self.loaded = dict(value)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` (called by ``@cli.command`` as a module is imported)."""
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self.loaded[name] = cmd

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, its module imported now if it was not yet."""
        self._load({cmd_name})
        return self.loaded.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, imported or not."""
        return sorted(set(self.loaded) | set(self.lazy))

    def _load(self, names: set[str]) -> None:
        modules = sorted({self.lazy[name] for name in names if name in self.lazy})
        for module in modules:
            importlib.import_module(module)
            for name in [n for n, m in self.lazy.items() if m == module]:
                del self.lazy[name]
        if modules:
            for hook in self.on_load:
                hook(self)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102 - click entry point
        kwargs.setdefault("standalone_mode", False)
        argv = kwargs.get("args", args[0] if args else None)
        _check_environment(sys.argv[1:] if argv is None else argv)
        with one_line_errors():
            result = super().main(*args, **kwargs)
            if isinstance(result, int):
                sys.exit(result)
            return result


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Every error raised inside becomes one line on stderr and an exit code, never a
    traceback (``MLTUI_DEBUG=1`` shows it): the group's commands, and the app started
    without click (``cli/app_start.py``)."""
    try:
        yield
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _error_line(f"mltui: error: {exc.format_message()}")
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("mltui: aborted", err=True)
        sys.exit(130)
    except MltuiError as exc:
        if os.environ.get("MLTUI_DEBUG"):
            raise
        _error_line(f"mltui: error: {exc.one_line()}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("mltui: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:
        # A path the system refused (export --out /proc/x, a catalog under a file, a FIFO).
        if os.environ.get("MLTUI_DEBUG"):
            raise
        name = getattr(exc, "path", "") or exc.filename
        reason = exc.strerror or str(exc)
        _error_line(f"mltui: error: {name}: {reason}" if name else f"mltui: error: {reason}")
        sys.exit(EXIT_USAGE)
    except RecursionError:
        if os.environ.get("MLTUI_DEBUG"):
            raise
        _error_line("mltui: error: the input is nested too deeply to process")
        sys.exit(EXIT_USAGE)
    except sqlite3.DatabaseError as exc:
        if os.environ.get("MLTUI_DEBUG"):
            raise
        from ..core.db import is_locked_error, translate_error

        if is_locked_error(exc):
            click.echo("mltui: error: the catalog is locked by another process; wait for it "
                       "to finish and try again, or raise MLTUI_BUSY_TIMEOUT", err=True)
            sys.exit(EXIT_USAGE)
        # Say what happened (disk full, read-only, permission, filter too large); only a
        # damaged file earns advice about backups.
        typed = translate_error(exc, "the catalog")
        _error_line(f"mltui: error: {typed.one_line()}" if typed is not None else
                    f"mltui: error: the catalog could not be used: {exc}")
        sys.exit(typed.exit_code if typed is not None else EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        if os.environ.get("MLTUI_DEBUG"):
            raise
        _error_line(f"mltui: internal error: {type(exc).__name__}: {exc} (run with "
                    "MLTUI_DEBUG=1 for the traceback and report it)")
        sys.exit(EXIT_USAGE)


def _check_environment(argv: list[str]) -> None:
    """Refuse what no command can work with, before any runs: one line, exit 2.

    Arguments that are not UTF-8 (the shell passed raw bytes) cannot be stored or matched;
    a working directory that was deleted makes every relative path meaningless.
    """
    from ..display import safe

    for arg in argv:
        if "\x00" in arg:  # no shell passes one, but an API caller can: no path holds it
            fail(f"argument {safe(arg)!r} holds a NUL character")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "backslashreplace").decode("utf-8")  # \udcff for byte ff
            fail(f"argument {safe(shown)!r} is not valid UTF-8 text")
    try:
        os.getcwd()
    except OSError:
        fail("the current folder no longer exists; cd into an existing folder and try again")


@click.group(cls=MltuiGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--catalog", "catalog", metavar="PATH", envvar="MLTUI_CATALOG",
              help="Catalog file or folder (default: nearest .mltui/catalog.db upwards).")
@click.option("--model", "start_model", metavar="NAME", help="Open the app on this model.")
@click.option("--all", "start_all", is_flag=True, help="Open the app on all versions of all models.")
@click.option("--no-mouse", "no_mouse", is_flag=True, envvar="MLTUI_NO_MOUSE",
              help="The app leaves the mouse to the terminal, so text selects as usual "
                   "(f2 in the app toggles it).")
@click.option("--remote", "remote", metavar="NAME",
              help="Open the app following this MLflow server (mltui remote add).")
@click.version_option(package_name="mltui", prog_name="mltui")
@click.pass_context
def cli(ctx: click.Context, catalog: str | None, start_model: str | None, start_all: bool,
        no_mouse: bool, remote: str | None) -> None:
    """Version, compare, document, promote and roll back ML models.

    Run without a command to open the app on the nearest catalog.
    """
    ctx.ensure_object(dict)
    ctx.obj["catalog"] = catalog
    ctx.obj["mouse"] = not no_mouse
    if ctx.invoked_subcommand is not None:
        resume_collector()  # a command: its own work collects as usual
    else:
        cat = _open(ctx)
        if start_model:
            cat.model_id(start_model)  # an unknown model is a clear error before the app opens
        if remote:
            from ..core.config import load_config

            if remote not in load_config(cat.path).remotes:  # a clear error before the app
                fail(f"no remote {remote!r}; add one: mltui remote add {remote} URL")
        _run_app(cat, "*" if start_all else start_model, remote)


def registered(group: click.Group) -> dict[str, click.Command]:
    """The commands ``group`` holds now, without importing the rest of a lazy group's."""
    return group.loaded if isinstance(group, MltuiGroup) else group.commands


def _set_catalog(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:  # ensure_object: shell completion parses before the group's callback
        ctx.find_root().ensure_object(dict)["catalog"] = value


def accept_catalog_anywhere(group: click.Group) -> None:
    """Give every command under ``group`` its own ``--catalog``, so it may follow the command name.

    ``mltui history --catalog X`` then works like ``mltui --catalog X history`` (the one after
    the command wins).  Called once, after every command module has registered its commands.
    """
    for command in registered(group).values():
        if isinstance(command, click.Group):
            accept_catalog_anywhere(command)
        if not any(p.name == "catalog_anywhere" for p in command.params):
            command.params.append(click.Option(
                ["--catalog", "catalog_anywhere"], metavar="PATH", expose_value=False,
                callback=_set_catalog, help="Catalog file or folder (as before the command)."))


def _run_app(cat, start: str | None = None, remote: str | None = None) -> None:
    from ..tui.app import run_app  # Textual is imported only here

    app_imported()
    options = click.get_current_context().find_root().obj or {}
    run_app(cat, start, mouse=options.get("mouse", True), remote=remote,
            on_first_rows=first_rows_shown)


# Which module registers each command (``completion`` registers its own on import, below).
COMMAND_MODULES = {
    **dict.fromkeys(("ls", "show", "compare", "export"), "browse"),
    **dict.fromkeys(("checkout", "monitor", "observe"), "deploy"),
    "doc": "docs",
    **dict.fromkeys(("demo", "import", "init"), "imports"),
    "keys": "keys",
    **dict.fromkeys(("lineage", "verify"), "lineage"),
    **dict.fromkeys(("pull", "push", "remote"), "remote"),
    **dict.fromkeys(("archive", "check", "gate", "history", "promote", "rollback", "unarchive"),
                    "stages"),
    **dict.fromkeys(("register", "tag"), "versions"),
    "watch": "watch",
}

# The group's wiring, here so that whoever imports ``cli`` gets it whole.  ``completion`` is
# imported at once: shell completion runs before any command does.
from .completion import attach_completers  # noqa: E402 - needs ``cli`` defined above

cli.lazy.update({name: f"{__package__}.{module}" for name, module in COMMAND_MODULES.items()})
cli.on_load.extend([accept_catalog_anywhere, attach_completers])
accept_catalog_anywhere(cli)
attach_completers(cli)
