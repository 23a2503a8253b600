"""Documentation text in the app: an editor that never sends control characters to the
terminal, the text a preview renders, and coloured unified diffs.

The preview widget itself lives in ``docpreview`` so that opening the editor at 80 columns
(no preview) never imports Textual's Markdown widget and its parser.

The editor must keep the user's text exactly (saving is byte-for-byte what was typed or
loaded), so control characters are replaced *for display only*: each one becomes a visible
one-cell glyph (``␛`` for ESC) in the rendered line, while the document keeps the original.
"""

from __future__ import annotations

import difflib
import re

from rich.text import Text
from textual.reactive import Reactive, reactive
from textual.widgets import TextArea

from ...display import safe

# What Markdown highlighting needs: tree-sitter with the markdown grammar.  Without it the
# editor is plain text (Textual would only log a warning, but asking for a language it cannot
# load raises when tree-sitter is present without the grammar) — so ask only when it works.
try:  # pragma: no cover - depends on optional packages
    from textual._tree_sitter import TREE_SITTER, get_language

    MARKDOWN_LANGUAGE: str | None = "markdown" if TREE_SITTER and get_language("markdown") else None
except Exception:  # noqa: BLE001 - a private module may move: fall back to plain text
    MARKDOWN_LANGUAGE = None

# C0 controls (tab and newline excepted), DEL, C1 controls and the bidi controls that can
# reorder the text around them.  Each is shown as one visible cell.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _glyph(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ␛ for ESC, ␇ for BEL
    if code == 0x7f:
        return "␡"
    return "�"


def visible_controls(line: str) -> str:
    """``line`` with every control character replaced by one visible glyph (same length)."""
    return _CONTROL.sub(_glyph, line)


class DocEditor(TextArea):
    """A Markdown editor (plain TextArea) that draws control characters as visible glyphs.

    Only :meth:`get_line` (what is drawn) changes: the document, the cursor and the saved text
    are untouched.  A line with control characters may place the cursor one cell off per
    character (the terminal width of a control is 0, its glyph's is 1) — a fair price for a
    terminal that cannot be taken over by a document.
    """

    # A blinking cursor repaints a line twice a second: bytes over SSH for nothing, and
    # screenshots that depend on when they were taken.
    cursor_blink: Reactive[bool] = reactive(False, init=False)

    def get_line(self, line_index: int) -> Text:
        """The line to draw, with control characters made visible."""
        return Text(visible_controls(self.document.get_line(line_index)), end="", no_wrap=True)


def preview_source(text: str) -> str:
    """The text given to the Markdown preview: line endings normalised, controls visible.

    Textual's Markdown widget renders Markdown only (``[link=…]`` stays literal text); this
    also keeps escape sequences in a document from reaching the terminal.
    """
    return safe(text.replace("\r\n", "\n").replace("\r", "\n"), keep_newlines=True)


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff of two texts (what ``catalog.doc_diff`` returns for two revisions)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=old_label, tofile=new_label)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_text(diff: str, *, empty: str = "no differences") -> Text:
    """A unified diff as literal, coloured Text: ``+`` green, ``-`` red, hunks cyan."""
    if not diff.strip():
        return Text(empty, style="dim italic")
    text = Text()
    for index, line in enumerate(diff.splitlines()):
        if index:
            text.append("\n")
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = ""
        text.append(safe(line), style=style)
    return text
