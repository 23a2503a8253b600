"""``mltui --remote NAME``: the app follows a team's MLflow server.

The local catalog is shown at once; a pull runs on its own thread right away and then every
``FOLLOW_SECONDS``, and what it writes reaches the screens through the app's live refresh.
The state is one calm line in the header (``team: synced 12:04:31`` / ``team: offline …``);
losing the connection is said once, never a frozen screen.  Promotions and rollbacks of synced
models write through (``Catalog.write_through``) and are refused while the server is
unreachable rather than queued.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..core.errors import MltuiError

if TYPE_CHECKING:  # pragma: no cover
    from .app import MltuiApp

FOLLOW_SECONDS = 10.0


class RemoteFollower:
    """Pulls one remote for the app, one pull at a time, and shows how that went."""

    def __init__(self, app: "MltuiApp", remote: str, seconds: float = FOLLOW_SECONDS):
        self.app = app
        self.remote = remote
        self.seconds = seconds
        self.online: bool | None = None  # unknown until the first pull ends
        self.status = f"{remote}: pulling…"
        self._busy = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mltui-pull")

    def start(self) -> None:
        """Pull now, then every ``seconds``."""
        self._show()
        self.app.call_later(self.tick)
        self.app.set_interval(self.seconds, self.tick)

    def stop(self) -> None:
        """Forget pulls not started yet (a running one finishes on its thread)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def tick(self) -> None:
        """One pull, unless one is still running; the status line says how it went."""
        if self._busy:
            return
        self._busy = True
        from ..services.remote import pull

        loop = asyncio.get_running_loop()
        try:
            summary = await loop.run_in_executor(self._executor, pull, self.app.catalog,
                                                 self.remote)
        except MltuiError as exc:
            if self.online is not False:  # said once per outage, not every tick
                self.app.notify(exc.one_line(), severity="warning", markup=False, timeout=10)
            self.online = False
            self.status = (f"{self.remote}: offline since {time.strftime('%H:%M:%S')}; "
                           "promotions of synced models are refused until it is back")
        except RuntimeError:  # the executor was shut down: the app is closing
            return
        else:
            if self.online is False:
                self.app.notify(f"{self.remote}: back online", markup=False, timeout=5)
            self.online = True
            changed = "" if summary.nothing_new() else \
                f" ({summary.runs_new + summary.runs_updated} runs, {summary.versions_new} " \
                f"versions, {summary.stages_set} stage changes)"
            self.status = f"{self.remote}: synced {time.strftime('%H:%M:%S')}{changed}"
        finally:
            self._busy = False
        self._show()

    def _show(self) -> None:
        self.app.sub_title = f"{self.app.catalog.path} · {self.status}"
