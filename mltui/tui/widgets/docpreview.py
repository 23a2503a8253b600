"""The live Markdown preview of a document.

Its own module because Textual's Markdown widget pulls in a Markdown parser and Pygments
(~35 ms): the docs screen imports this only when the preview is first shown.
"""

from __future__ import annotations

from textual.widgets import Markdown

from .doctext import preview_source


class DocPreview(Markdown):
    """The live preview of a document (links are not opened from here)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__("", id=id, classes=classes, open_links=False)

    async def show(self, text: str) -> None:
        """Render ``text`` (user Markdown) as Markdown."""
        await self.update(preview_source(text))
