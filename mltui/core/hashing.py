"""Content hashes of files and folders, Git LFS pointers, and records for paths on disk.

Used by the importers, by ``log_run``/``register`` and by ``verify``; lives in the core so the
catalog never depends on the importers.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from .records import ArtifactRecord, DatasetRecord
from .safefile import open_regular, read_bytes

LFS_HEADER = b"version https://git-lfs.github.com/spec/v1"




def lfs_pointer(path: Path) -> tuple[str, int] | None:
    """Return ``(sha256 oid, size)`` when the file is a Git LFS pointer, else None."""
    try:
        if path.stat().st_size > 1024:
            return None
        # A regular file only (/dev/zero reports size 0); at most 1024 bytes, checked above, so
        # any limit over that (or none) reads the same bytes.
        data = read_bytes(path, 1025)  # pragma: no mutate - see above
    except OSError:
        return None
    if not data.startswith(LFS_HEADER):
        return None
    oid = size = None
    for line in data.decode("utf-8", "replace").splitlines():  # pragma: no mutate - "UTF-8" is the same codec
        if line.startswith("oid sha256:"):
            oid = line.split(":", 1)[1].strip()
        elif line.startswith("size "):
            try:
                size = int(line.split(" ", 1)[1])  # pragma: no mutate - int() ignores the spaces split(None) would drop
            except ValueError:
                pass
    if oid is None:
        return None
    return oid, size or 0


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, streamed (a regular file only: a FIFO or device is refused)."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        # The chunk size cannot change the digest; a wrong end marker would loop forever.
        for chunk in iter(lambda: handle.read(1 << 20), b""):  # pragma: no mutate - see above
            digest.update(chunk)
    return digest.hexdigest()


def hash_path(path: Path) -> tuple[str, str, int, int]:
    """Content hash of a file or directory: ``(algo, hash, size, file count)``.

    Only regular files are read (:mod:`.safefile`), so a FIFO or a device raises ``OSError``
    instead of hanging.  A file gives ``sha256`` of its bytes, or ``sha256-lfs`` with the pointer's oid when it is a
    Git LFS pointer.  A directory gives ``sha256-dir``: the sha256 of a sorted manifest of
    ``relative path, sha256`` lines, so renaming or changing any file changes the hash.
    """
    if path.is_dir():
        manifest = []
        total = 0
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            manifest.append(f"{file.relative_to(path).as_posix()}\t{sha256_file(file)}\n")
            total += file.stat().st_size
        digest = hashlib.sha256("".join(manifest).encode()).hexdigest()
        return "sha256-dir", digest, total, len(manifest)
    pointer = lfs_pointer(path)
    if pointer:
        return "sha256-lfs", pointer[0], pointer[1], 1
    return "sha256", sha256_file(path), path.stat().st_size, 1


def artifact_for(path: Path, *, path_raw: str | None = None, kind: str = "model",
                 base_model: str | None = None, name: str | None = None) -> ArtifactRecord:
    """An ArtifactRecord for a model file/dir on disk, hashed (LFS pointers by their oid)."""
    algo, digest, size, _ = hash_path(path)
    return ArtifactRecord(path_raw=path_raw or str(path), path=str(path.resolve()), hash_algo=algo,
                          hash=digest, size=size, kind=kind, base_model=base_model, name=name)


def dataset_for(path: Path, *, name: str | None = None, uri_raw: str | None = None) -> DatasetRecord:
    """A DatasetRecord for a file or directory on disk: content hash, size, rows and columns."""
    algo, digest, size, count = hash_path(path)
    rows = columns = None
    if path.is_file() and path.suffix.lower() in {".csv", ".tsv"} and algo == "sha256":
        rows, columns = _table_shape(path, "\t" if path.suffix.lower() == ".tsv" else ",")
    return DatasetRecord(name=name or path.stem, hash_algo=algo, hash=digest,
                         uri_raw=uri_raw or str(path), path=str(path.resolve()), size=size,
                         file_count=count, row_count=rows, columns=columns)


def _table_shape(path: Path, delimiter: str) -> tuple[int | None, list[str] | None]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # pragma: no mutate - "UTF-8-SIG" is the same codec
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            rows = sum(1 for _ in reader)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None, None
    return rows, [name.strip() for name in header] if header else None
