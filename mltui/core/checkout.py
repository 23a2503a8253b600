"""``checkout``: materialise a version's artifact in a folder, atomically and verified.

The folder (``--to DIR``) ends up holding the artifact under its own name and a manifest
(``mltui-manifest.json``: reference, canonical name, hash, run, datasets, commit).  Everything is
built in a hidden sibling folder first, its hash checked against the catalog, and only then
put in place with one rename (an atomic exchange where the system has one), so a process
killed at any point leaves the old checkout or the new one at DIR, never half of one.  A
folder that already holds that exact version, intact, is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput, MltuiError, NotFound
from .schema import fault_point

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

MANIFEST = "mltui-manifest.json"
_TMP_MARK = ".mltui-tmp-"


class HashMismatch(MltuiError):
    """The copied artifact does not hash to what the catalog recorded (nothing was put in place)."""

    exit_code = 1


def _manifest_for(version: dict[str, Any], name: str, actor: str, now: float) -> dict[str, Any]:
    return {"ref": f"{version['model']}@{version['version']}", "model": version["model"],
            "version": version["version"], "canonical_name": version["canonical_name"],
            "artifact": name, "hash_algo": version["artifact_hash_algo"],
            "hash": version["artifact_hash"], "size": version["artifact_size"],
            "run": version["run_uid"], "datasets": version["datasets"],
            "commit": version["git_commit"], "checked_out_at": now, "by": actor}


def read_manifest(target: Path) -> dict[str, Any] | None:
    """The manifest of a checkout folder, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _verify(path: Path, algo: str, expected: str) -> str | None:
    """None when ``path`` hashes to ``expected``; else what it hashed to."""
    from .hashing import hash_path  # hashing (and its records, csv) loads at the first checkout

    got_algo, digest, _, _ = hash_path(path)
    if got_algo != algo:
        raise InvalidInput(f"cannot verify a {algo} hash (mltui computes {got_algo})",
                           hint="register the artifact again so its hash is sha256")
    return None if digest == expected else digest


def _copy(src: Path, dst: Path) -> None:
    def copy_file(a: str, b: str) -> str:
        shutil.copy2(a, b)
        fault_point("checkout-mid-copy")  # crash tests: a kill between two files
        return b

    if src.is_dir():
        shutil.copytree(src, dst, copy_function=copy_file)
    else:
        copy_file(str(src), str(dst))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    import ctypes  # here, not at the top: every start of the app imports the catalog
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def _sweep(target: Path) -> None:
    """Remove temporary folders left by checkouts that were killed (their process is gone)."""
    for stale in target.parent.glob(f".{target.name}{_TMP_MARK}*"):
        pid = stale.name.rsplit(_TMP_MARK, 1)[1].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)


class CheckoutMixin:
    """``Catalog.checkout`` (mixed into Catalog)."""

    def checkout(self: "Catalog", ref: str | int, to: str | os.PathLike) -> dict[str, Any]:
        """Copy a version's artifact to folder ``to`` with a manifest; atomic and verified.

        Returns ``{"ref", "path", "changed", "hash", "manifest"}``; ``changed`` is False when
        ``to`` already held this exact version, intact.  Raises HashMismatch (exit 1) when the
        copy does not match the catalog's hash, and leaves ``to`` as it was.
        """
        version = self.versions([self.resolve(ref)])[0]
        label = f"{version['model']}@{version['version']}"
        if not version["artifact_path"] or not version["artifact_hash"]:
            raise InvalidInput(f"{label} has no artifact to check out",
                               hint="register it with --artifact PATH")
        src = Path(version["artifact_path"])
        if not src.exists():
            raise NotFound(f"the artifact of {label} is missing: {src}",
                           hint="restore the file, or check the version's lineage with mltui verify")
        target = Path(to).absolute()
        name = src.name
        result = {"ref": label, "path": str(target / name), "hash": version["artifact_hash"],
                  "changed": False, "manifest": str(target / MANIFEST)}
        current = read_manifest(target) if target.is_dir() else None
        if current is not None and current.get("canonical_name") == version["canonical_name"] \
                and current.get("hash") == version["artifact_hash"] \
                and (target / name).exists() \
                and _verify(target / name, version["artifact_hash_algo"],
                            version["artifact_hash"]) is None:
            return result
        if target.exists() and not target.is_dir():
            raise InvalidInput(f"{target} is a file, not a folder")
        if target.is_dir() and current is None and any(target.iterdir()):
            raise InvalidInput(f"{target} holds files that mltui checkout did not write",
                               hint="choose an empty or new folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep(target)
        tmp = target.parent / f".{target.name}{_TMP_MARK}{os.getpid()}-{time.monotonic_ns()}"
        tmp.mkdir()
        try:
            _copy(src, tmp / name)
            got = _verify(tmp / name, version["artifact_hash_algo"], version["artifact_hash"])
            if got is not None:
                raise HashMismatch(f"the copy of {label}'s artifact hashes to {got[:12]}, the "
                                   f"catalog recorded {version['artifact_hash'][:12]}: {src} "
                                   "changed since it was registered; nothing was put in place",
                                   hint="mltui verify shows what changed")
            manifest = _manifest_for(version, name, self.actor, self.now())
            with open(tmp / MANIFEST, "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            self._put_in_place(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # after a swap it holds the old checkout
        return dict(result, changed=True)

    @staticmethod
    def _put_in_place(tmp: Path, target: Path) -> None:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        if not target.exists():
            os.rename(tmp, target)
            return
        if _exchange(tmp, target):
            return
        # No atomic exchange: move the old one aside first (a kill between the two renames
        # leaves the old checkout beside DIR, never a half-copied one at DIR).
        old = target.parent / f".{target.name}{_TMP_MARK}{os.getpid()}-old"
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
