"""The Textual app: wiring only — screens, bindings, palette, keymap, live refresh.

Catalog calls run on a small pool of database threads (``run_db``), so the UI never waits on
SQLite; the live-refresh poller has its own thread because ``PRAGMA data_version`` is counted
per connection.  When another process (or this app) commits, every open screen reloads what it
shows, keeping its cursor.
"""

from __future__ import annotations

import asyncio
import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ..core.errors import MltuiError
from .catalog_file import file_identity, replaced_error

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog

T = TypeVar("T")

POLL_SECONDS = 0.5  # live refresh: a change shows within a second
WARM_UP_DELAY = 0.3  # seconds after the first rows show before screens' code is imported
FIRST_ROWS_LIMIT = 2.0  # seconds after the mount: the start is over even without rows
# Imported in the background once Browse shows its rows: opening one of these later pays no
# import (Docs: ~40 ms of its first open).
WARM_MODULES = ("screens.docs",)
DEFAULT_STALL_AFTER = 300.0  # seconds; ``watch.stall_after`` in the project config
FOLLOW_SECONDS = 1.0  # the project watch's pass interval: new data shows within about 2 s


def config_path() -> Path:
    """The user's config file: ``$MLTUI_CONFIG`` or ``~/.config/mltui/config.yaml``."""
    if os.environ.get("MLTUI_CONFIG"):
        return Path(os.environ["MLTUI_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mltui" / "config.yaml"


class MltuiApp(App):
    """mltui: browse, compare, document, promote and roll back model versions."""

    TITLE = "mltui"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("f2", "toggle_mouse", "Mouse on/off (off: select text)", show=False,
                id="app.mouse"),
    ]

    def __init__(self, catalog: "Catalog", *, poll_seconds: float = POLL_SECONDS,
                 keymap: dict[str, str] | None = None, watch: bool = True,
                 start: str | None = None, mouse: bool = True, prefetch: bool = False,
                 remote: str | None = None, on_first_rows: Callable[[], None] | None = None):
        super().__init__()
        # Called once, after the frame that shows the first rows (or FIRST_ROWS_LIMIT seconds
        # after the mount, when there are none): the CLI turns the collector back on there.
        self._on_first_rows = on_first_rows
        self.mouse_on = mouse  # the app takes mouse events (off: the terminal selects text)
        self.remote = remote  # an MLflow server to follow (tui/remote_follow.py)
        self.follower = None
        self.start = start  # the model to open on ("*" for all versions)
        self.catalog = catalog
        self.poll_seconds = poll_seconds
        self.watch = watch
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mltui-db")
        self._poll_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mltui-poll")
        self._data_version: int | None = None
        self._keymap_override = keymap
        self.sub_title = str(catalog.path)
        self._identity = file_identity(catalog.path)  # see catalog_file: replaced or deleted
        self._reopened: list["Catalog"] = []
        self._warm_up_scheduled = False
        self.stall_after = DEFAULT_STALL_AFTER  # a run quiet this long is no longer live
        self.follow: Any = None  # the project's watch (services.watch.WatchState), if configured
        self._follow_executor: ThreadPoolExecutor | None = None
        self._follow_busy = False
        self._follow_failed = False  # one notice per run of failures, not one per pass
        # The first screen's data, read on a database thread while Textual starts (see
        # screens/browse_data.py): the first frame then carries the rows.
        self._prefetched: Future | None = None
        if prefetch:
            from .screens.browse_data import browse_data

            self._prefetched = self._executor.submit(browse_data, catalog, start)

    def take_prefetched(self, start: str | None) -> Future | None:
        """The first screen's data read at start (once; None if not read or for another start)."""
        prefetched, self._prefetched = self._prefetched, None
        return prefetched if start == self.start else None

    # -- database threads ------------------------------------------------------------------------

    async def run_db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a catalog call on a database thread and await its result.

        Refused (one error line) when the catalog file is no longer the one the app opened, or
        when ``function`` belongs to a catalog the app has since replaced.
        """
        identity = file_identity(self.catalog.path)
        if identity != self._identity:
            self.call_later(self.reopen_catalog)
            raise replaced_error(self.catalog.path, identity)
        owner = getattr(function, "__self__", None)
        if owner is not None and owner is not self.catalog and \
                type(owner).__name__ == type(self.catalog).__name__:
            raise replaced_error(self.catalog.path, identity)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def with_watch_rates(self, speeds: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Fill in steps/s (and the ETA) the log's wall times could not give, from the app's
        own watch of the run, when it follows one (see ``watch:`` in the project config)."""
        runs = getattr(self.follow, "runs", {}) or {}
        for run_id, speed in speeds.items():
            watched = runs.get(run_id)
            if speed["rate"] is None and speed["unit"] == "step" and watched is not None:
                speed["rate"] = watched.steps_per_second() or None
                if speed["rate"] and speed["total"] is not None:
                    speed["eta"] = max(0.0, speed["total"] - speed["at"]) / speed["rate"]
        return speeds

    def stalled_runs(self) -> set[int]:
        """Runs the project watch follows and found quiet for ``stall_after`` seconds."""
        runs = dict(getattr(self.follow, "runs", {}) or {})  # a copy: the watch thread writes it
        return {run_id for run_id, run in runs.items() if run.state == "stalled"}

    def comparison_model(self) -> str | None:
        """The model whose production an unregistered run is set against in the live view:
        the one the app was opened on (``mltui --model``), else the project watch's model."""
        if self.start and self.start != "*":
            return self.start
        return getattr(self.follow, "model", None) or None

    def now(self) -> float:
        """The catalog's clock (frozen in snapshot tests)."""
        return self.catalog.now()

    # -- lifecycle -------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        """Browse is the first screen itself: no blank screen is mounted and painted first."""
        from .screens.browse import BrowseScreen

        return BrowseScreen(start=self.start)

    def on_mount(self) -> None:
        if self._on_first_rows is not None:
            self.set_timer(FIRST_ROWS_LIMIT, self._first_rows_painted)
        path = config_path()
        keymap: dict[str, str] | None = self._keymap_override
        problems: list[str] = []
        if keymap is None and path.is_file():  # no config file: the keymap module stays out
            from .keymap import load_keymap

            keymap, problems = load_keymap(path)
        if keymap:
            self.set_keymap(keymap)
        for warning in [*problems, *self.catalog.warnings]:
            if warning:
                self.notify(warning, severity="warning", markup=False, timeout=15)
        if self.watch:
            self.set_interval(self.poll_seconds, self._poll)
            self.start_following()
        if self.remote:
            from .remote_follow import RemoteFollower

            self.follower = RemoteFollower(self, self.remote)
            self.follower.start()

    # -- the project's watch (``watch:`` in .mltui/config.yaml) ---------------------------------

    def start_following(self, interval: float = FOLLOW_SECONDS) -> bool:
        """Follow the run folders of the project config's ``watch:`` block: one
        ``WatchState.poll`` per ``interval`` on a thread of its own (imports write through
        their own connection, so the live refresh above shows what they wrote).  Nothing when
        the block is absent; a bad block or a missing folder is one notice.  True if following."""
        from ..core.config_file import load_sections

        try:
            project = load_sections(self.catalog.path, ("watch",))
            config = project.watch if project is not None else None
            if config is None:
                return False
            # Only now: the importers it brings cost ~15 ms of every start without a watch.
            from ..services.watch import WatchState

            self.stall_after = config.stall_after
            self.follow = WatchState(self.catalog, list(config.paths), model=config.model,
                                     stall_after=config.stall_after)
        except MltuiError as exc:
            self.notify(f"not following runs: {exc.one_line()}", severity="warning",
                        markup=False, timeout=15)
            return False
        self._follow_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mltui-watch")
        self.set_interval(interval, self._follow_pass)
        return True

    async def _follow_pass(self) -> None:
        """One pass of the project watch; skipped while the previous one still runs."""
        if self._follow_busy or self.follow is None or self._follow_executor is None:
            return
        self._follow_busy = True
        loop = asyncio.get_running_loop()
        try:
            changes = await loop.run_in_executor(self._follow_executor, self.follow.poll)
        except Exception as exc:  # noqa: BLE001 - a background pass must never crash the app
            if not self._follow_failed:
                self._follow_failed = True
                text = exc.one_line() if isinstance(exc, MltuiError) else \
                    f"{type(exc).__name__}: {exc}"
                self.log.error(f"watch pass failed: {exc!r}")
                self.notify(f"following runs: {text} (retrying quietly)", severity="error",
                            markup=False, timeout=15)
            return
        finally:
            self._follow_busy = False
        self._follow_failed = False
        # Imports reach the screens through the live refresh; a run going quiet writes nothing.
        if any(change.kind in ("stalled", "resumed") for change in changes):
            await self.reload_screens()

    def warm_up_later(self) -> None:
        """Browse has shown its first rows: soon, import the code of the screens a user opens
        next, on a thread, so their first open pays no import (once per app)."""
        if not self._warm_up_scheduled:
            self._warm_up_scheduled = True
            self.call_after_refresh(self._first_rows_painted)
            self.set_timer(WARM_UP_DELAY, self._warm_up)

    def _first_rows_painted(self) -> None:
        callback, self._on_first_rows = self._on_first_rows, None
        if callback is not None:
            callback()

    async def _warm_up(self) -> None:
        import importlib

        for name in WARM_MODULES:
            try:
                await asyncio.to_thread(importlib.import_module, f"{__package__}.{name}")
            except Exception as exc:  # noqa: BLE001 - opening the screen will say it properly
                self.log.error(f"warm-up import of {name} failed: {exc!r}")
        await self._check_config()

    async def _check_config(self) -> None:
        """A project config the start passed over unparsed (it holds no ``columns:`` and no
        ``watch:``, see ``core.config.load_config``) is validated now, after the first rows,
        so a broken file is still said once at start."""
        from ..core.config import check_unread

        if self.catalog.path is None:
            return
        read = ("columns", "watch") if self.watch else ("columns",)
        try:
            await asyncio.to_thread(check_unread, self.catalog.path, read)
        except MltuiError as exc:
            self.notify(exc.one_line(), severity="error", markup=False, timeout=15)

    async def reopen_catalog(self) -> bool:
        """Follow a replaced catalog file: open the new one and reload every screen.

        Returns True when the app now holds a catalog other than before.  A deleted file is
        said once; calls stay refused until a file is back at the path.
        """
        old = self.catalog
        identity = file_identity(old.path)
        if identity == self._identity:
            return False
        if identity is None:
            if self._identity is not None:
                self._identity = None
                self.notify(f"the catalog file {old.path} was deleted: nothing can be written "
                            "until it is back", severity="error", markup=False, timeout=15)
            return False
        loop = asyncio.get_running_loop()
        try:
            new = await loop.run_in_executor(self._poll_executor, functools.partial(
                type(old), old.path, clock=old.clock, actor=old.actor, readonly=old.readonly))
        except MltuiError as exc:
            self.notify(exc.one_line(), severity="error", markup=False, timeout=15)
            return False
        new.write_through = old.write_through  # synced models keep writing through
        self.catalog, self._identity, self._data_version = new, identity, None
        if self.follow is not None:
            self.follow.cat = new  # the project watch imports into the catalog now at the path
        self._reopened.append(new)  # the app opened it, so the app closes it
        self._executor.submit(old.close)
        self.notify(f"the catalog file {old.path} was replaced: reopened", severity="warning",
                    markup=False, timeout=10)
        await self.reload_screens()
        return True

    async def _poll(self) -> None:
        """Reload every open screen when another connection has committed."""
        if await self.reopen_catalog():
            return
        loop = asyncio.get_running_loop()
        try:
            version = await loop.run_in_executor(self._poll_executor, self.catalog.data_version)
        except MltuiError:
            return  # locked or busy: try again at the next tick
        except Exception as exc:  # noqa: BLE001 - a poll must never crash the app
            self.log.error(f"poll failed: {exc!r}")
            return
        if self._data_version is None:
            self._data_version = version
            return
        if version != self._data_version:
            self._data_version = version
            await self.reload_screens()

    async def reload_screens(self) -> None:
        """Ask the catalog screens in view to re-read their data: the top screen and, under
        dialogs, the screen they cover.  Screens further down only note that they are stale
        and re-read when they come back (a hidden screen's repaint is still bytes to the
        terminal, every time a followed run grows)."""
        from textual.screen import ModalScreen

        from .base import CatalogScreen

        in_view = set()
        for screen in reversed(self.screen_stack):
            in_view.add(screen)
            if not isinstance(screen, ModalScreen):
                break
        for screen in list(self.screen_stack):
            if isinstance(screen, CatalogScreen):
                if screen in in_view:
                    screen.call_later(screen.reload)
                else:
                    screen.stale = True

    def on_unmount(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        # The catalog's reads are short: wait for the one in flight, so that whoever closes the
        # catalog next closes idle connections (core/db.py ConnectionPool.close).  A follow
        # pass may be a long import: not waited for; the pool lets its connection go instead.
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._poll_executor.shutdown(wait=True, cancel_futures=True)
        if self._follow_executor is not None:
            self._follow_executor.shutdown(wait=False, cancel_futures=True)
        for catalog in self._reopened:
            catalog.close()

    # -- actions ----------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit (``q``, ``ctrl+q``, the palette) — but never silently over unsaved docs."""
        from .screens.confirm import ConfirmDialog

        unsaved = [screen for screen in self.screen_stack if getattr(screen, "modified", False)]
        if not unsaved:
            self.exit()
            return
        if isinstance(self.screen, ConfirmDialog):
            return  # already asking something: answer that first

        def answered(discard: bool | None) -> None:
            if discard:
                for screen in unsaved:
                    screen.discard_draft()
                self.exit()

        names = ", ".join(str(getattr(screen, "target", "")) for screen in unsaved)
        self.push_screen(ConfirmDialog(f"Quit and discard your unsaved changes to {names}?",
                                       "y quits without saving · n goes back to the editor"),
                         answered)

    def action_toggle_mouse(self) -> None:
        """``f2``: give the mouse to the terminal (to select and copy text) or take it back."""
        self.set_mouse(not self.mouse_on)

    def set_mouse(self, on: bool) -> None:
        """Turn mouse reporting on or off in the terminal, and say how to switch back."""
        driver = self._driver
        if driver is not None:
            # Textual's drivers have these (private) switches; a driver started without the
            # mouse ignores "enable" unless told it may use it.
            if on:
                driver._mouse = True
                getattr(driver, "_enable_mouse_support", lambda: None)()
            else:
                getattr(driver, "_disable_mouse_support", lambda: None)()
                driver._mouse = False
        self.mouse_on = on
        key = next((self.get_key_display(active.binding)
                    for active in self.screen.active_bindings.values()
                    if active.binding.action == "toggle_mouse"), "f2")
        message = (f"mouse on: click and scroll in the app · {key} gives it back to the "
                   "terminal to select text (or Shift-drag)") if on else \
            f"mouse off: select and copy text as usual · {key} turns the app's mouse back on"
        self.notify(message, markup=False, timeout=6)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key of the current screen is also a command in the palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            node = active.node
            help_text = f"key: {binding.key_display or self.get_key_display(binding)}"
            yield SystemCommand(binding.description, help_text,
                                functools.partial(self._run_bound, node, binding.action))

    async def _run_bound(self, node: Any, action: str) -> None:
        await self.run_action(action, node)


def run_app(catalog: "Catalog", start: str | None = None, *, mouse: bool = True,
            remote: str | None = None, on_first_rows: Callable[[], None] | None = None) -> None:
    """Open the app on a catalog (the CLI's entry point); ``start`` picks the model; without
    ``mouse`` the terminal keeps the mouse (plain text selection); ``remote`` is an MLflow
    server to follow; ``on_first_rows`` is called once the first rows are painted."""
    MltuiApp(catalog, start=start, mouse=mouse, prefetch=True, remote=remote,
             on_first_rows=on_first_rows).run(mouse=mouse)
