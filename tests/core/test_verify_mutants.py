"""Hashing and ``verify`` pinned exactly (core/hashing.py, core/verify.py): each hash a user
relies on to learn that a model or a dataset changed, each verdict and each line ``verify``
prints.  Written against the mutants mutmut makes of these modules (docs/testing.md)."""

from __future__ import annotations

import hashlib
import os

import pytest

from mltui.core import hashing
from mltui.core.hashing import artifact_for, dataset_for, hash_path, lfs_pointer, sha256_file
from mltui.core.records import ImportSummary
from mltui.core.records import DatasetRecord, RunRecord
from mltui.core.verify import VERIFIABLE, file_digest

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
HEADER = "version https://git-lfs.github.com/spec/v1\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- Git LFS pointers ---------------------------------------------------------------------------


def test_lfs_pointer_reads_oid_and_size(tmp_path) -> None:
    path = tmp_path / "model.bin"
    path.write_text(f"{HEADER}oid sha256:  {OID}  \nsize 12345\n")
    assert lfs_pointer(path) == (OID, 12345)


@pytest.mark.parametrize(("size", "pointer"), [(1024, True), (1025, False)])
def test_lfs_pointer_is_at_most_1024_bytes(tmp_path, size, pointer) -> None:
    text = f"{HEADER}oid sha256:{OID}\nsize 7\n"
    path = tmp_path / "model.bin"
    path.write_text(text + "x" * (size - len(text) - 1) + "\n")
    assert path.stat().st_size == size
    assert lfs_pointer(path) == ((OID, 7) if pointer else None)


@pytest.mark.parametrize(("body", "expected"), [
    (f"oid sha256:{OID}\n", (OID, 0)),                      # no size: unknown, 0
    (f"oid sha256:{OID}\nsize twelve\n", (OID, 0)),          # a malformed size: unknown, 0
    (f"oid sha256:{OID}\nsize 12 34\n", (OID, 0)),           # the whole rest of the line is the size
    (f"size 5\noid sha256:{OID}\n", (OID, 5)),               # any order
    ("oid sha256:ab:cd\nsize 3\n", ("ab:cd", 3)),            # everything after the first colon
    ("size 5\n", None),                                      # no oid: not a pointer
    (f"oid md5:{OID}\nsize 5\n", None),                      # only sha256 oids
])
def test_lfs_pointer_fields(tmp_path, body, expected) -> None:
    path = tmp_path / "p"
    path.write_text(HEADER + body)
    assert lfs_pointer(path) == expected


def test_lfs_pointer_needs_the_header_and_survives_bad_bytes(tmp_path) -> None:
    path = tmp_path / "p"
    path.write_text(f"oid sha256:{OID}\nsize 5\n")
    assert lfs_pointer(path) is None
    path.write_bytes(HEADER.encode() + b"\xff\xfe junk\n" + f"oid sha256:{OID}\nsize 5\n".encode())
    assert lfs_pointer(path) == (OID, 5)
    assert lfs_pointer(tmp_path / "missing") is None


# -- content hashes -----------------------------------------------------------------------------


def test_sha256_file_streams_every_byte(tmp_path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path) == sha(data)


def test_hash_path_of_a_file_and_of_a_pointer(tmp_path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"weights")
    assert hash_path(path) == ("sha256", sha(b"weights"), 7, 1)
    path.write_text(f"{HEADER}oid sha256:{OID}\nsize 99\n")
    assert hash_path(path) == ("sha256-lfs", OID, 99, 1)


def test_hash_path_of_a_folder_is_a_sorted_manifest_of_files(tmp_path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_bytes(b"bb")
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / "c.txt").write_bytes(b"ccc")
    (folder / "empty").mkdir()
    manifest = (f"a.txt\t{sha(b'a')}\n" f"b.txt\t{sha(b'bb')}\n" f"sub/c.txt\t{sha(b'ccc')}\n")
    assert hash_path(folder) == ("sha256-dir", sha(manifest.encode()), 6, 3)
    (folder / "a.txt").rename(folder / "z.txt")  # same bytes under another name
    assert hash_path(folder)[1] != sha(manifest.encode())


def test_artifact_for_records_the_file(tmp_path) -> None:
    path = tmp_path / "m.bin"
    path.write_bytes(b"w")
    record = artifact_for(path)
    assert (record.path_raw, record.path, record.hash_algo, record.hash, record.size, record.kind,
            record.base_model, record.name) == (str(path), str(path.resolve()), "sha256", sha(b"w"),
                                                1, "model", None, None)
    named = artifact_for(path, path_raw="m.bin", kind="best", base_model="bert", name="head")
    assert (named.path_raw, named.kind, named.base_model, named.name) == ("m.bin", "best", "bert",
                                                                          "head")


def test_dataset_for_counts_rows_and_columns_of_csv_and_tsv(tmp_path) -> None:
    csv = tmp_path / "train.CSV"
    csv.write_text("\ufeff a , b\n1,2\n3,4\n", encoding="utf-8")
    record = dataset_for(csv)
    assert (record.name, record.hash_algo, record.hash, record.uri_raw, record.path, record.size,
            record.file_count, record.row_count, record.columns) == (
        "train", "sha256", sha(csv.read_bytes()), str(csv), str(csv.resolve()),
        csv.stat().st_size, 1, 2, ["a", "b"])
    tsv = tmp_path / "t.tsv"
    tsv.write_text("x\ty,z\n1\t2\n")
    named = dataset_for(tsv, name="features", uri_raw="s3://b/t.tsv")
    assert (named.name, named.uri_raw, named.row_count, named.columns) == (
        "features", "s3://b/t.tsv", 1, ["x", "y,z"])


@pytest.mark.parametrize(("name", "content"), [
    ("empty.csv", b""),                                        # no header: no columns, no rows
    ("bad.csv", b"a,b\n\xff\xfe\n"),                            # not UTF-8: unknown shape
    ("notes.txt", b"a,b\n1,2\n"),                               # not a table
    ("ptr.csv", f"{HEADER}oid sha256:{OID}\nsize 9\n".encode()),  # a pointer: the rows are elsewhere
])
def test_dataset_for_has_no_shape_it_cannot_read(tmp_path, name, content) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    record = dataset_for(path)
    expected = (0, None) if name == "empty.csv" else (None, None)
    assert (record.row_count, record.columns) == expected


def test_dataset_for_a_folder(tmp_path) -> None:
    folder = tmp_path / "images.csv"  # a folder with a table's suffix is not read as a table
    folder.mkdir()
    (folder / "a").write_bytes(b"1,2\n")
    record = dataset_for(folder)
    assert (record.hash_algo, record.size, record.file_count, record.row_count) == (
        "sha256-dir", 4, 1, None)


def test_table_header_keeps_line_ends_inside_quoted_names(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b'"first\r\nname",b\r\n1,"x\ry"\r\n2,3\r\n')
    assert dataset_for(path).columns == ["first\r\nname", "b"]
    assert dataset_for(path).row_count == 2


def test_table_shape_of_a_missing_file_is_unknown(tmp_path) -> None:
    assert hashing._table_shape(tmp_path / "gone.csv", ",") == (None, None)


# -- recomputing a recorded hash ----------------------------------------------------------------


def test_file_digest_recomputes_each_algorithm(tmp_path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    assert VERIFIABLE == {"sha256", "sha256-dir", "sha256-lfs", "md5", "md5-dos2unix"}
    assert file_digest(path, "sha256") == sha(b"a,b\r\n1,2\r\n")
    assert file_digest(path, "sha256-lfs") == sha(b"a,b\r\n1,2\r\n")  # the real bytes are here
    assert file_digest(path, "md5") == hashlib.md5(b"a,b\r\n1,2\r\n").hexdigest()
    assert file_digest(path, "md5-dos2unix") == hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert file_digest(tmp_path, "sha256-dir") == hash_path(tmp_path)[1]
    path.write_text(f"{HEADER}oid sha256:{OID}\nsize 9\n")
    assert file_digest(path, "sha256-lfs") == OID  # still a pointer: its oid
    assert file_digest(path, "sha256") == sha(path.read_bytes())


@pytest.mark.parametrize(("nul_at", "normalised"), [(7999, False), (8000, True)])
def test_dos2unix_leaves_binary_files_alone(tmp_path, nul_at, normalised) -> None:
    data = b"x" * nul_at + b"\x00" + b"\r\n"
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = data.replace(b"\r\n", b"\n") if normalised else data
    assert file_digest(path, "md5-dos2unix") == hashlib.md5(expected).hexdigest()


def write_datasets(catalog, *records: DatasetRecord) -> None:
    """Record datasets as an importer would (any algorithm, path or none)."""
    with catalog._write() as conn:
        catalog._write_run(conn, RunRecord(uid="imported", source_format="dvc", source_path="/x",
                                           datasets=list(records)), ImportSummary())


def test_verify_reports_each_verdict_with_its_reason(catalog, tmp_path) -> None:
    ok, changed, unreadable = tmp_path / "ok.csv", tmp_path / "changed.csv", tmp_path / "dir"
    ok.write_bytes(b"1\n")
    changed.write_bytes(b"2\n")
    unreadable.mkdir()
    recorded = "f" * 64
    write_datasets(
        catalog,
        DatasetRecord(name="a-ok", hash_algo="sha256", hash=sha(b"1\n"), path=str(ok)),
        DatasetRecord(name="b-changed", hash_algo="sha256", hash=recorded, path=str(changed)),
        DatasetRecord(name="c-missing", hash_algo="md5", hash="0" * 32, path=str(tmp_path / "no")),
        DatasetRecord(name="d-etag", hash_algo="etag", hash="abc", path=str(ok)),
        DatasetRecord(name="e-remote", hash_algo="sha256", hash=recorded, uri_raw="s3://b/x"),
        DatasetRecord(name="f-unhashed", path=str(ok)),
        DatasetRecord(name="g-unreadable", hash_algo="sha256", hash=recorded, path=str(unreadable)),
    )
    results = {r["label"]: r for r in catalog.verify()}
    assert {label: (r["status"], r["detail"]) for label, r in results.items()} == {
        "data:a-ok@1": ("ok", "sha256 matches"),
        "data:b-changed@1": ("changed", f"sha256 is now {sha(changed.read_bytes())[:12]}…, recorded "
                                        f"{recorded[:12]}…"),
        "data:c-missing@1": ("missing", f"{tmp_path / 'no'} does not exist"),
        "data:d-etag@1": ("unverifiable", "etag hashes are recomputed by their tool"),
        "data:e-remote@1": ("unverifiable", "no local path recorded"),
        "data:f-unhashed@1": ("unverifiable", "no hash recorded"),
        "data:g-unreadable@1": ("missing", f"cannot read {unreadable}: not a regular file "
                                           "(a directory); not read"),
    }
    first = results["data:a-ok@1"]
    assert {k: first[k] for k in ("key", "kind", "path", "hash_algo", "hash")} == {
        "key": first["key"], "kind": "dataset", "path": str(ok), "hash_algo": "sha256",
        "hash": sha(b"1\n")}
    assert first["key"].startswith("dataset:")


def test_verify_lists_datasets_by_name_and_version_then_artifacts(catalog, tmp_path) -> None:
    data, weights, plain = tmp_path / "zeta.csv", tmp_path / "w.bin", tmp_path / "alpha.csv"
    data.write_text("1\n")
    plain.write_text("a\n")
    weights.write_bytes(b"w1")
    first = catalog.log_run("one", datasets=[data, plain], artifact=weights)
    catalog.register("m", run=first, artifact=str(weights))
    data.write_text("2\n")
    catalog.log_run("two", datasets=[data])
    catalog.register("m", run=catalog.log_run("three"))  # no artifact: not listed
    labels = [(r["label"], r["status"]) for r in catalog.verify()]
    assert labels == [("data:alpha@1", "ok"), ("data:zeta@1", "changed"), ("data:zeta@2", "ok"),
                      ("m@1", "ok")]


def test_verify_of_a_reference_reaches_six_links_upstream(catalog, tmp_path) -> None:
    # m@8 was fine-tuned from m@7, … from m@1: m@1 is seven links away, m@2 six.
    for n in range(1, 9):
        catalog.register("m", run=catalog.log_run(f"r{n}"), base=f"m@{n - 1}" if n > 1 else None)
    versions = {r["label"] for r in catalog.verify("m@8") if r["kind"] == "version"}
    assert versions == {f"m@{n}" for n in range(2, 9)}


def test_verify_of_a_reference_covers_its_lineage_only(catalog, tmp_path) -> None:
    used, other, weights = tmp_path / "used.csv", tmp_path / "other.csv", tmp_path / "w.bin"
    used.write_text("1\n")
    other.write_text("2\n")
    weights.write_bytes(b"w")
    run = catalog.log_run("r", datasets=[used], artifact=weights)
    catalog.register("m", run=run, artifact=str(weights))
    catalog.register("m", run=catalog.log_run("s", datasets=[other]))
    weights.write_bytes(b"changed")
    assert [(r["label"], r["kind"], r["status"]) for r in catalog.verify("m@1")] == [
        ("m@1", "version", "changed"), ("data:used@1", "dataset", "ok")]
    assert [(r["label"], r["status"], r["detail"]) for r in catalog.verify("m@2")] == [
        ("m@2", "unverifiable", "no hash recorded"), ("data:other@1", "ok", "sha256 matches")]


# -- stored version counts (schema 6) -----------------------------------------------------------


def test_verify_reports_each_drifted_count_exactly_and_only_for_the_whole_catalog(catalog) -> None:
    for name, versions in (("b-model", 2), ("a-model", 1), ("c-model", 1)):
        for _ in range(versions):
            catalog.register(name, run=catalog.log_run(f"{name} run"))
    assert catalog.version_count_drift() == []
    with catalog._write() as conn:  # edits only a hand-made change around the triggers can do
        conn.execute("UPDATE models SET version_count = 5 WHERE name = 'b-model'")
        conn.execute("UPDATE models SET version_count = 0 WHERE name = 'a-model'")
    expected = [{"key": name, "kind": "model", "label": f"{name} (version count)", "path": None,
                 "hash_algo": None, "hash": None, "status": "changed",
                 "detail": f"stores {stored} versions, has {counted}"}
                for name, stored, counted in (("a-model", 0, 1), ("b-model", 5, 2))]
    assert catalog.version_count_drift() == expected  # by name; c-model, still exact, absent
    assert catalog.verify() == expected  # nothing else in this catalog has a hash to check
    by_reference = catalog.verify("b-model@1")  # a reference: its lineage only, no counts
    assert [item["key"] for item in by_reference] == ["version:1"]
