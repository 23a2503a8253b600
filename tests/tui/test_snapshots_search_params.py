"""SVG snapshots of what issue 9's last items added: search inside Help, the detail view, docs
and doc revisions; the docs save-message prompt; param columns in Browse and the chooser."""

from __future__ import annotations

import pytest

from tests.tui.conftest import make_app
from tests.tui.test_snapshots_lineage_docs_history import keys

TWO = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
THREE = TWO + [pytest.param((60, 20), id="60x20")]
PARAM_COLUMNS = "columns:\n  fraud:\n    metrics: [f1, loss]\n    params: [optimizer]\n"


@pytest.mark.parametrize("size", TWO)
def test_help_search(snap_compare, tui_catalog, size) -> None:
    """``?`` then ``/copy``: both matches highlighted, the first one current."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("question_mark", "slash", *"copy"))


@pytest.mark.parametrize("size", TWO)
def test_detail_search(snap_compare, tui_catalog, size) -> None:
    """fraud@4's detail, ``/ana`` then enter and ``n``: match 2 of them current."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("enter", "slash", *"ana", "enter", "n"))


@pytest.mark.parametrize("size", THREE)
def test_docs_search(snap_compare, tui_catalog, size) -> None:
    """fraud@3's docs, ``ctrl+f data``: the match selected in the editor."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("down", "e", "ctrl+f", *"data"))


@pytest.mark.parametrize("size", THREE)
def test_docs_save_message(snap_compare, tui_catalog, size) -> None:
    """``ctrl+n``: the optional message prompt over the editor."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("down", "e", *"Reviewed. ", "ctrl+n", *"after review"))


@pytest.mark.parametrize("size", THREE)
def test_doc_revisions_search(snap_compare, tui_catalog, size) -> None:
    """Rev 1 → rev 2 diff, ``/q2``: the match highlighted in the diff."""
    assert snap_compare(make_app(tui_catalog), terminal_size=size,
                        run_before=keys("down", "e", "ctrl+r", "space", "down", "space",
                                        "slash", *"q2"))


@pytest.mark.parametrize("size", TWO)
def test_browse_param_column(snap_compare, tui_catalog, tui_catalog_path, size) -> None:
    """fraud with metrics f1, loss and the param optimizer chosen as columns."""
    (tui_catalog_path.parent / "config.yaml").write_text(PARAM_COLUMNS)
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", TWO)
def test_column_picker_with_params(snap_compare, tui_catalog, tui_catalog_path, size) -> None:
    """``C``: the chosen metrics and param first, then the others (``params.`` dimmed)."""
    (tui_catalog_path.parent / "config.yaml").write_text(PARAM_COLUMNS)
    assert snap_compare(make_app(tui_catalog), terminal_size=size, run_before=keys("C"))
