"""Verification: recompute the recorded hash of every dataset and artifact on disk (and, for
the whole catalog, compare each model's stored version count with a fresh count).

A trust-core module (mutation-tested, docs/testing.md): ``verify`` is how a user learns that a
model file or a dataset changed after it was recorded.  The hashes themselves are computed by
``hashing.py``; which nodes a reference covers comes from the lineage walk (``lineage.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .schema import LIVE_VERSION_COUNTS

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

VERIFIABLE = {"sha256", "sha256-dir", "sha256-lfs", "md5", "md5-dos2unix"}
# Module level, so mutmut makes no letter-case mutants of them (SQLite ignores keyword case).
DATASET_IDS = "SELECT id FROM dataset_versions ORDER BY name, version"
HASHED_VERSION_IDS = "SELECT id FROM model_versions WHERE artifact_hash IS NOT NULL ORDER BY id"


def file_digest(path: Path, algo: str) -> str:
    """Recompute a stored hash of a file or folder with the algorithm it was made with."""
    from .hashing import hash_path, lfs_pointer, sha256_file  # loads at the first verify

    if algo == "sha256-dir":
        return hash_path(path)[1]
    if algo in ("sha256", "sha256-lfs"):
        # An LFS oid is the sha256 of the real content; a still-pointer file carries the oid.
        if algo == "sha256-lfs":
            pointer = lfs_pointer(path)
            if pointer:
                return pointer[0]
        return sha256_file(path)
    import hashlib  # md5 (DVC's hashes) at the first verify: not at start

    digest = hashlib.md5()  # noqa: S324 - DVC's content hash, not a security use
    data = path.read_bytes()
    if algo == "md5-dos2unix" and b"\x00" not in data[:8000]:
        data = data.replace(b"\r\n", b"\n")  # DVC 2.x normalised text files before hashing
    digest.update(data)
    return digest.hexdigest()


class VerifyMixin:
    """Recomputing recorded hashes: ``verify`` (mixed into Catalog)."""

    def verify(self: "Catalog", ref: str | int | None = None) -> list[dict[str, Any]]:
        """Recompute the hash of every dataset version and artifact on disk.

        With a reference, only that version's lineage; without, the whole catalog, and then
        any model whose stored version count has drifted is a ``changed`` item.  Each item
        says ``ok``, ``changed``, ``missing`` (no file at the recorded path) or
        ``unverifiable`` (no local path, or a hash only the source tool can recompute).
        """
        if ref is None:
            conn = self._conn()
            items = [self._node("dataset", r[0]) for r in conn.execute(DATASET_IDS)]
            items += [self._node("version", r[0]) for r in conn.execute(HASHED_VERSION_IDS)]
        else:
            graph = self.lineage(ref, depth=6)
            items = [n for n in graph["nodes"].values() if n["kind"] in ("dataset", "version")]
        results = []
        for node in items:
            results.append({**{k: node.get(k) for k in ("key", "kind", "label", "path", "hash_algo",
                                                          "hash")}, **self._check_node(node)})
        if ref is None:  # the whole catalog: its stored counts too
            results += self.version_count_drift()
        return results

    def version_count_drift(self: "Catalog") -> list[dict[str, Any]]:
        """Models whose stored version count differs from a fresh count, as ``changed`` items.

        Triggers keep ``models.version_count`` exact, so a difference means the catalog was
        edited around them (the column written by hand, a trigger dropped).
        """
        return [{"key": name, "kind": "model", "label": f"{name} (version count)", "path": None,
                 "hash_algo": None, "hash": None, "status": "changed",
                 "detail": f"stores {stored} versions, has {counted}"}
                for _id, name, stored, counted in self._conn().execute(LIVE_VERSION_COUNTS)
                if stored != counted]

    def _check_node(self: "Catalog", node: dict[str, Any]) -> dict[str, Any]:
        algo, expected, path = node.get("hash_algo"), node.get("hash"), node.get("path")
        if not expected:
            return {"status": "unverifiable", "detail": "no hash recorded"}
        if not path:
            return {"status": "unverifiable", "detail": "no local path recorded"}
        target = Path(path)
        if not target.exists():
            return {"status": "missing", "detail": f"{path} does not exist"}
        if algo not in VERIFIABLE:
            return {"status": "unverifiable", "detail": f"{algo} hashes are recomputed by their tool"}
        try:
            actual = file_digest(target, algo)
        except OSError as exc:
            return {"status": "missing", "detail": f"cannot read {path}: {exc.strerror or exc}"}
        if actual == expected:
            return {"status": "ok", "detail": f"{algo} matches"}
        return {"status": "changed", "detail": f"{algo} is now {actual[:12]}…, recorded "
                                               f"{expected[:12]}…"}
