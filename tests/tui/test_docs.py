"""Docs, driven by the real keys from browse: template, save, conflicts, revisions, leaving."""

from __future__ import annotations

from rich.text import Text

from mltui.core.catalog import open_catalog
from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.docs import ConfirmDialog, DocRevisionsScreen, DocsScreen
from mltui.tui.widgets.doctext import diff_text, preview_source, visible_controls
from tests.tui.conftest import HOSTILE_DOC, make_app, screen_text, settle

THEIRS = "# fraud v3\n\n## Rationale\nMore data from Q2 and Q3.\n"


def notices(app) -> list[str]:
    """The notifications raised so far (run_test does not draw toasts)."""
    return [notification.message for notification in app._notifications]


async def open_docs(pilot, *keys: str) -> DocsScreen:
    """From browse: move with ``keys``, then ``e``."""
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
        await settle(pilot)
    await pilot.press("e")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DocsScreen)
    return screen


async def test_e_opens_the_template_and_ctrl_s_saves_revision_1(tui_catalog) -> None:
    assert tui_catalog.get_doc("fraud@4")["rev"] == 0  # no documentation yet
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot)  # browse's cursor: fraud@4
        text = screen_text(app)
        assert "template — not saved yet" in text
        assert "## Rationale" in text and "## Limitations" in text
        assert screen.editor.text == tui_catalog.doc_template("fraud@4")
        await pilot.press(*"Distilled from v1. ")
        await settle(pilot)
        assert screen.modified and "● modified" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        doc = tui_catalog.get_doc("fraud@4")
        assert doc["rev"] == 1
        assert doc["text"].startswith("Distilled from v1. # fraud v4")
        assert doc["text"] == screen.editor.text
        assert screen.base_rev == 1 and not screen.modified
        assert "rev 1" in screen_text(app).splitlines()[0]
        assert "saved revision 1" in notices(app)
        # Saving again without changes writes nothing.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(tui_catalog.doc_revisions("fraud@4")) == 1


async def test_a_conflicting_save_keeps_both_texts_and_saving_again_puts_mine_on_top(
        tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot, "down")  # fraud@3: revision 2
        assert screen.base_rev == 2
        await pilot.press(*"Mine. ")
        await settle(pilot)
        mine = screen.editor.text
        # Someone else saves a revision meanwhile, through another connection.
        with open_catalog(tui_catalog_path, actor="bea") as other:
            assert other.set_doc("fraud@3", THEIRS, base_rev=2)["rev"] == 3
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The catalog was not changed by the app; the user's text is still in the editor.
        revisions = tui_catalog.doc_revisions("fraud@3")
        assert [r["rev"] for r in revisions] == [3, 2, 1]
        assert tui_catalog.get_doc("fraud@3")["text"] == THEIRS
        assert screen.editor.text == mine
        assert screen.conflict is not None and screen.conflict.current_rev == 3
        assert not notices(app)  # the conflict view says it; no toast covers it
        text = screen_text(app)
        assert "conflict: rev 3 saved meanwhile" in text
        assert "More data from Q2 and Q3." in text  # their text, in the conflict view
        assert "-More data from Q2 and Q3." in text and "+More data from Q2." in text  # the diff
        assert "ctrl+s save yours on top of rev 3" in text
        assert screen.check_action("take_theirs", ()) is True
        # Resolve: an explicit ctrl+s saves mine on top of rev 3.
        await pilot.press("ctrl+s")
        await settle(pilot)
        doc = tui_catalog.get_doc("fraud@3")
        assert doc["rev"] == 4 and doc["text"] == mine
        assert screen.conflict is None and screen.base_rev == 4
        assert "conflict" not in screen_text(app).split("\n")[0]
        assert screen.check_action("take_theirs", ()) is None


async def test_a_conflict_can_be_resolved_by_loading_theirs(tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot, "down")
        await pilot.press(*"Mine. ")
        with open_catalog(tui_catalog_path, actor="bea") as other:
            other.set_doc("fraud@3", THEIRS, base_rev=2)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.conflict is not None
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # not yet: nothing changes
        await settle(pilot)
        assert app.screen is screen and screen.editor.text.startswith("Mine. ")
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert screen.editor.text == THEIRS and screen.base_rev == 3 and screen.conflict is None
        assert len(tui_catalog.doc_revisions("fraud@3")) == 3  # nothing was written


async def test_revision_list_diffs_two_revisions_or_one_against_the_editor(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot, "down")  # fraud@3: revisions 1 and 2
        await pilot.press(*"Draft. ")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        revs = app.screen
        assert isinstance(revs, DocRevisionsScreen)
        text = screen_text(app)
        assert "template" in text
        # The cursor's revision (2) against the editor's text.
        assert "rev 2 → your text" in text
        assert "+Draft. # fraud v3" in text and "-# fraud v3" in text
        await pilot.press("space", "down", "space")  # mark rev 2 and rev 1
        await settle(pilot)
        assert sorted(revs.marked) == [1, 2]
        text = screen_text(app)
        assert "rev 1 → rev 2" in text
        assert "-More data." in text and "+More data from Q2." in text
        assert tui_catalog.doc_diff("fraud@3", 1, 2).splitlines()[3] in text
        # A third mark replaces the oldest: rev 1 and rev 0 (the template).
        await pilot.press("down", "space")
        await settle(pilot)
        assert sorted(revs.marked) == [0, 1]
        assert "rev 0 → rev 1" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.editor.text.startswith("Draft. ")


async def test_model_documentation_starts_from_the_model_template(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = DocsScreen(kind="model", model="fraud")
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.editor.text == tui_catalog.doc_template("fraud", kind="model")
        assert "## Owners" in screen_text(app)
        await pilot.press(*"Owned by risk. ", "ctrl+s")
        await settle(pilot)
        doc = tui_catalog.get_doc("fraud", kind="model")
        assert doc["rev"] == 1 and doc["text"].startswith("Owned by risk. # fraud")
        assert tui_catalog.get_doc("fraud@4")["rev"] == 0  # the versions' docs are separate


def test_diffs_are_coloured_and_literal() -> None:
    diff = "--- rev 1\n+++ rev 2\n@@ -1 +1 @@\n-[b]old[/b]\n+[link=x]new[/link]\n same\n"
    text = diff_text(diff)
    assert text.plain.splitlines() == diff.splitlines()  # nothing parsed as markup
    styles = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert styles["-[b]old[/b]"] == "red"
    assert styles["+[link=x]new[/link]"] == "green"
    assert styles["@@ -1 +1 @@"] == "cyan"
    assert isinstance(diff_text(""), Text) and diff_text("").plain == "no differences"


async def test_escape_with_unsaved_changes_asks_first(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot)
        await pilot.press(*"unsaved")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Discard your unsaved changes?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and screen.editor.text.startswith("unsaved")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert tui_catalog.doc_revisions("fraud@4") == []  # nothing saved


async def test_escape_without_changes_goes_straight_back(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_docs(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_ctrl_t_toggles_the_preview_and_80_columns_start_without_it(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")
        pane = screen.query_one("#docs-preview-pane")
        assert not pane.display and screen.editor.size.width >= 76
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert pane.display
        assert screen_text(app).count("More data from Q2.") == 2  # editor and preview
        await pilot.press(*"Typed ")
        await pilot.pause(0.5)  # the preview follows after a short pause
        await settle(pilot)
        assert "Typed # fraud v3" in screen_text(app)  # the preview renders the heading line
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert not pane.display


async def test_reload_follows_a_new_revision_only_when_nothing_is_edited(
        tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot, "down")
        with open_catalog(tui_catalog_path, actor="bea") as other:
            other.set_doc("fraud@3", THEIRS, base_rev=2)
        await screen.reload()
        await settle(pilot)
        assert screen.base_rev == 3 and screen.editor.text == THEIRS
        await pilot.press(*"Mine. ")
        with open_catalog(tui_catalog_path, actor="bea") as other:
            other.set_doc("fraud@3", THEIRS + "More.\n", base_rev=3)
        await screen.reload()
        await settle(pilot)
        assert screen.editor.text.startswith("Mine. ") and screen.base_rev == 3
        assert "rev 4 saved elsewhere" in screen_text(app)


async def test_user_markdown_renders_literally_in_editor_and_preview(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "tab")  # the vision model
        await settle(pilot)
        screen = await open_docs(pilot, "end")  # vision@1: HOSTILE_DOC
        assert screen.editor.text == HOSTILE_DOC
        text = screen_text(app)
        literal = "[link=https://example.com]the report[/link]"
        assert text.count(literal) == 2  # the editor and the Markdown preview
        assert text.count("[b]this[/b]") == 2


async def test_control_characters_in_a_doc_never_reach_the_terminal(tui_catalog) -> None:
    tui_catalog.set_doc("fraud@4", "# Title\n\nred: \x1b[31mred\x1b[0m bell\x07\n", base_rev=0)
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_docs(pilot)
        assert "\x1b" in screen.editor.text  # the document itself is unchanged
        strips = list(app.screen._compositor.render_strips())
        drawn = "".join(segment.text for strip in strips for segment in strip)
        assert "\x1b" not in drawn and "\x07" not in drawn
        text = screen_text(app)
        assert "red: ␛[31mred␛[0m bell␇" in text  # the editor
        assert "red: ␛[31mred␛[0m bell\\x07" in text  # the preview


def test_visible_controls_keeps_the_length() -> None:
    line = "a\x1bb\x07c\u202ed\x9f"
    assert visible_controls(line) == "a␛b␇c�d�"
    assert len(visible_controls(line)) == len(line)
    assert preview_source("a\r\nb\x1b") == "a\nb␛"


async def test_R_restores_an_old_revision_as_a_new_one_at_80x24(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")  # fraud@3: revisions 1 and 2
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, DocRevisionsScreen)
        await pilot.press("R")  # the cursor is on rev 2, the current one
        await settle(pilot)
        assert isinstance(app.screen, DocRevisionsScreen)
        assert "rev 2 is the current revision: nothing to restore" in notices(app)
        await pilot.press("down", "R")  # rev 1
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Restore rev 1 as a new revision?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        doc = tui_catalog.get_doc("fraud@3")
        assert doc["rev"] == 3 and doc["text"] == tui_catalog.get_doc("fraud@3", rev=1)["text"]
        assert tui_catalog.doc_revisions("fraud@3")[0]["message"] == "restored rev 1"
        assert "restored rev 1 as rev 3" in notices(app)
        # Back in the editor, which follows the restored revision.
        assert app.screen is screen and screen.base_rev == 3 and not screen.modified
        assert screen.editor.text == doc["text"]


async def test_restoring_refuses_when_a_revision_was_saved_meanwhile(
        tui_catalog, tui_catalog_path) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_docs(pilot, "down")  # fraud@3: revisions 1 and 2
        await pilot.press("ctrl+r")
        await settle(pilot)
        with open_catalog(tui_catalog_path, actor="bea") as other:
            other.set_doc("fraud@3", THEIRS, base_rev=2)
        await pilot.press("down", "R", "y")  # rev 1, on top of rev 2 as the list knows it
        await settle(pilot)
        assert "rev 3 was saved meanwhile: nothing restored" in notices(app)
        assert tui_catalog.get_doc("fraud@3")["text"] == THEIRS
        assert [r["rev"] for r in tui_catalog.doc_revisions("fraud@3")] == [3, 2, 1]
        assert isinstance(app.screen, DocRevisionsScreen)
        assert [r["rev"] for r in app.screen.revisions] == [3, 2, 1, 0]  # the list re-read


async def test_at_80_columns_docs_open_without_a_preview_widget_until_ctrl_t(tui_catalog) -> None:
    from textual.widgets import Markdown

    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_docs(pilot, "down")
        assert "More data from Q2." in screen_text(app)
        assert not screen.query(Markdown)  # nothing parsed, mounted or laid out for it
        await pilot.press("ctrl+t", "ctrl+t", "ctrl+t")  # shown, hidden, shown: one widget
        await settle(pilot)
        assert len(screen.query(Markdown)) == 1
        assert screen_text(app).count("More data from Q2.") == 2  # editor and preview
