"""Lineage, driven by the real keys from browse: the tree, hash verification, navigation."""

from __future__ import annotations

from pathlib import Path

from mltui.tui.screens.browse import BrowseScreen
from mltui.tui.screens.lineage import LineageScreen, LineageTree, short_detail
from tests.tui.conftest import HOSTILE_RUN_NAME, make_app, screen_text, settle


def tree_lines(screen: LineageScreen) -> list[tuple[str | None, str | None, list[str]]]:
    """Every tree node as (node key, role, keys of its ancestors from the root down)."""
    out = []
    stack = [screen.tree.root]
    while stack:
        node = stack.pop()
        data = node.data or {}
        chain = []
        parent = node.parent
        while parent is not None:
            chain.append((parent.data or {}).get("key") or (parent.data or {}).get("group"))
            parent = parent.parent
        out.append((data.get("key"), data.get("role"), list(reversed(chain))))
        stack.extend(node.children)
    return out


def find_node(screen: LineageScreen, key: str, under: str | None = None):
    """The first tree node with this node key (optionally below a given ancestor key)."""
    stack = [screen.tree.root]
    while stack:
        node = stack.pop(0)
        if (node.data or {}).get("key") == key:
            chain = []
            parent = node.parent
            while parent is not None:
                chain.append((parent.data or {}).get("key"))
                parent = parent.parent
            if under is None or under in chain:
                return node
        stack.extend(node.children)
    return None


def key_of(cat, ref: str) -> str:
    return f"version:{cat.resolve(ref)}"


async def open_lineage(pilot) -> LineageScreen:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LineageScreen)
    return screen


async def test_l_opens_the_lineage_data_to_run_to_version(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lineage(pilot)  # browse's cursor is on the newest: fraud@4
        assert screen.version_id == tui_catalog.resolve("fraud@4")
        root_key = key_of(tui_catalog, "fraud@4")
        run_key = next(k for k, n in screen.nodes.items()
                       if n["kind"] == "run" and n["label"] == "run:04ababababab")
        data_key = next(k for k, n in screen.nodes.items() if n["label"] == "data:train@1")
        lines = tree_lines(screen)
        # data:train@1 → run:04… → fraud@4, in the upstream branch
        assert (data_key, "input", [root_key, "upstream", run_key]) in lines
        assert (run_key, "output", [root_key, "upstream"]) in lines
        base_key = key_of(tui_catalog, "fraud@1")
        assert (base_key, "base", [root_key, "upstream"]) in lines  # fine-tuned from fraud@1
        stage_key = "stage:staging (now)"
        assert (stage_key, "deployed", [root_key, "downstream"]) in lines
        text = screen_text(app)
        for shown in ("lineage of fraud@4", "upstream", "downstream", "run:04ababababab",
                      "data:train@1", "commit 4444444abc", "staging (now)", "fraud@1"):
            assert shown in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_v_marks_ok_then_changed_then_missing(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lineage(pilot)
        assert "✓ ▤ data:train@1" not in screen_text(app)  # nothing verified yet
        await pilot.press("v")
        await settle(pilot)
        data_key = next(k for k, n in screen.nodes.items() if n["label"] == "data:train@1")
        assert screen.status[data_key]["status"] == "ok"
        text = screen_text(app)
        assert "✓ ▤ data:train@1" in text
        assert "✓ 1 ok" in text and "✗ 0 changed" in text
        # Change the dataset file the catalog recorded (found through the node's path).
        path = Path(screen.nodes[data_key]["path"])
        assert path.name == "train.csv" and path.is_file()
        path.write_text(path.read_text() + "4,1\n")
        await pilot.press("v")
        await settle(pilot)
        assert screen.status[data_key]["status"] == "changed"
        text = screen_text(app)
        assert "✗ ▤ data:train@1" in text and "✗ 1 changed" in text
        # The core agrees with what is drawn.
        assert {r["key"]: r["status"] for r in tui_catalog.verify("fraud@4")}[data_key] == "changed"
        path.unlink()
        await pilot.press("v")
        await settle(pilot)
        assert screen.status[data_key]["status"] == "missing"
        assert "? ▤ data:train@1" in screen_text(app)


async def test_detail_pane_shows_hash_path_size_rows(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lineage(pilot)
        node = find_node(screen, next(k for k, n in screen.nodes.items()
                                      if n["label"] == "data:train@1"),
                         under=key_of(tui_catalog, "fraud@1"))
        # root, upstream, fraud@1 (base), run:01…, data:train@1
        await pilot.press("down", "down", "down", "down")
        await settle(pilot)
        assert screen.tree.cursor_node is node
        data = screen.nodes[node.data["key"]]
        text = screen_text(app)
        assert f"sha256:{data['hash'][:20]}" in text
        assert "size" in text and "rows" in text and "path" in text


async def test_enter_on_a_version_opens_its_lineage_and_escape_returns(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        first = await open_lineage(pilot)
        tree = first.tree
        assert tree.check_action("open_version", ()) is None  # the root is this version
        await pilot.press("down", "down")  # upstream → fraud@1 (base)
        await settle(pilot)
        assert tree.check_action("open_version", ()) is True
        await pilot.press("enter")
        await settle(pilot)
        second = app.screen
        assert isinstance(second, LineageScreen) and second is not first
        assert second.version_id == tui_catalog.resolve("fraud@1")
        lines = tree_lines(second)
        root_key = key_of(tui_catalog, "fraud@1")
        # downstream of fraud@1: fraud@4 was fine-tuned from it; it held no stage
        assert (key_of(tui_catalog, "fraud@4"), "base", [root_key, "downstream"]) in lines
        assert "lineage of fraud@1" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is first
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)


async def test_space_on_a_node_cut_at_depth_three_loads_the_next_levels(tui_catalog) -> None:
    # fraud@5 ← fraud@4 ← fraud@1 ← run:01… ← data:train@1: four levels up from fraud@5.
    tui_catalog.register("fraud", base="fraud@4")
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lineage(pilot)
        assert screen.version_id == tui_catalog.resolve("fraud@5")
        run_key = next(k for k, n in screen.nodes.items() if n["label"] == "run:01ababababab")
        node = find_node(screen, run_key)
        assert node is not None and node.data["cut"] and not node.children
        assert node.allow_expand and not node.is_expanded
        # root, upstream, fraud@4, fraud@1, run:01…
        await pilot.press("down", "down", "down", "down")
        await settle(pilot)
        assert screen.tree.cursor_node is node
        assert "beyond depth 3: space loads more" in screen_text(app)
        await pilot.press("space")
        await settle(pilot)
        labels = sorted(screen.nodes[c.data["key"]]["label"] for c in node.children)
        assert labels == ["commit 1111111abc", "data:train@1"]
        assert node.is_expanded and not node.data["cut"]
        assert "commit 1111111abc" in screen_text(app)
        await pilot.press("down")  # into what was loaded: data:train@1
        await settle(pilot)
        cursor_key = screen.tree.cursor_node.data["key"]
        # A reload rebuilds the tree: the expanded cut node is loaded again, the cursor kept.
        await screen.reload()
        await settle(pilot)
        node = find_node(screen, run_key)
        assert node is not None and node.is_expanded and len(node.children) == 2
        assert screen.tree.cursor_node.data["key"] == cursor_key
        assert screen.tree.cursor_node.parent is node


async def test_reload_keeps_the_cursor_and_shows_new_downstream(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lineage(pilot)
        await pilot.press(*["down"] * 10)  # the last line: staging (now)
        await settle(pilot)
        assert screen.tree.cursor_node.data["key"] == "stage:staging (now)"
        line_before = screen.tree.cursor_line
        tui_catalog.promote("fraud@4", "canary", reason="shadow")  # sorts above staging
        await screen.reload()
        await settle(pilot)
        assert "canary (now)" in screen_text(app)
        assert screen.tree.cursor_node.data["key"] == "stage:staging (now)"
        assert screen.tree.cursor_line == line_before + 1


async def test_run_name_renders_literally_in_lineage(tui_catalog) -> None:
    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "down", "tab")  # the vision model
        await settle(pilot)
        await pilot.press("end")  # vision@1: run name "[/]"
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LineageScreen)
        assert screen.version_id == tui_catalog.resolve("vision@1")
        await pilot.press("down", "down")  # upstream → the run
        await settle(pilot)
        text = screen_text(app)
        assert f"run:01cdcdcdcdcd  {HOSTILE_RUN_NAME}  output" in text  # the tree line
        assert f"name  {HOSTILE_RUN_NAME}" in text  # the detail pane


def test_long_details_are_cut_from_the_left_at_a_separator() -> None:
    assert short_detail("short") == "short"
    cut = short_detail("/very/long/path/to/some/project/data/folder/train.csv", 24)
    assert cut.startswith("…/") and cut.endswith("/train.csv") and len(cut) <= 24


def test_tree_bindings_have_ids() -> None:
    ids = {b.id for b in LineageTree.BINDINGS} | {b.id for b in LineageScreen.BINDINGS}
    assert {"lineage.open", "lineage.toggle", "lineage.verify", "lineage.back"} <= ids


async def test_enter_on_a_run_opens_its_detail_and_on_data_says_why_not(tui_catalog) -> None:
    from mltui.tui.screens.runs import RunDetailScreen

    app = make_app(tui_catalog)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_lineage(pilot)
        tree = screen.tree
        by_kind = {}
        for line in range(tree.last_line + 1):
            node = tree.get_node_at_line(line)
            graph = screen.nodes.get((node.data or {}).get("key")) if node else None
            if graph is not None:
                by_kind.setdefault(graph["kind"], (node, graph))
        tree.move_cursor(by_kind["dataset"][0])
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert any("a dataset has no screen of its own" in n.message for n in app._notifications)
        run_node, run = by_kind["run"]
        tree.move_cursor(run_node)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert run["name"] in screen_text(app) and app.screen.run_id == run["id"]
