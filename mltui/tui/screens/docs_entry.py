"""Opening the Docs screen fast: the document is read while the screen's code is imported.

Pushing the screen first and loading the text after meant two layouts and two paints of the
editor (an empty one, then the text); here the catalog read runs on a database thread while
the main thread imports the screen, and the screen is built with its text from the start.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def open_docs(screen: Any, version_id: int) -> None:
    """Push the Docs screen of ``version_id`` over ``screen``, its document already read."""
    reading = asyncio.ensure_future(screen.db(screen.catalog.get_doc, version_id, kind="version"))
    await asyncio.sleep(0)  # the read is on its thread before the import below holds the loop
    from .docs import DocsScreen

    try:
        doc = await reading
    except Exception:  # noqa: BLE001 - the screen reads it again and reports the error itself
        doc = None
    screen.app.push_screen(DocsScreen(version_id, doc=doc))
