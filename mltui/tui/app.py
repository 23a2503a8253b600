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
from concurrent.futures import ThreadPoolExecutor
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
    ]

    def __init__(self, catalog: "Catalog", *, poll_seconds: float = POLL_SECONDS,
                 keymap: dict[str, str] | None = None, watch: bool = True,
                 start: str | None = None, remote: str | None = None):
        super().__init__()
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

    def now(self) -> float:
        """The catalog's clock (frozen in snapshot tests)."""
        return self.catalog.now()

    # -- lifecycle -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from .keymap import load_keymap

        keymap, problems = (self._keymap_override, []) if self._keymap_override is not None \
            else load_keymap(config_path())
        if keymap:
            self.set_keymap(keymap)
        for warning in [*problems, *self.catalog.warnings]:
            if warning:
                self.notify(warning, severity="warning", markup=False, timeout=15)
        from .screens.browse import BrowseScreen

        self.push_screen(BrowseScreen(start=self.start))
        if self.watch:
            self.set_interval(self.poll_seconds, self._poll)
        if self.remote:
            from .remote_follow import RemoteFollower

            self.follower = RemoteFollower(self, self.remote)
            self.follower.start()

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
        """Ask every catalog screen in the stack to re-read its data."""
        from .base import CatalogScreen

        for screen in list(self.screen_stack):
            if isinstance(screen, CatalogScreen):
                screen.call_later(screen.reload)

    def on_unmount(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._poll_executor.shutdown(wait=False, cancel_futures=True)
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


def run_app(catalog: "Catalog", start: str | None = None, remote: str | None = None) -> None:
    """Open the app on a catalog (the CLI's entry point); ``start`` picks the model, ``remote``
    an MLflow server to follow."""
    MltuiApp(catalog, start=start, remote=remote).run()
