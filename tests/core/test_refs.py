"""References (SPEC §2): every spelling resolves, unknown ones list the closest matches."""

from __future__ import annotations

import pytest

from mltui.core.errors import InvalidInput, NotFound
from mltui.core.refs import parse_ref


@pytest.mark.parametrize("text,kind,model,selector", [
    ("fraud", "name", "fraud", None),
    ("fraud@3", "version", "fraud", 3),
    ("fraud@v3", "version", "fraud", 3),
    ("fraud@V12", "version", "fraud", 12),
    ("fraud@production", "version", "fraud", "production"),
    ("fraud@Production", "version", "fraud", "production"),
    ("fraud@latest", "version", "fraud", None),
    ("models:/fraud/3", "version", "fraud", 3),
    ("models:/fraud@champion", "version", "fraud", "champion"),
    ("models:/fraud/Production", "version", "fraud", "production"),
    ("models:/fraud/latest", "version", "fraud", None),
    ("run:ab12", "run", None, "ab12"),
    ("data:reviews@2", "data", "reviews", 2),
    ("data:reviews", "data", "reviews", None),
    ("my.model-v2_x", "name", "my.model-v2_x", None),
])
def test_parse_every_spelling(text, kind, model, selector) -> None:
    ref = parse_ref(text)
    assert (ref.kind, ref.model, ref.selector) == (kind, model, selector)


@pytest.mark.parametrize("text", ["", "   ", "fraud@0", "fraud@-1", "@3", "run:",
                                  "data:@2", "bad name", "fraud@prod uction", "models:/@x",
                                  "fraud\x1b[31m", "fraud@3@4"])
def test_malformed_reference_is_invalid_input(text) -> None:
    with pytest.raises(InvalidInput):
        parse_ref(text)


def test_resolution_of_every_spelling(seeded) -> None:
    cat = seeded
    cat.promote("fraud@2", "production", reason="r")
    cat.promote("fraud@1", "champion", reason="kept for A/B", force=True)
    latest = cat.resolve("fraud@3")
    assert cat.resolve("fraud") == latest
    assert cat.resolve("fraud@latest") == latest
    assert cat.resolve("models:/fraud/3") == latest
    assert cat.resolve("fraud@production") == cat.resolve("fraud@v2")
    assert cat.resolve("models:/fraud/Production") == cat.resolve("fraud@2")
    assert cat.resolve("models:/fraud@champion") == cat.resolve("fraud@1")
    canonical = cat.versions([latest])[0]["canonical_name"]
    assert canonical.startswith("payments_fraud_v3_")
    assert cat.resolve(canonical) == latest
    run = cat.versions([latest])[0]["run_uid"]
    assert cat.resolve_run(f"run:{run[:6]}") == cat.versions([latest])[0]["run_id"]
    assert cat.resolve_run("run:worse") == cat.versions([latest])[0]["run_id"]


@pytest.mark.parametrize("text,message,candidate", [
    ("fraud@9", "has no version 9", "fraud@3"),
    ("frad", "no model or version named 'frad'", "fraud"),
    ("frad@2", "no model named 'frad'", "fraud"),
    ("fraud@staging", "holds stage 'staging'", None),
    ("fraud@productoin", "holds stage 'productoin'", "fraud@production"),
])
def test_unknown_reference_lists_closest(seeded, text, message, candidate) -> None:
    seeded.promote("fraud@2", "production", reason="r")
    with pytest.raises(NotFound) as info:
        seeded.resolve(text)
    assert message in info.value.one_line()
    if candidate:
        assert candidate in info.value.candidates
        assert "did you mean" in info.value.one_line()


def test_unknown_and_ambiguous_runs(catalog) -> None:
    catalog.log_run("a", uid="abc111")
    catalog.log_run("b", uid="abc222")
    with pytest.raises(NotFound, match="no run matches"):
        catalog.resolve_run("run:zzzz")
    with pytest.raises(NotFound, match="ambiguous") as info:
        catalog.resolve_run("run:abc")
    assert set(info.value.candidates) == {"run:abc111", "run:abc222"}
    assert catalog.resolve_run("run:abc1") == catalog.resolve_run("run:abc111")


def test_dataset_references(catalog, tmp_path) -> None:
    data = tmp_path / "reviews.csv"
    data.write_text("a\n1\n")
    catalog.log_run("one", datasets=[data])
    data.write_text("a\n1\n2\n")
    catalog.log_run("two", datasets=[data])
    first, second = catalog.resolve_dataset("data:reviews@1"), catalog.resolve_dataset("data:reviews@2")
    assert catalog.resolve_dataset("data:reviews") == second != first
    with pytest.raises(NotFound, match="has no version 3"):
        catalog.resolve_dataset("data:reviews@3")
    with pytest.raises(NotFound) as info:
        catalog.resolve_dataset("data:review")
    assert "did you mean data:reviews" in info.value.one_line()


def test_run_reference_is_a_uid_prefix_never_a_row_id(catalog) -> None:
    """Issue 8 item 5: ``run:2`` means the run whose uid starts with 2, not row 2."""
    first = catalog.log_run("first", uid="2f0c0ffee")  # row id 1, uid starts with "2"
    second = catalog.log_run("second", uid="a1b2c3")    # row id 2
    assert second["id"] == 2
    assert catalog.resolve_run("run:2") == first["id"]
    with pytest.raises(NotFound, match="no run matches '1'") as info:
        catalog.resolve_run("run:1")  # row 1 exists, but no uid starts with 1
    assert "not by a row number" in (info.value.hint or "")
