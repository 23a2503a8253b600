"""Lineage: walk the edges from data to model and back (``verify.py`` checks the hashes).

Edges (role): dataset → run (``input``), run → version (``output``), dataset → dataset
(``derived``), version → version (``base``: fine-tuned from).  Upstream of a version is its run,
the run's datasets and what those were derived from, its code commit and its base model;
downstream is the versions built on it and the stages it holds or held.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

def node_key(kind: str, ident: Any) -> str:
    """The id of a lineage node, e.g. ``version:12``."""
    return f"{kind}:{ident}"


class LineageMixin:
    """Lineage walks (mixed into Catalog)."""

    def _node(self: "Catalog", kind: str, ident: Any) -> dict[str, Any]:
        conn = self._conn()
        if kind == "version":
            row = conn.execute(
                "SELECT mo.name, v.version, v.canonical_name, v.artifact_path, v.artifact_hash_algo,"
                " v.artifact_hash, v.base_model, v.status, v.created_at FROM model_versions v "
                "JOIN models mo ON mo.id = v.model_id WHERE v.id = ?", (ident,)).fetchone()
            stages = [r[0] for r in conn.execute("SELECT stage FROM stages WHERE version_id = ? "
                                                 "ORDER BY stage", (ident,))]
            return {"key": node_key(kind, ident), "kind": kind, "id": ident,
                    "label": f"{row[0]}@{row[1]}", "detail": row[2], "path": row[3],
                    "hash_algo": row[4], "hash": row[5], "base_model": row[6], "status": row[7],
                    "stages": stages, "at": row[8]}
        if kind == "run":
            row = conn.execute("SELECT uid, name, project, source_format, git_commit, git_branch, "
                               "git_dirty, start_time, source_path, git_commit_inferred FROM runs "
                               "WHERE id = ?", (ident,)).fetchone()
            return {"key": node_key(kind, ident), "kind": kind, "id": ident,
                    "label": f"run:{row[0][:12]}", "ref": f"run:{row[0]}",
                    "detail": row[1] or row[2] or row[3],
                    "name": row[1], "project": row[2], "format": row[3], "commit": row[4],
                    "branch": row[5], "dirty": row[6], "at": row[7], "source_path": row[8],
                    "commit_inferred": bool(row[9])}
        if kind == "dataset":
            row = conn.execute("SELECT name, version, hash_algo, hash, uri_raw, path, size, "
                               "row_count FROM dataset_versions WHERE id = ?", (ident,)).fetchone()
            return {"key": node_key(kind, ident), "kind": kind, "id": ident,
                    "label": f"data:{row[0]}@{row[1]}", "detail": row[4], "hash_algo": row[2],
                    "hash": row[3], "path": row[5], "size": row[6], "rows": row[7]}
        if kind == "commit":
            return {"key": node_key(kind, ident), "kind": kind, "id": ident,
                    "label": f"commit {str(ident)[:10]}", "detail": None}
        if kind == "stage":
            return {"key": node_key(kind, ident), "kind": kind, "id": ident, "label": str(ident),
                    "detail": None}
        raise InvalidInput(f"unknown lineage node kind {kind!r}")

    def _parents(self: "Catalog", kind: str, ident: Any) -> list[tuple[str, Any, str]]:
        if kind in ("commit", "stage"):
            return []
        conn = self._conn()
        out = [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT src_kind, src_id, role FROM lineage WHERE dst_kind = ? AND dst_id = ? "
            "ORDER BY role, src_kind, src_id", (kind, ident))]
        if kind == "run":
            commit = conn.execute("SELECT git_commit, git_commit_inferred FROM runs WHERE id = ?",
                                  (ident,)).fetchone()
            if commit and commit[0]:
                # An inferred commit is a guess (services/git.py): the edge says so.
                out.append(("commit", commit[0], "code (inferred)" if commit[1] else "code"))
        return out

    def _children(self: "Catalog", kind: str, ident: Any) -> list[tuple[str, Any, str]]:
        if kind in ("commit", "stage"):
            return []
        conn = self._conn()
        out = [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT dst_kind, dst_id, role FROM lineage WHERE src_kind = ? AND src_id = ? "
            "ORDER BY role, dst_kind, dst_id", (kind, ident))]
        if kind == "version":
            now = {r[0] for r in conn.execute("SELECT stage FROM stages WHERE version_id = ?", (ident,))}
            before = {r[0] for r in conn.execute(
                "SELECT DISTINCT stage FROM stage_history WHERE to_version_id = ?", (ident,))} - now
            out += [("stage", f"{s} (now)", "deployed") for s in sorted(now)]
            out += [("stage", f"{s} (before)", "deployed") for s in sorted(before)]
        return out

    def lineage(self: "Catalog", ref: str | int, *, depth: int = 3) -> dict[str, Any]:
        """Upstream and downstream of a version (or ``run:``/``data:`` reference) as a graph.

        Returns ``{"root": key, "nodes": {key: node}, "edges": [{src, dst, role}],
        "upstream": tree, "downstream": tree}``; trees are nested ``{"key", "role",
        "children"}`` dicts cut at ``depth`` levels each way.
        """
        if depth < 1:
            raise InvalidInput("lineage depth must be at least 1")
        text = str(ref)
        if text.startswith("run:"):
            root = ("run", self.resolve_run(text))
        elif text.startswith("data:"):
            root = ("dataset", self.resolve_dataset(text))
        else:
            root = ("version", self.resolve(ref))
        nodes: dict[str, dict[str, Any]] = {}
        edges: dict[tuple[str, str, str], dict[str, str]] = {}

        def visit(kind: str, ident: Any) -> str:
            key = node_key(kind, ident)
            if key not in nodes:
                nodes[key] = self._node(kind, ident)
            return key

        def walk(kind: str, ident: Any, level: int, up: bool, seen: frozenset) -> list[dict]:
            if level >= depth:
                return []
            branches = []
            for nkind, nident, role in (self._parents if up else self._children)(kind, ident):
                key = visit(nkind, nident)
                here = node_key(kind, ident)
                edge = (key, here, role) if up else (here, key, role)
                edges[edge] = {"src": edge[0], "dst": edge[1], "role": role}
                children = [] if key in seen else walk(nkind, nident, level + 1, up, seen | {key})
                branches.append({"key": key, "role": role, "children": children})
            return branches

        root_key = visit(*root)
        upstream = walk(*root, 0, True, frozenset({root_key}))
        downstream = walk(*root, 0, False, frozenset({root_key}))
        return {"root": root_key, "nodes": nodes, "edges": list(edges.values()),
                "upstream": upstream, "downstream": downstream}

# Control characters (C0, C1, bidi overrides): never written raw into a diagram, which may be
# printed to a terminal.
_CONTROL = "\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
# In a Mermaid label these also end the label or open HTML; all become entity codes (#35;).
# Patterns, not compiled regexes: ``re`` compiles each at its first diagram and caches it (the
# lineage module loads with the Catalog class at every start; these two were ~0.5 ms of it).
_MERMAID_UNSAFE = f'[{_CONTROL}"#<>&|\\[\\]{{}}`]'
_DOT_CONTROL = f"[{_CONTROL}]"


def _mermaid_text(text: Any) -> str:
    return re.sub(_MERMAID_UNSAFE, lambda m: f"#{ord(m.group())};", str(text))


def to_mermaid(graph: dict[str, Any]) -> str:
    """The lineage graph as a Mermaid flowchart (left to right: data → model).

    User text is written with Mermaid's entity codes for control characters, quotes, brackets
    and HTML, so a name can neither end its label nor reach a terminal as an escape sequence.
    """
    ids = {key: f"n{index}" for index, key in enumerate(graph["nodes"])}
    lines = ["flowchart LR"]
    for key, node in graph["nodes"].items():
        label = _mermaid_text(node["label"])
        if node.get("detail"):
            label += "<br/>" + _mermaid_text(node["detail"])
        lines.append(f'    {ids[key]}["{label}"]')
    for edge in graph["edges"]:
        lines.append(f"    {ids[edge['src']]} -->|{_mermaid_text(edge['role'])}| "
                     f"{ids[edge['dst']]}")
    return "\n".join(lines) + "\n"


def to_dot(graph: dict[str, Any]) -> str:
    """The lineage graph in Graphviz DOT."""
    def quote(text: str) -> str:
        # Backslash, quote and newline per DOT's rules; other control characters as U+XXXX.
        text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + re.sub(_DOT_CONTROL, lambda m: f"U+{ord(m.group()):04X}", text) + '"'

    shapes = {"dataset": "cylinder", "run": "box", "version": "component", "commit": "note",
              "stage": "ellipse"}
    lines = ["digraph lineage {", "  rankdir=LR;"]
    for key, node in graph["nodes"].items():
        label = node["label"] + (f"\n{node['detail']}" if node.get("detail") else "")
        lines.append(f"  {quote(key)} [label={quote(label)}, shape={shapes.get(node['kind'], 'box')}];")
    for edge in graph["edges"]:
        lines.append(f"  {quote(edge['src'])} -> {quote(edge['dst'])} [label={quote(edge['role'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: dict[str, Any]) -> str:
    """The lineage graph as JSON."""
    return json.dumps(graph, indent=2, sort_keys=True, default=str)
