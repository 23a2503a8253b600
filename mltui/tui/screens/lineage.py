"""Lineage of one version: where it came from and what was built on it, as a tree.

Upstream: the run that produced it → the datasets the run read → what those were derived
from; the run's code commit; the base model it was fine-tuned from.  Downstream: the versions
fine-tuned from it and the stages it holds now or held before.  The catalog walks three levels
each way in one call; a node cut at that depth is loaded when it is expanded.  ``v`` recomputes
every recorded hash from the files on disk and marks each dataset and artifact.

Every label is literal Text: run names, paths and refs are user data.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from ...display import fmt_time, safe
from ..widgets.keybar import KeyBar
from ..base import CatalogScreen
from ..widgets.text import stage_badges

DEPTH = 3
NARROW = 100  # below this width the detail pane goes under the tree

KINDS = {  # kind → (glyph, style): a glyph per kind keeps the labels short at 80 columns
    "version": ("◆", "bold cyan"),
    "run": ("○", "bold magenta"),  # not ▶: that is the tree's own "collapsed" arrow
    "dataset": ("▤", "bold blue"),
    "commit": ("#", "bold yellow"),
    "stage": ("▲", "bold green"),
}
MARKS = {  # verify status → (mark, style)
    "ok": ("✓", "bold green"),
    "changed": ("✗", "bold red"),
    "missing": ("?", "bold yellow"),
    "unverifiable": ("–", "dim"),
}
VERIFIABLE_KINDS = ("dataset", "version")
EXPANDABLE_KINDS = ("version", "run", "dataset")  # commits and stages have no edges of their own


def node_ref(node: dict[str, Any]) -> str | int:
    """The reference ``catalog.lineage`` takes for a node: version id, ``run:…``, ``data:…``."""
    if node["kind"] == "version":
        return int(node["id"])
    return str(node.get("ref") or node["label"])  # run:<full uid>, data:<name>@<version>


def fmt_size(size: int | None) -> str:
    """Bytes as ``12.3 MB``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def node_label(node: dict[str, Any], role: str | None, status: dict[str, Any] | None = None
               ) -> Text:
    """One tree line: verify mark, kind glyph, ref, detail (dim), role (dim italic)."""
    text = Text(no_wrap=True)
    if node["kind"] in VERIFIABLE_KINDS and status is not None:
        mark, style = MARKS.get(status["status"], ("–", "dim"))
        text.append(f"{mark} ", style=style)
    glyph, style = KINDS.get(node["kind"], ("·", ""))
    text.append(f"{glyph} ", style=style)
    text.append(safe(node["label"]), style="bold")
    if node["kind"] == "version" and node.get("stages"):
        text.append(" ")
        text.append_text(stage_badges(node["stages"]))
    detail = node.get("detail")
    if detail:
        text.append("  ")
        text.append(short_detail(safe(detail)), style="dim")
    if role:
        text.append("  ")
        text.append(safe(role), style="dim italic")
    return text


def short_detail(value: str, width: int = 36) -> str:
    """A long detail (usually a path) cut from the left at a separator: ``…/data/train.csv``.

    The full value is in the detail pane; the tree stays readable at 80 columns.
    """
    if len(value) <= width:
        return value
    tail = value[-(width - 1):]
    cut = tail.find("/")
    if 0 <= cut < len(tail) - 1:
        tail = tail[cut:]
    return "…" + tail


def kv_table(pairs: list[tuple[str, Any]]) -> Table:
    """``key  value`` rows, keys dimmed; long values (hashes, paths) fold onto the next line."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in pairs:
        if not isinstance(value, Text):
            value = Text("—" if value in (None, "") else safe(value))
        table.add_row(Text(key), value)
    return table


def node_detail(node: dict[str, Any] | None, role: str | None,
                status: dict[str, Any] | None, *, cut: bool = False) -> Table | Text:
    """The detail pane for a node: hash algorithm and hash, path, size, rows, verify result."""
    if node is None:
        return Text("select a node", style="dim")
    pairs: list[tuple[str, Any]] = [("node", Text.assemble((safe(node["label"]), "bold"),
                                                           ("  " + node["kind"], "dim")))]
    if role:
        pairs.append(("role", role))
    kind = node["kind"]
    if kind == "dataset":
        pairs += [("hash", _hash(node)), ("path", node.get("path")),
                  ("uri", node.get("detail")), ("size", fmt_size(node.get("size"))),
                  ("rows", None if node.get("rows") is None else f"{node['rows']:,}")]
    elif kind == "version":
        pairs += [("name", node.get("detail")), ("status", node.get("status")),
                  ("stages", ", ".join(node.get("stages") or []) or None),
                  ("artifact", node.get("path")), ("hash", _hash(node)),
                  ("base", node.get("base_model")), ("created", fmt_time(node.get("at")))]
    elif kind == "run":
        commit = node.get("commit")
        if commit and node.get("branch"):
            commit = f"{commit} ({node['branch']}{', dirty' if node.get('dirty') else ''})"
        if commit and node.get("commit_inferred"):
            commit = f"{commit} inferred"
        pairs += [("name", node.get("name")), ("project", node.get("project")),
                  ("format", node.get("format")), ("commit", commit),
                  ("started", fmt_time(node.get("at"))), ("source", node.get("source_path"))]
    elif kind == "commit":
        pairs.append(("commit", node.get("id")))
    if status is not None:
        mark, style = MARKS.get(status["status"], ("–", "dim"))
        pairs.append(("verified", Text.assemble((f"{mark} {status['status']}", style), "  ",
                                                (safe(status.get("detail") or ""), "dim"))))
    if cut:
        pairs.append(("more", Text(f"beyond depth {DEPTH}: space loads more",
                                   style="dim italic")))
    return kv_table(pairs)


def _hash(node: dict[str, Any]) -> str | None:
    if not node.get("hash"):
        return None
    return f"{node.get('hash_algo') or '?'}:{node['hash']}"


def verify_summary(results: list[dict[str, Any]]) -> Text:
    """``hashes: 3 ok · 1 changed · 0 missing · 1 unverifiable`` with the counts coloured."""
    counts = {name: 0 for name in MARKS}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    text = Text("hashes on disk: ", style="dim")
    for index, (name, (mark, style)) in enumerate(MARKS.items()):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{mark} {counts.get(name, 0)} {name}",
                    style=style if counts.get(name) else "dim")
    return text


class LineageTree(Tree[dict]):
    """The lineage tree; ``enter`` opens the node (a version's lineage, a run's detail),
    ``space`` expands."""

    BINDINGS = [
        Binding("enter", "open_version", "Open", id="lineage.open"),
        Binding("space", "toggle_node", "Expand", id="lineage.toggle"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``enter`` applies on any node but the version shown: it opens it, or says why not."""
        if action == "open_version":
            screen: Any = self.screen
            node = screen.cursor_graph_node()
            shown = node is not None and node["kind"] == "version" and \
                node["id"] == screen.version_id
            return True if node is not None and not shown else None
        return True

    def action_open_version(self) -> None:
        """``enter``: open the lineage of the version under the cursor."""
        self.screen.open_version()  # type: ignore[attr-defined]


class LineageScreen(CatalogScreen):
    """Upstream and downstream of one version, expandable, with hashes verified on ``v``."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="lineage.back"),
        Binding("v", "verify", "Verify hashes", id="lineage.verify"),
    ]

    DEFAULT_CSS = """
    LineageScreen #lineage-summary { height: 1; padding: 0 1; }
    LineageScreen #lineage-body { layout: horizontal; height: 1fr; }
    LineageScreen #lineage-tree {
        width: 1fr; height: 1fr; padding: 0 1; scrollbar-size-horizontal: 1;
    }
    LineageScreen #lineage-detail {
        width: 46; height: 1fr; padding: 0 1; border-left: vkey $foreground 20%;
    }
    LineageScreen.narrow #lineage-body { layout: vertical; }
    LineageScreen.narrow #lineage-detail {
        width: 1fr; height: 7; border-left: none; border-top: hkey $foreground 20%;
    }
    """

    def __init__(self, version_id: int):
        super().__init__()
        self.version_id = version_id
        self.nodes: dict[str, dict[str, Any]] = {}
        self.root_key: str | None = None
        self.status: dict[str, dict[str, Any]] = {}  # node key → verify result
        self.verified: list[dict[str, Any]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("lineage …", style="dim"), id="lineage-title", classes="screen-title")
        yield Static(Text("v: verify every hash against the files on disk", style="dim"),
                     id="lineage-summary")
        with Container(id="lineage-body"):
            yield LineageTree(Text("…", style="dim"), id="lineage-tree")
            with VerticalScroll(id="lineage-detail"):
                yield Static(Text("…", style="dim"), id="lineage-node")
        yield KeyBar()

    @property
    def tree(self) -> LineageTree:
        """The lineage tree widget."""
        return self.query_one("#lineage-tree", LineageTree)

    def on_mount(self) -> None:
        self.tree.auto_expand = False  # enter opens versions; space expands
        self.tree.focus()
        self.set_class(self.size.width < NARROW, "narrow")
        self.load()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "narrow")

    async def reload(self) -> None:
        """The catalog changed: rebuild the tree, keeping what is expanded and the cursor."""
        self.load(keep=True)

    # -- loading -----------------------------------------------------------------------------

    @work(exclusive=True, group="lineage", exit_on_error=False)
    async def load(self, keep: bool = False) -> None:
        """Read the lineage (three levels each way) and build the tree; ``keep`` keeps the view."""
        graph = await self.db(self.catalog.lineage, self.version_id, depth=DEPTH)
        tree = self.tree
        restore = (self._expanded_paths(tree.root), self._path(tree.cursor_node)) if keep else None
        self.nodes = dict(graph["nodes"])
        self.root_key = graph["root"]
        root = self.nodes[self.root_key]
        self.query_one("#lineage-title", Static).update(Text.assemble(
            ("lineage of ", "dim"), (safe(root["label"]), "bold"), "  ",
            (safe(root.get("detail") or ""), "dim")))
        tree.clear()
        tree.root.set_label(self._label(root, None))
        tree.root.data = {"key": self.root_key, "role": None, "dir": None}
        tree.root.expand()
        for direction, title in (("up", "upstream"), ("down", "downstream")):
            branch = tree.root.add(Text.assemble(
                (title, "bold"),
                ("  where it came from" if direction == "up" else "  what was built on it",
                 "dim")), data={"key": None, "role": None, "dir": direction, "group": title},
                expand=True)
            items = graph["upstream" if direction == "up" else "downstream"]
            if items:
                self._add_branches(branch, items, direction, level=1)
            else:
                branch.add_leaf(Text("nothing recorded", style="dim italic"),
                                data={"key": None, "role": None, "dir": direction})
        if restore is not None:
            self._apply_restore(tree.root, restore)
        self.call_after_refresh(self._show_detail)

    def _add_branches(self, parent: TreeNode, items: list[dict[str, Any]], direction: str,
                      level: int) -> None:
        for item in items:
            node = self.nodes[item["key"]]
            children = item["children"]
            # A node at the depth limit may have more behind it: load that on expand.
            cut = not children and level >= DEPTH and node["kind"] in EXPANDABLE_KINDS
            data = {"key": item["key"], "role": item["role"], "dir": direction, "cut": cut}
            label = self._label(node, item["role"])
            if children:
                child = parent.add(label, data=data, expand=True)
                self._add_branches(child, children, direction, level + 1)
            elif cut:
                parent.add(label, data=data, expand=False)
            else:
                parent.add_leaf(label, data=data)

    def _label(self, node: dict[str, Any], role: str | None) -> Text:
        return node_label(node, role, self.status.get(node["key"]))

    @on(Tree.NodeExpanded, "#lineage-tree")
    def node_expanded(self, event: Tree.NodeExpanded) -> None:
        """Expanding a node cut at the depth limit loads what lies beyond it."""
        data = event.node.data or {}
        if data.get("cut") and not data.get("loaded"):
            data["loaded"] = True
            self.load_more(event.node)

    @work(group="more", exit_on_error=False)
    async def load_more(self, tree_node: TreeNode) -> None:
        """Walk on from a node cut at the depth limit (another lineage call from it)."""
        data = tree_node.data or {}
        node = self.nodes[data["key"]]
        try:
            graph = await self.db(self.catalog.lineage, node_ref(node), depth=DEPTH)
        except Exception as exc:  # noqa: BLE001
            data["loaded"] = False
            self.report_error(exc)
            return
        for key, value in graph["nodes"].items():
            self.nodes.setdefault(key, value)
        items = graph["upstream" if data["dir"] == "up" else "downstream"]
        data["cut"] = False
        tree_node.set_label(self._label(node, data["role"]))
        if not items:
            tree_node.allow_expand = False
            return
        self._add_branches(tree_node, items, data["dir"], level=1)
        tree_node.expand()
        restore = data.pop("restore", None)  # set when a reload re-expanded this node
        if restore is not None:
            self._apply_restore(tree_node, restore)

    # -- keeping the view across reloads ----------------------------------------------------------

    @staticmethod
    def _path(node: TreeNode | None) -> tuple | None:
        """A node's identity that survives a rebuild: the chain of (direction, key, role)."""
        if node is None:
            return None
        parts = []
        while node is not None:
            data = node.data or {}
            parts.append((data.get("dir"), data.get("key"), data.get("role"), data.get("group")))
            node = node.parent
        return tuple(reversed(parts))

    def _expanded_paths(self, root: TreeNode) -> set[tuple]:
        paths: set[tuple] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if node.is_expanded:
                paths.add(self._path(node))  # type: ignore[arg-type]
            stack.extend(node.children)
        return paths

    def _apply_restore(self, start: TreeNode, restore: tuple[set[tuple], tuple | None]) -> None:
        """Expand what was expanded before a rebuild and put the cursor back.

        A node cut at the depth limit that was expanded is expanded again, which loads its
        children; the same restore is applied to them when they arrive.
        """
        expanded, cursor = restore
        stack = [start]
        while stack:
            node = stack.pop()
            path = self._path(node)
            if node.allow_expand:
                if path in expanded and not node.is_expanded:
                    if (node.data or {}).get("cut"):
                        node.data["restore"] = restore
                    node.expand()
                elif path not in expanded and node.is_expanded:
                    node.collapse()
            if path == cursor:
                self.call_after_refresh(self.tree.move_cursor, node)
            stack.extend(node.children)

    # -- detail pane ----------------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#lineage-tree")
    def node_highlighted(self) -> None:
        """The detail pane and the ``enter`` binding follow the cursor."""
        self._show_detail()
        self.refresh_bindings()

    def _show_detail(self) -> None:
        if not self.is_mounted:
            return
        tree_node = self.tree.cursor_node
        data = (tree_node.data if tree_node is not None else None) or {}
        body = self.query_one("#lineage-node", Static)
        if data.get("group"):
            body.update(Text(("Upstream: the run that produced this version, the data it read "
                              "and where that came from, the code, the base model.")
                             if data["dir"] == "up" else
                             ("Downstream: versions fine-tuned from this one and the stages it "
                              "holds now or held before."), style="dim"))
            return
        node = self.nodes.get(data.get("key")) if data.get("key") else None
        body.update(node_detail(node, data.get("role"), self.status.get(data.get("key") or ""),
                                cut=bool(data.get("cut"))))

    # -- actions --------------------------------------------------------------------------------

    def cursor_graph_node(self) -> dict[str, Any] | None:
        """The lineage node under the tree's cursor (None on a heading or before loading)."""
        if not self.is_mounted:
            return None
        tree_node = self.tree.cursor_node
        key = (tree_node.data or {}).get("key") if tree_node is not None else None
        return self.nodes.get(key) if key else None

    def version_to_open(self) -> int | None:
        """The version under the cursor, when it is not the one this screen shows."""
        node = self.cursor_graph_node()
        if node is None or node["kind"] != "version" or node["id"] == self.version_id:
            return None
        return int(node["id"])

    def open_version(self) -> None:
        """``enter``: a version's own lineage, a run's detail (esc comes back here); on a
        dataset or a commit, a line that says where its facts are."""
        version_id = self.version_to_open()
        if version_id is not None:
            self.app.push_screen(LineageScreen(version_id))
            return
        node = self.cursor_graph_node()
        if node is None:
            return
        if node["kind"] == "run":
            from .runs import RunDetailScreen

            self.app.push_screen(RunDetailScreen(int(node["id"])))
            return
        why = {
            "version": "this is the version shown here",
            "dataset": "a dataset has no screen of its own: its hash, path, size and rows are "
                       "in the pane on the right (v verifies it)",
            "commit": "code is not stored in the catalog: check the commit out with git",
        }.get(node["kind"], "nothing more to open here")
        self.app.notify(f"{safe(node['label'])}: {why}", markup=False)

    def action_back(self) -> None:
        """``escape``: back to the screen below."""
        self.app.pop_screen()

    def action_verify(self) -> None:
        """``v``: recompute every hash from the files on disk."""
        self.query_one("#lineage-summary", Static).update(Text("verifying hashes…", style="dim"))
        self.verify()

    @work(exclusive=True, group="verify", exit_on_error=False)
    async def verify(self) -> None:
        """Verify this version's lineage in a worker and mark each dataset and artifact."""
        try:
            results = await self.db(self.catalog.verify, self.version_id)
        except Exception as exc:  # noqa: BLE001
            self.report_error(exc)
            self.query_one("#lineage-summary", Static).update(Text("not verified", style="dim"))
            return
        self.verified = results
        self.status = {result["key"]: result for result in results}
        self._relabel(self.tree.root)
        self.query_one("#lineage-summary", Static).update(verify_summary(results))
        self._show_detail()

    def _relabel(self, root: TreeNode) -> None:
        stack = [root]
        while stack:
            tree_node = stack.pop()
            data = tree_node.data or {}
            node = self.nodes.get(data.get("key")) if data.get("key") else None
            if node is not None:
                tree_node.set_label(self._label(node, data.get("role")))
            stack.extend(tree_node.children)
