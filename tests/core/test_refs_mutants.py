"""References pinned exactly (mutation testing of mltui/core/refs.py, docs/testing.md).

Every error a user can get from a reference is compared as the whole line they read (message
and hint), and every parse as the whole Ref, so a changed word, bound or slice fails a test.
"""

from __future__ import annotations

import pytest

from mltui.core.errors import InvalidInput, NotFound
from mltui.core.refs import Ref, normalize_stage, parse_ref

MODEL_HINT = ("model names use letters, digits, '_', '.', '-' and start with a letter or digit")
STAGE_HINT = "stages and aliases are words like production or champion"


@pytest.mark.parametrize("text,ref", [
    ("run: ab ", Ref("run", "run: ab", selector="ab")),
    ("  fraud@3  ", Ref("version", "fraud@3", model="fraud", selector=3)),
    ("fraud@1", Ref("version", "fraud@1", model="fraud", selector=1)),
    ("fraud@v1", Ref("version", "fraud@v1", model="fraud", selector=1)),
    ("fraud@LATEST", Ref("version", "fraud@LATEST", model="fraud", selector=None)),
    ("fraud@ Production", Ref("version", "fraud@ Production", model="fraud", selector="production")),
    ("data:r@v2", Ref("data", "data:r@v2", model="r", selector=2)),
    ("data:r@1", Ref("data", "data:r@1", model="r", selector=1)),
    ("data:r", Ref("data", "data:r", model="r", selector=None)),
    ("models:/fraud", Ref("version", "models:/fraud", model="fraud", selector=None)),
    ("models:/fraud/", Ref("version", "models:/fraud/", model="fraud", selector=None)),
    ("models:/fraud/LATEST", Ref("version", "models:/fraud/LATEST", model="fraud", selector=None)),
    ("models:/fraud/Staging", Ref("version", "models:/fraud/Staging", model="fraud",
                                  selector="staging")),
    ("models:/fraud/12", Ref("version", "models:/fraud/12", model="fraud", selector=12)),
    ("models:/fraud@Champion", Ref("version", "models:/fraud@Champion", model="fraud",
                                   selector="champion")),
    ("9lives", Ref("name", "9lives", model="9lives")),
])
def test_parse_gives_the_whole_ref(text, ref) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text,line", [
    ("", "empty reference; name a version like fraud@3 or fraud@production"),
    (None, "empty reference; name a version like fraud@3 or fraud@production"),
    ("fr\x1fud", "reference 'fr\\x1fud' contains control characters"),
    ("run:", "run: needs a run id or prefix; e.g. run:3f2a"),
    ("run:   ", "run: needs a run id or prefix; e.g. run:3f2a"),
    ("data:@2", "bad dataset reference 'data:@2'; write data:<name>@<version>"),
    ("data:a@b@2", "bad version number in reference 'data:a@b@2'; versions start at 1"),
    ("data:reviews@", "bad version number in reference 'data:reviews@'; versions start at 1"),
    ("data:reviews@0", "bad version number in reference 'data:reviews@0'; versions start at 1"),
    ("fraud@0", "bad version number in reference 'fraud@0'; versions start at 1"),
    ("fraud@v0", "bad version number in reference 'fraud@v0'; versions start at 1"),
    ("models:/@x", f"bad model name in reference 'models:/@x'; {MODEL_HINT}"),
    ("models:/-x/3", f"bad model name in reference 'models:/-x/3'; {MODEL_HINT}"),
    ("@3", f"bad model name in reference '@3'; {MODEL_HINT}"),
    ("models:/fraud/3/4", f"bad stage or alias in reference 'models:/fraud/3/4'; {STAGE_HINT}"),
    ("models:/fraud@", f"bad stage or alias in reference 'models:/fraud@'; {STAGE_HINT}"),
    ("models:/fraud@a@b", f"bad stage or alias in reference 'models:/fraud@a@b'; {STAGE_HINT}"),
    ("data:r@X5", "bad version number in reference 'data:r@X5'; versions start at 1"),
    ("fraud@3@4", f"bad stage or alias in reference 'fraud@3@4'; {STAGE_HINT}"),
    ("fraud@3x", f"bad stage or alias in reference 'fraud@3x'; {STAGE_HINT}"),
    ("fraud@", f"bad stage or alias in reference 'fraud@'; {STAGE_HINT}"),
    ("bad name", "bad reference 'bad name'; write a model name, model@3, model@production or "
                 "run:<uid>"),
])
def test_malformed_reference_reads_exactly(text, line) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_ref(text)
    assert info.value.one_line() == line


def test_normalize_stage_names_the_stage_itself_in_errors() -> None:
    assert normalize_stage(" Staging ") == "staging"
    with pytest.raises(InvalidInput) as info:
        normalize_stage("9x")
    assert info.value.one_line() == f"bad stage or alias in reference '9x'; {STAGE_HINT}"


def _missing(call, *args) -> NotFound:
    with pytest.raises(NotFound) as info:
        call(*args)
    return info.value


def test_unknown_model_hints(catalog) -> None:
    err = _missing(catalog.resolve, "fraud@1")
    assert (err.one_line(), err.candidates) == (
        "no model named 'fraud'; the catalog has no models yet", [])
    run = catalog.log_run("r")
    for name in ("fraud1", "fraud2", "fraud3", "fraud4", "zebra"):
        catalog.register(name, run=run)
    err = _missing(catalog.resolve, "fraud@1")
    # at most three suggestions, best first (ties: the later name first, as difflib ranks them)
    assert err.candidates == ["fraud4", "fraud3", "fraud2"]
    assert err.one_line() == "no model named 'fraud'; did you mean fraud4, fraud3, fraud2?"
    err = _missing(catalog.resolve, "qqqqqq@1")
    assert (err.one_line(), err.candidates) == (
        "no model named 'qqqqqq'; list them with: mltui ls models", [])
    # cutoff 0.5: "zebXXX" shares half its letters with "zebra" (ratio 6/11) and is offered
    assert _missing(catalog.resolve, "zebXXX@1").candidates == ["zebra"]


def test_unknown_name_offers_models_and_canonical_names(seeded) -> None:
    canonical = seeded.versions([seeded.resolve("fraud@1")])[0]["canonical_name"]
    # same length, first three letters shared, the fourth differs: found through the LIKE prefix
    typo = canonical[:3] + "X" + canonical[4:]
    err = _missing(seeded.resolve, typo)
    assert err.candidates[0] == canonical
    assert err.one_line().startswith(f"no model or version named {typo!r}; did you mean {canonical}")
    err = _missing(seeded.resolve, "qqqqqq")
    assert (err.one_line(), err.candidates) == (
        "no model or version named 'qqqqqq'; list models with: mltui ls models", [])


def test_a_run_or_dataset_is_not_a_version(catalog) -> None:
    with pytest.raises(InvalidInput) as info:
        catalog.resolve("run:ab12")
    assert info.value.one_line() == "'run:ab12' names a run, not a model version"


def test_model_without_versions(catalog) -> None:
    with catalog._write() as conn:
        catalog._ensure_model(conn, "empty")
    err = _missing(catalog.resolve, "empty")
    assert err.one_line() == "model 'empty' has no versions yet; register one: mltui import … --model empty"
    err = _missing(catalog.resolve, "empty@2")
    assert (err.one_line(), err.candidates) == (
        "model 'empty' has no version 2; it has no versions yet", [])


def test_missing_version_offers_the_three_nearest(catalog) -> None:
    run = catalog.log_run("r")
    for _ in range(5):
        catalog.register("m", run=run)
    assert catalog.ref_of(catalog.resolve("m")) == "m@5"
    err = _missing(catalog.resolve, "m@9")
    assert err.candidates == ["m@5", "m@4", "m@3"]
    assert err.one_line() == "model 'm' has no version 9; did you mean m@5, m@4, m@3?"
    assert _missing(catalog.resolve, "m@7").candidates == ["m@5", "m@4", "m@3"]


def test_missing_stage_candidates_and_hints(catalog) -> None:
    run = catalog.log_run("r")
    for _ in range(4):
        catalog.register("m", run=run)
    err = _missing(catalog.resolve, "m@production")
    assert (err.one_line(), err.candidates) == (
        "no version of 'm' holds stage 'production'; promote one: mltui promote m@<N> "
        "--stage production", [])
    for n, stage in enumerate(("alpha", "beta", "gamma", "delta"), start=1):
        catalog.promote(f"m@{n}", stage)
    # nothing close: the first three stages the model has
    err = _missing(catalog.resolve, "m@zzzzzz")
    assert len(err.candidates) == 3
    assert set(err.candidates) <= {"m@alpha", "m@beta", "m@gamma", "m@delta"}
    assert err.one_line() == (f"no version of 'm' holds stage 'zzzzzz'; did you mean "
                              f"{', '.join(err.candidates)}?")
    err = _missing(catalog.resolve, "m@betta")
    assert err.candidates == ["m@beta", "m@delta"]
    # a cleared stage is not offered
    catalog.clear_stage("m", "alpha")
    assert "m@alpha" not in _missing(catalog.resolve, "m@alphaa").candidates
    assert catalog.ref_of(catalog.resolve("m@gamma")) == "m@3"


def test_run_prefixes_are_literal_text(catalog) -> None:
    under = catalog.log_run("u", uid="a_b111")
    catalog.log_run("x", uid="axb222")
    percent = catalog.log_run("p", uid="c%d333")
    catalog.log_run("y", uid="cxd444")
    slash = catalog.log_run("s", uid="e\\f555")
    assert catalog.resolve_run("run:a_") == under["id"]
    assert catalog.resolve_run("run:c%") == percent["id"]
    assert catalog.resolve_run("run:e\\") == slash["id"]
    assert catalog.resolve_run("run:e\\f555") == slash["id"]


def test_ambiguous_run_prefix_lists_five_short_ids(catalog) -> None:
    whole = catalog.log_run("one", uid="ab")
    catalog.log_run("two", uid="abx")
    # "ab" is a whole uid: the exact match wins over the prefix
    assert catalog.resolve_run("run:ab") == whole["id"]
    for n in range(6):
        catalog.log_run(f"r{n}", uid=f"ff{n}0123456789abcdef")
    err = _missing(catalog.resolve_run, "run:ff")
    assert err.candidates == [f"run:ff{n}012345678" for n in range(5)]
    assert err.one_line() == ("run prefix 'ff' is ambiguous; it matches "
                              + ", ".join(err.candidates))
    err = _missing(catalog.resolve_run, "run:ff0123")
    assert err.one_line() == "no run matches 'ff0123'; list runs with: mltui ls runs"


def test_two_matching_runs_are_ambiguous(catalog) -> None:
    catalog.log_run("a", uid="dd1")
    catalog.log_run("b", uid="dd2")
    err = _missing(catalog.resolve_run, "run:dd")
    assert err.one_line() == "run prefix 'dd' is ambiguous; it matches run:dd1, run:dd2"


def test_dataset_errors_read_exactly(catalog, tmp_path) -> None:
    err = _missing(catalog.resolve_dataset, "data:reviews")
    assert (err.one_line(), err.candidates) == (
        "no dataset named 'reviews'; list them with: mltui ls datasets", [])
    data = tmp_path / "reviews.csv"
    data.write_text("a\n1\n")
    catalog.log_run("one", datasets=[data])
    data.write_text("a\n1\n2\n")
    catalog.log_run("two", datasets=[data])
    first = catalog.resolve_dataset("data:reviews@1")
    assert catalog.resolve_dataset("reviews@2") != first
    assert catalog.resolve_dataset("data:reviews") == catalog.resolve_dataset("data:reviews@2")
    err = _missing(catalog.resolve_dataset, "data:reviews@3")
    assert err.one_line() == "dataset 'reviews' has no version 3; list them with: mltui ls datasets"
    err = _missing(catalog.resolve_dataset, "data:reviewz")
    assert (err.one_line(), err.candidates) == (
        "no dataset named 'reviewz'; did you mean data:reviews?", ["data:reviews"])


def test_a_run_named_almost_right_is_suggested(catalog) -> None:
    catalog.log_run("baseline", uid="0a1b2c")
    catalog.log_run("tuned", uid="3d4e5f")
    err = _missing(catalog.resolve_run, "run:baselin")
    assert (err.one_line(), err.candidates) == (
        "no run matches 'baselin'; did you mean baseline?", ["baseline"])
    assert catalog.resolve_run("run:0a") == catalog.resolve_run("run:baseline")


def test_version_numbers_have_at_most_18_digits() -> None:
    assert parse_ref("m@" + "9" * 18).selector == 10 ** 18 - 1
    raw = "a-model-with-a-long-name@" + "1" * 19
    with pytest.raises(InvalidInput) as info:
        parse_ref(raw)
    assert info.value.one_line() == (f"version number too large in reference {raw[:40]!r}; "
                                     "versions are numbered from 1 up to 18 digits")


def test_a_too_large_version_in_a_models_uri_names_the_reference() -> None:
    raw = "models:/m/" + "2" * 19
    with pytest.raises(InvalidInput) as info:
        parse_ref(raw)
    assert info.value.one_line() == (f"version number too large in reference {raw!r}; "
                                     "versions are numbered from 1 up to 18 digits")
