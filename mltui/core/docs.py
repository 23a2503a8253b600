"""Documentation of models and versions: revisions, templates, diffs, conflict-safe saves.

Every save is a new revision (rev 1, 2, …); nothing is overwritten.  A save names the revision
it was based on; when another save landed meanwhile it is refused with :class:`Conflict`, which
carries the other text so the user loses neither.
"""

from __future__ import annotations

import difflib
import sqlite3
from typing import TYPE_CHECKING, Any

from . import audit
from .errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

VERSION_TEMPLATE = """# {title}

## Rationale
Why this version exists.

## Changes
What changed since the previous version (data, code, parameters).

## Impact
Effect on metrics, against the version in production.

## Data
Datasets and versions used for training and evaluation.

## Intended use
Where this model may be used.

## Limitations
Known failure modes, biases and where it must not be used.
"""

MODEL_TEMPLATE = """# {title}

## Purpose
What this model does and for whom.

## Owners
Who to ask.

## Intended use
Where this model may be used.

## Limitations
Known failure modes, biases and where it must not be used.
"""

MAX_DOC_BYTES = 1_000_000


class DocsMixin:
    """Documentation revisions (mixed into Catalog)."""

    def _doc_target(self: "Catalog", ref: str | int, kind: str) -> tuple[int, str]:
        if kind == "version":
            vid = self.resolve(ref)
            return vid, self.ref_of(vid)
        if kind == "model":
            name = str(ref)
            return self.model_id(name), name
        raise InvalidInput(f"documentation belongs to a version or a model, not {kind!r}")

    def get_doc(self: "Catalog", ref: str | int, *, kind: str = "version", rev: int | None = None
                ) -> dict[str, Any]:
        """The latest (or a given) revision; with no revision yet, the template as rev 0."""
        target_id, label = self._doc_target(ref, kind)
        if rev is None:
            row = self._conn().execute(
                "SELECT rev, text, author, at, message FROM doc_revisions WHERE target_kind = ? "
                "AND target_id = ? ORDER BY rev DESC LIMIT 1", (kind, target_id)).fetchone()
        else:
            row = self._conn().execute(
                "SELECT rev, text, author, at, message FROM doc_revisions WHERE target_kind = ? "
                "AND target_id = ? AND rev = ?", (kind, target_id, rev)).fetchone()
            if row is None and rev != 0:
                raise NotFound(f"{label} has no documentation revision {rev}")
        if row is None:
            return {"target": label, "kind": kind, "rev": 0, "text": self.doc_template(ref, kind=kind),
                    "author": None, "at": None, "message": None, "is_template": True}
        return {"target": label, "kind": kind, "rev": row[0], "text": row[1], "author": row[2],
                "at": row[3], "message": row[4], "is_template": False}

    def doc_template(self: "Catalog", ref: str | int, *, kind: str = "version") -> str:
        """The starting text of a new document."""
        if kind == "model":
            return MODEL_TEMPLATE.format(title=str(ref))
        vid = self.resolve(ref)
        row = self.versions([vid])[0]
        return VERSION_TEMPLATE.format(title=f"{row['model']} v{row['version']} "
                                             f"({row['canonical_name']})")

    def set_doc(self: "Catalog", ref: str | int, text: str, *, base_rev: int | None,
                kind: str = "version", author: str | None = None, message: str | None = None
                ) -> dict[str, Any]:
        """Save a new revision; ``base_rev`` is the revision the text was edited from.

        ``base_rev=None`` saves unconditionally (the CLI's ``--set``); otherwise a revision
        saved meanwhile raises Conflict with the current text.  Saving unchanged text writes
        nothing (``changed`` False).
        """
        if not isinstance(text, str):
            raise InvalidInput("documentation must be text")
        if len(text.encode("utf-8", "surrogatepass")) > MAX_DOC_BYTES:
            raise InvalidInput(f"documentation is larger than {MAX_DOC_BYTES:,} bytes")
        target_id, label = self._doc_target(ref, kind)
        with self._write() as conn:
            current = conn.execute(
                "SELECT rev, text FROM doc_revisions WHERE target_kind = ? AND target_id = ? "
                "ORDER BY rev DESC LIMIT 1", (kind, target_id)).fetchone()
            current_rev = current[0] if current else 0
            if base_rev is not None and base_rev != current_rev:
                raise Conflict(
                    f"the documentation of {label} changed since you opened it (you edited "
                    f"revision {base_rev}, it is now at revision {current_rev}); nothing was saved",
                    hint="your text is kept: merge it with the new revision and save again",
                    current_rev=current_rev, current_text=current[1] if current else None)
            if current and current[1] == text:
                return {"target": label, "rev": current_rev, "changed": False}
            rev = self._save_doc(conn, kind, target_id, text, author=author or self.actor,
                                 message=message)
            if kind == "version":  # a synced version's description follows, or nothing saves
                self._sync_doc(conn, target_id, text)
        return {"target": label, "rev": rev, "changed": True}

    def _save_doc(self: "Catalog", conn: sqlite3.Connection, kind: str, target_id: int, text: str,
                  *, author: str, message: str | None = None) -> int:
        rev = conn.execute("SELECT COALESCE(MAX(rev), 0) + 1 FROM doc_revisions WHERE "
                           "target_kind = ? AND target_id = ?", (kind, target_id)).fetchone()[0]
        who, when, note = self._provenance(author)
        audit.append(conn, "doc_revisions", {
            "target_kind": kind, "target_id": target_id, "rev": rev, "text": text,
            "author": who, "at": when, "message": message, "override": note})
        if kind == "version":
            self._index_version(conn, target_id)
            label = self.ref_of(target_id)
        else:
            label = conn.execute("SELECT name FROM models WHERE id = ?", (target_id,)).fetchone()[0]
        self._event(conn, "doc", kind, target_id, label, after={"rev": rev, "chars": len(text)},
                    detail=message, actor=author)
        return rev

    def doc_revisions(self: "Catalog", ref: str | int, *, kind: str = "version"
                      ) -> list[dict[str, Any]]:
        """Every revision of a document, newest first (without the text)."""
        target_id, _ = self._doc_target(ref, kind)
        return self._read("SELECT rev, author, at, message, length(text) AS chars FROM doc_revisions"
                          " WHERE target_kind = ? AND target_id = ? ORDER BY rev DESC",
                          (kind, target_id))

    def doc_diff(self: "Catalog", ref: str | int, rev_a: int, rev_b: int, *,
                 kind: str = "version") -> str:
        """A unified diff between two revisions (rev 0 is the template)."""
        a = self.get_doc(ref, kind=kind, rev=rev_a)
        b = self.get_doc(ref, kind=kind, rev=rev_b)
        lines = difflib.unified_diff(a["text"].splitlines(keepends=True),
                                     b["text"].splitlines(keepends=True),
                                     fromfile=f"rev {rev_a}", tofile=f"rev {rev_b}")
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
