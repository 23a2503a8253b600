"""Filter precedence over a full truth table: 'and' binds tighter than 'or', parentheses group,
'not' applies to one term or a whole group.

Eight versions of model 'm' carry tags a, b, c set to every combination of 0 and 1, so each
expression is checked against its Python meaning on all rows: any two different readings of
an expression (e.g. ``a or (b and c)`` against ``(a or b) and c``) disagree on some row.
"""

from __future__ import annotations

import itertools

import pytest

from mltui.core.catalog import Catalog
from mltui.core.filter_parse import BoolOp, Not, parse_filter

COMBOS = list(itertools.product((0, 1), repeat=3))


@pytest.fixture(scope="module")
def cat(tmp_path_factory) -> Catalog:
    """m@1..m@8 tagged with every (a, b, c); 'other' has one version with a=b=c=1."""
    from mltui.core.catalog import open_catalog
    from tests.conftest import TickingClock

    folder = tmp_path_factory.mktemp("precedence")
    cat = open_catalog(folder / "catalog.db", create=True, clock=TickingClock())
    for a, b, c in COMBOS:
        cat.register("m", run=cat.log_run("r"), tags={"a": str(a), "b": str(b), "c": str(c)})
    cat.register("other", run=cat.log_run("r"), tags={"a": "1", "b": "1", "c": "1"})
    yield cat
    cat.close()


def selected(cat: Catalog, text: str, model: str | None = "m") -> set[tuple[int, int, int]]:
    """The (a, b, c) combinations whose versions the filter selects."""
    return {tuple(int(r["tags"][k]) for k in "abc")
            for r in cat.versions(cat.version_ids(model=model, filter=text))}


def expand(text: str) -> str:
    """'a or b' → "tags.a = '1' or tags.b = '1'" (only the single letters a, b, c)."""
    return " ".join(f"tags.{word} = '1'" if word in "abc" else word
                    for word in text.replace("(", "( ").replace(")", " )").split())


EXPRESSIONS = [
    ("a or b and c", lambda a, b, c: a or (b and c)),
    ("(a or b) and c", lambda a, b, c: (a or b) and c),
    ("a and b or c", lambda a, b, c: (a and b) or c),
    ("a and (b or c)", lambda a, b, c: a and (b or c)),
    ("a or b or c", lambda a, b, c: a or b or c),
    ("a and b and c", lambda a, b, c: a and b and c),
    ("a (b or c)", lambda a, b, c: a and (b or c)),  # adjacency means 'and'
    ("(a or b) c", lambda a, b, c: (a or b) and c),
    ("not a and b", lambda a, b, c: (not a) and b),
    ("not (a and b)", lambda a, b, c: not (a and b)),
    ("not a or b", lambda a, b, c: (not a) or b),
    ("not (a or b)", lambda a, b, c: not (a or b)),
    ("not (a or b) and c", lambda a, b, c: (not (a or b)) and c),
    ("not ((a or b) and c)", lambda a, b, c: not ((a or b) and c)),
    ("not not a", lambda a, b, c: bool(a)),
    ("a or not b and c", lambda a, b, c: a or ((not b) and c)),
    ("(a or (b and not c))", lambda a, b, c: a or (b and not c)),
    ("((a or b) and (b or c)) or not (a or c)",
     lambda a, b, c: ((a or b) and (b or c)) or not (a or c)),
]


@pytest.mark.parametrize("text,meaning", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_precedence_matches_the_truth_table(cat, text, meaning) -> None:
    expected = {combo for combo in COMBOS if meaning(*combo)}
    assert selected(cat, expand(text)) == expected


def test_the_two_groupings_differ_on_this_data(cat) -> None:
    # Guards the fixture itself: if these were equal, the table above could not tell them apart.
    assert selected(cat, expand("a or b and c")) != selected(cat, expand("(a or b) and c"))
    assert selected(cat, expand("not a and b")) != selected(cat, expand("not (a and b)"))


@pytest.mark.parametrize("text", ["a or b", "not a or b", "a or b and c"])
def test_a_top_level_or_stays_inside_the_model_restriction(cat, text) -> None:
    # The filter is ANDed with 'model = m'; an unparenthesised OR would leak 'other' in.
    assert {r["model"] for r in cat.versions(cat.version_ids(model="m", filter=expand(text)))} \
        == {"m"}
    assert {r["model"] for r in cat.versions(cat.version_ids(model=None, filter=expand(text)))} \
        == {"m", "other"}


def test_parse_tree_shapes() -> None:
    tree = parse_filter(expand("a or b and c"))
    assert isinstance(tree, BoolOp) and tree.op == "or"
    assert isinstance(tree.terms[1], BoolOp) and tree.terms[1].op == "and"
    grouped = parse_filter(expand("not (a or b)"))
    assert isinstance(grouped, Not) and isinstance(grouped.term, BoolOp)
    assert grouped.term.op == "or" and len(grouped.term.terms) == 2
    flat = parse_filter(expand("a or b or c"))
    assert flat.op == "or" and len(flat.terms) == 3
