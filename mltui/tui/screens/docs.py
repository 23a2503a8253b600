"""Documentation of a version (or a model): a Markdown editor with a live preview, revisions.

Every ``ctrl+s`` saves a new revision on top of the revision the editor was loaded from.  If
someone saved meanwhile, the catalog refuses (``Conflict``) and nothing is overwritten: the
editor keeps the user's text, the conflict view shows the other revision and a diff, and the
user chooses — ``ctrl+s`` again saves theirs on top of the new revision, ``ctrl+l`` discards
theirs and loads the new one.  ``ctrl+r`` lists the revisions with a diff between any two.

The editor is a plain TextArea (Markdown highlighting needs tree-sitter, which is optional);
the preview is Textual's Markdown widget, which renders Markdown and never Rich markup.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static, TextArea

from ...core.errors import Conflict
from ...display import fmt_age, fmt_time, safe
from ..widgets.keybar import KeyBar
from ..base import CatalogScreen
from ..drafts import draft_path, read_draft, remove_draft, write_draft
from .confirm import ConfirmDialog, TextPrompt
from .docrevs import DocRevisionsScreen
from ..widgets.doctext import MARKDOWN_LANGUAGE, DocEditor, diff_text, unified_diff
from ..widgets.textsearch import EditorSearchTarget, SearchBar, TextSearchMixin, search_bindings

PREVIEW_DELAY = 0.3  # seconds of no typing before the preview follows
WIDE = 100  # at this width and more the preview is shown by default


class DocsScreen(TextSearchMixin, CatalogScreen):
    """Edit the documentation of a version (or a model) and save it as a new revision.

    ``ctrl+f`` searches the text (the editor types every letter, so ``f3``/``shift+f3``, or
    ``↓``/``↑`` in the prompt, step through the matches; each is selected in the editor).
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="docs.save"),
        Binding("ctrl+n", "save_with_message", "Save with message", show=False,
                id="docs.save_message"),
        Binding("ctrl+t", "toggle_preview", "Preview", id="docs.preview"),
        Binding("ctrl+r", "revisions", "Revisions", id="docs.revisions"),
        Binding("ctrl+l", "take_theirs", "Load theirs", id="docs.take_theirs"),
        Binding("escape", "back", "Back", id="docs.back"),
        *search_bindings("docs", key="ctrl+f", next_key="f3", previous_key="shift+f3"),
    ]

    DEFAULT_CSS = """
    DocsScreen #docs-body { layout: horizontal; height: 1fr; }
    DocsScreen #docs-editor { width: 1fr; height: 1fr; border: none; padding: 0 1; }
    DocsScreen #docs-preview-pane {
        width: 1fr; height: 1fr; border-left: vkey $foreground 20%;
    }
    DocsScreen #docs-preview-pane.hidden { display: none; }
    DocsScreen #docs-preview { padding: 0 1; }
    DocsScreen #docs-conflict {
        display: none; height: 50%; border-top: hkey $error; padding: 0 1;
    }
    DocsScreen #docs-conflict.open { display: block; }
    """

    def __init__(self, version_id: int | None = None, *, kind: str = "version",
                 model: str | None = None, doc: dict[str, Any] | None = None):
        super().__init__()
        # A document read before the screen was built (docs_entry): the editor starts with
        # its text, one layout and one paint instead of an empty editor filled a frame later.
        self._preloaded = doc
        if kind == "model" and not model:
            raise ValueError("model documentation needs the model's name")
        if kind == "version" and version_id is None:
            raise ValueError("version documentation needs a version id")
        self.kind = kind
        self.ref: int | str = model if kind == "model" else version_id  # type: ignore[assignment]
        self.version_id = version_id
        self.target = ""  # ``fraud@3`` or the model name, once loaded
        self.base_rev: int | None = None  # the revision the editor was loaded from
        self.saved_text = ""  # the text of that revision (or the template): "modified" = differs
        self.doc: dict[str, Any] = {}
        self.conflict: Conflict | None = None
        self.conflict_message: str | None = None  # the message of the save that conflicted
        self.newer_rev: int | None = None  # a revision saved elsewhere while editing
        self.show_preview: bool | None = None  # None: decided by the width at mount
        self._preview_timer: Timer | None = None
        self._previewed: str | None = None  # the text the preview shows
        self._preview: Any = None  # the DocPreview, once first shown

    def compose(self) -> ComposeResult:
        yield Static(Text("docs …", style="dim"), id="docs-title", classes="screen-title")
        with Container(id="docs-body"):
            text = self._preloaded["text"] if self._preloaded else ""
            yield DocEditor(text, id="docs-editor", language=MARKDOWN_LANGUAGE, soft_wrap=True,
                            tab_behavior="focus", show_line_numbers=False)
            # The preview widget is mounted when first shown (see _update_preview).
            yield VerticalScroll(id="docs-preview-pane")
        with VerticalScroll(id="docs-conflict"):
            yield Static(id="docs-conflict-body")
        yield SearchBar(lambda: EditorSearchTarget(self.editor), next_keys="f3/shift+f3")
        yield KeyBar()

    @property
    def editor(self) -> DocEditor:
        """The Markdown editor."""
        return self.query_one("#docs-editor", DocEditor)

    @property
    def modified(self) -> bool:
        """The editor's text differs from the revision it was loaded from."""
        return self.base_rev is not None and self.editor.text != self.saved_text

    def on_mount(self) -> None:
        if self.show_preview is None:
            self.show_preview = self.size.width >= WIDE  # 80 columns: the editor gets them all
        self.query_one("#docs-preview-pane").set_class(not self.show_preview, "hidden")
        self.editor.focus()
        if self._preloaded is None:
            self.load()
            return
        doc, self._preloaded = self._preloaded, None
        self._apply_doc(doc)
        if self.show_preview:
            self.run_worker(self._update_preview(), group="preview", exclusive=True)
        self.offer_draft()

    async def reload(self) -> None:
        """Another process wrote: follow a newer revision only if nothing is being edited."""
        self.check_newer()

    # -- loading ----------------------------------------------------------------------------------

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load(self) -> None:
        """Load the latest revision (or the template, as rev 0) into the editor."""
        doc = await self.db(self.catalog.get_doc, self.ref, kind=self.kind)
        await self._load_doc(doc)
        self.offer_draft()

    async def _load_doc(self, doc: dict[str, Any]) -> None:
        self._apply_doc(doc)
        if self.show_preview:
            await self._update_preview()

    def _apply_doc(self, doc: dict[str, Any]) -> None:
        """Show ``doc`` in the editor (unless it holds that text already) and the title."""
        self.doc = doc
        self.target = doc["target"]
        self.base_rev = doc["rev"]
        self.saved_text = doc["text"]
        self.newer_rev = None
        if self.editor.text != doc["text"]:
            self.editor.load_text(doc["text"])
        self.editor.move_cursor((0, 0))
        self._update_title()
        self.refresh_bindings()  # save and revisions apply from now on

    @work(exclusive=True, group="newer", exit_on_error=False)
    async def check_newer(self) -> None:
        """After a catalog change: follow a newer revision, or flag it while editing."""
        if self.base_rev is None:
            return
        try:
            doc = await self.db(self.catalog.get_doc, self.ref, kind=self.kind)
        except Exception:  # noqa: BLE001 - a refresh that fails changes nothing
            return
        if doc["rev"] == self.base_rev:
            return
        if not self.modified and self.conflict is None:
            await self._load_doc(doc)
            self.app.notify(f"revision {doc['rev']} was saved elsewhere: loaded", markup=False)
        else:
            self.newer_rev = doc["rev"]
            self._update_title()

    # -- drafts (unsaved text survives a crash) ------------------------------------------------

    @property
    def draft_file(self):
        """The draft file of this document (None before it is loaded or for in-memory catalogs)."""
        if not self.target:
            return None
        return draft_path(self.catalog.path, self.kind, self.target)

    def sync_draft(self) -> None:
        """Keep the draft file equal to the unsaved text: written while modified, else removed."""
        path = self.draft_file
        if path is None:
            return
        try:
            if self.modified:
                write_draft(path, kind=self.kind, target=self.target, base_rev=self.base_rev,
                            text=self.editor.text, at=self.app.now())
            else:
                remove_draft(path)
        except OSError as exc:  # a read-only folder: say so once, keep editing
            if not getattr(self, "_draft_warned", False):
                self._draft_warned = True
                self.app.notify(f"unsaved text is not kept on disk: {exc}", severity="warning",
                                markup=False)

    def discard_draft(self) -> None:
        """The user chose to drop the unsaved text."""
        remove_draft(self.draft_file)

    def offer_draft(self) -> None:
        """A draft left by a crash or a lost session: offer it back (y) or drop it (n)."""
        draft = read_draft(self.draft_file)
        if draft is None:
            return
        if draft["text"] == self.editor.text:  # nothing unsaved in it after all
            self.discard_draft()
            return
        rev = draft.get("base_rev")

        def answered(restore: bool | None) -> None:
            if not restore:
                self.discard_draft()
                return
            if isinstance(rev, int) and rev != self.base_rev:
                # Edited on top of an older revision: saving it goes through the conflict view.
                self.newer_rev, self.base_rev = self.base_rev, rev
            self.editor.load_text(draft["text"])
            self._update_title()

        when = fmt_age(draft.get("at"), self.app.now()) if draft.get("at") else "?"
        self.app.push_screen(ConfirmDialog(
            f"Restore unsaved text of {safe(self.target)}?",
            f"left {when} ago on top of rev {rev} · y restores it · n discards it"), answered)

    def _update_title(self) -> None:
        # What needs attention first (modified, conflict), then which revision this is: at 80
        # columns the end of the line is what gets cut.
        title = Text.assemble(("docs  ", "dim"), (safe(self.target), "bold"))
        if self.modified:
            title.append("  ● modified", style="bold yellow")
        if self.conflict is not None:
            title.append(f"  conflict: rev {self.conflict.current_rev} saved meanwhile",
                         style="bold red")
        elif self.newer_rev is not None:
            title.append(f"  rev {self.newer_rev} saved elsewhere", style="bold yellow")
        doc = self.doc
        if doc.get("is_template") and self.base_rev == 0:
            title.append("  template — not saved yet", style="dim italic")
        else:
            title.append(f"  rev {self.base_rev}", style="bold")
            if doc.get("author"):
                title.append(f" · {safe(doc['author'])}", style="dim")
            if doc.get("at"):
                title.append(f" · {fmt_time(doc['at'])}", style="dim")
        self.query_one("#docs-title", Static).update(title)

    # -- preview ----------------------------------------------------------------------------------

    @on(TextArea.Changed, "#docs-editor")
    def text_changed(self) -> None:
        """Typing: update the title's state, the draft on disk, and the preview after a pause."""
        self._update_title()
        self.sync_draft()
        if self.editor.text != self._previewed:  # not for the load that was just previewed
            self._schedule_preview(PREVIEW_DELAY)

    def _schedule_preview(self, delay: float) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if self.show_preview:
            self._preview_timer = self.set_timer(delay, self._update_preview)

    async def _update_preview(self) -> None:
        text = self.editor.text
        self._previewed = text
        if self._preview is None:
            # Imported and mounted on first use: at 80 columns the editor opens without it.
            # Assigned before the await so that a second update never mounts a second one.
            from ..widgets.docpreview import DocPreview

            self._preview = DocPreview(id="docs-preview")
            await self.query_one("#docs-preview-pane").mount(self._preview)
        await self._preview.show(text)

    def action_toggle_preview(self) -> None:
        """``ctrl+t``: show or hide the preview (hidden by default below 100 columns)."""
        self.show_preview = not self.show_preview
        self.query_one("#docs-preview-pane").set_class(not self.show_preview, "hidden")
        if self.show_preview and self.editor.text != self._previewed:
            self.run_worker(self._update_preview(), group="preview", exclusive=True)

    # -- saving -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``ctrl+l`` applies only in a conflict; nothing saves before the text is loaded."""
        if action == "take_theirs":
            return True if self.conflict is not None else None
        if action in ("save", "save_with_message", "revisions") and self.base_rev is None:
            return None
        return True

    def action_save(self) -> None:
        """``ctrl+s``: save a new revision, at once (no question: saving stays one key); after a
        conflict, with the message of the save that was refused."""
        self.save(self.conflict_message if self.conflict is not None else None)

    def action_save_with_message(self) -> None:
        """``ctrl+n``: ask for a message ("why this change"), then save; esc saves nothing."""
        def answered(message: str | None) -> None:
            if message is not None:
                self.save(message or None)

        self.app.push_screen(TextPrompt(
            f"Save {self.target} with a message", placeholder="why this change (optional)",
            hint="enter saves (an empty message is fine) · esc goes back without saving"),
            answered)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def save(self, message: str | None = None) -> None:
        """Save the editor's text on top of its base revision (after a conflict: the new one),
        with an optional ``message`` shown in the revision list."""
        text = self.editor.text
        # After a conflict, saving again is the user's explicit choice to put their text on
        # top of the revision that was saved meanwhile.
        base = self.conflict.current_rev if self.conflict is not None else self.base_rev
        try:
            result = await self.db(self.catalog.set_doc, self.ref, text, base_rev=base,
                                   kind=self.kind, message=message)
        except Conflict as exc:
            self.conflict_message = message
            await self._show_conflict(exc, text, base)
            return
        except Exception as exc:  # noqa: BLE001
            self.report_error(exc)
            return
        try:
            doc = await self.db(self.catalog.get_doc, self.ref, kind=self.kind, rev=result["rev"])
        except Exception:  # noqa: BLE001 - the save succeeded; the title just shows less
            doc = {**self.doc, "rev": result["rev"], "is_template": False}
        self.doc = doc
        self.base_rev = result["rev"]
        self.saved_text = text
        self.newer_rev = None
        self._clear_conflict()
        self._update_title()
        self.sync_draft()  # removed, unless more was typed while saving
        self.refresh_bindings()
        message = f"saved revision {result['rev']}" if result["changed"] else \
            f"nothing changed since revision {result['rev']}"
        self.app.notify(message, title=self.target, markup=False)

    async def _show_conflict(self, exc: Conflict, mine: str, base: int | None) -> None:
        """Someone saved meanwhile: keep the editor, show their revision and the difference."""
        self.conflict = exc
        theirs = exc.current_text or ""
        diff = await asyncio.to_thread(unified_diff, theirs, mine,
                                       f"rev {exc.current_rev} (saved meanwhile)", "your text")
        body = Text()
        body.append(f"Revision {exc.current_rev} was saved while you edited revision {base}: "
                    "nothing was overwritten, your text is kept in the editor.\n", style="bold")
        body.append("ctrl+s", style="bold")
        body.append(f" save yours on top of rev {exc.current_rev}   ")
        body.append("ctrl+l", style="bold")
        body.append(f" discard yours, load rev {exc.current_rev}\n\n")
        body.append(f"difference: rev {exc.current_rev} → your text\n", style="bold")
        body.append_text(diff_text(diff, empty="no differences: the texts are the same"))
        body.append(f"\n\ntheir text (rev {exc.current_rev})\n", style="bold")
        body.append(safe(theirs, keep_newlines=True))
        self.query_one("#docs-conflict-body", Static).update(body)
        pane = self.query_one("#docs-conflict")
        pane.add_class("open")
        pane.scroll_home(animate=False)
        # No toast: it would cover the instructions above for seconds; the title and this
        # pane say it all.
        self._update_title()
        self.refresh_bindings()

    def _clear_conflict(self) -> None:
        self.conflict = None
        self.query_one("#docs-conflict").remove_class("open")

    def action_take_theirs(self) -> None:
        """``ctrl+l`` in a conflict: once confirmed, drop the user's text, load the new revision."""
        conflict = self.conflict
        if conflict is None:
            return

        def answered(discard: bool | None) -> None:
            if discard and self.conflict is conflict:
                self.discard_draft()
                self._clear_conflict()
                self.load()
                self.refresh_bindings()

        self.app.push_screen(ConfirmDialog(
            f"Discard your text and load revision {conflict.current_rev}?",
            "Your unsaved text will be lost."), answered)

    # -- other screens ----------------------------------------------------------------------------

    def action_revisions(self) -> None:
        """``ctrl+r``: the revision list, with diffs against the editor's current text."""
        self.app.push_screen(DocRevisionsScreen(self.ref, kind=self.kind, target=self.target,
                                                editor_text=self.editor.text,
                                                editor_modified=self.modified))

    def action_back(self) -> None:
        """``escape``: close an open search; else leave, asking first when there are unsaved
        changes."""
        if self.close_search():
            return
        if not self.modified:
            self.app.pop_screen()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.discard_draft()
                self.app.pop_screen()

        self.app.push_screen(ConfirmDialog("Discard your unsaved changes?",
                                           "y leaves without saving · n stays in the editor"),
                             answered)
