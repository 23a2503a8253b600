"""What every screen of the app shares: catalog calls off the UI thread, errors as notices.

Screens never touch SQLite: they call the :class:`~mltui.core.catalog.Catalog` through
:meth:`CatalogScreen.db`, which runs the call on the app's database threads and returns its
result to the (async) worker that awaited it.  A worker that fails is reported by one handler
(``Worker.StateChanged`` in the ERROR state): a typed core error becomes one notification,
anything else is logged and shown as one line too, never a traceback on the screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from ..core.errors import MltuiError

if TYPE_CHECKING:  # pragma: no cover
    from ..core.catalog import Catalog
    from .app import MltuiApp

T = TypeVar("T")


class CatalogMixin:
    """Helpers for screens and widgets that read or write the catalog."""

    app: "MltuiApp"

    @property
    def catalog(self) -> "Catalog":
        """The app's catalog."""
        return self.app.catalog

    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on a database thread and await its result."""
        return await self.app.run_db(function, *args, **kwargs)

    def report_error(self, error: BaseException, *, title: str = "mltui") -> None:
        """Show an error as one line (a notification), never a traceback."""
        if isinstance(error, MltuiError):
            message = error.one_line()
        else:
            self.app.log.error(repr(error))
            message = f"{type(error).__name__}: {error}"
        self.app.notify(message, title=title, severity="error", timeout=8, markup=False)


    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One path for failures in background work: every worker of a screen runs with
        ``exit_on_error=False``, and one that raised is reported here, the same way each time."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)


class CatalogScreen(CatalogMixin, Screen):
    """A full screen over the catalog; ``reload()`` is called when the catalog changes (at once
    when in view, else when the screen comes back: ``stale``)."""

    stale = False

    def on_screen_resume(self) -> None:
        """Back on top after the catalog changed underneath: re-read now."""
        if self.stale:
            self.stale = False
            self.call_later(self.reload)

    async def reload(self) -> None:
        """Re-read what this screen shows (another process wrote to the catalog)."""


class CatalogModal(CatalogMixin, ModalScreen[T]):
    """A dialog over the catalog (dismissed with a result of type ``T``)."""
