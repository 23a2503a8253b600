"""Unsaved documentation kept on disk, so a crash of the app (or a lost SSH session) loses
nothing typed: ``<catalog folder>/drafts/<key>.json``, written on every edit, removed on save
or an explicit discard, and offered back the next time that document is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def draft_path(catalog_path: Path, kind: str, target: str) -> Path | None:
    """Where the draft of one document lives; None for a catalog with no folder (in memory)."""
    if str(catalog_path) in ("", ":memory:"):
        return None
    # The name is a hash: targets are user text and may hold anything a file name cannot.
    key = hashlib.sha256(f"{kind}\0{target}".encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return Path(catalog_path).parent / "drafts" / f"{key}.json"


def write_draft(path: Path, *, kind: str, target: str, base_rev: int | None, text: str,
                at: float) -> None:
    """Write the draft atomically (a crash mid-write leaves the previous draft whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"kind": kind, "target": target, "base_rev": base_rev,
                               "text": text, "at": at}), encoding="utf-8")
    os.replace(tmp, path)


def read_draft(path: Path | None) -> dict[str, Any] | None:
    """The draft at ``path``, or None when there is none or it cannot be read."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    return data


def remove_draft(path: Path | None) -> None:
    """Forget the draft (saved, or discarded by the user)."""
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
