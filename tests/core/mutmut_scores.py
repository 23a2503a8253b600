"""Per-module mutation scores from mutmut's result files (docs/testing.md).

Run after ``mutmut run`` from the checkout: ``python tests/core/mutmut_scores.py [module.meta…]``
(``--reset-survivors`` to have the next ``mutmut run`` test only the survivors again).  Prints, for
each mutated module, killed / checked / all mutants and the survivors, and separates one class
of *equivalent* mutants that no test can kill: a case change (``"SELECT id FROM runs"`` →
``"select id from runs"`` or ``"SELECT ID FROM RUNS"``, ``"model_id = ?"`` → ``"MODEL_ID = ?"``)
of a SQL string outside its quoted literals.  SQLite reads keywords and identifiers case-insensitively, so such a mutant runs the
same query.  A case change that touches a quoted SQL literal (``'version'``, a GLOB pattern) is
not equivalent and stays a survivor.

It reads ``mutants/<module>.py`` (mutmut's copy, holding every mutant as a function next to the
original ``…__mutmut_orig``) and ``mutants/<module>.py.meta`` (exit code per mutant: 1 killed,
0 survived, 5/33 no test ran it, None not run yet; anything else is a failed test run, a timeout
or a crash, counted as killed).  It is not a test; pytest does not collect it.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|ORDER BY|WHERE|FROM|JOIN|LEFT JOIN|"
                       r"AND|OR|ON|VALUES|GROUP BY|LIMIT|CREATE|DROP|ALTER|PRAGMA)\b",
                       re.IGNORECASE)
SQL_PART = re.compile(r"\w = \?|\?\s*$|\bAS \w|\bIS (NOT )?NULL\b|\b(JOIN|FROM|WHERE)\b")
QUOTED = re.compile(r"'[^']*'")


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Every (possibly nested in a class) function of mutmut's copy, by name."""
    found: dict[str, ast.FunctionDef] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
    return found


def _body(function: ast.AST) -> ast.Module:
    return ast.Module(body=function.body, type_ignores=[])


def _strings(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _sql_case_only(original: ast.AST, mutant: ast.AST) -> bool:
    """True when two functions differ only by a case change of SQL strings outside quotes."""
    before, after = _body(original), _body(mutant)
    if ast.dump(_lowered(before)) != ast.dump(_lowered(after)):
        return False  # something other than letter case changed
    pairs = [(a, b) for a, b in zip(_strings(before), _strings(after)) if a != b]
    return bool(pairs) and all(
        (SQL_START.match(a) or SQL_PART.search(a)) and QUOTED.findall(a) == QUOTED.findall(b)
        for a, b in pairs)


def _lowered(tree: ast.AST) -> ast.AST:
    """A copy of ``tree`` with every string constant lower-cased."""
    copy = ast.parse(ast.unparse(tree))
    for node in ast.walk(copy):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = node.value.lower()
    return copy


def score(module_path: Path) -> dict:
    """Counts for one mutated module (``mutants/mltui/core/refs.py``)."""
    meta = json.loads(Path(str(module_path) + ".meta").read_text())["exit_code_by_key"]
    functions = _functions(ast.parse(module_path.read_text()))
    killed, survived, equivalent, unchecked = [], [], [], []
    for key, code in meta.items():
        if code is None:
            unchecked.append(key)
        elif code in (0, 5, 33):  # survived, or no test ran it
            name = key.rsplit(".", 1)[-1]
            mutant = functions.get(name)
            original = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
            if mutant is not None and original is not None and _sql_case_only(original, mutant):
                equivalent.append(key)
            else:
                survived.append(key)
        else:  # failed tests (1, 3), a timeout or a crash: the mutant was caught
            killed.append(key)
    return {"killed": killed, "survived": survived, "equivalent": equivalent,
            "unchecked": unchecked, "all": len(meta)}


def reset_survivors(meta_path: Path) -> int:
    """Mark a module's survivors "not run", so the next ``mutmut run`` tests them again.

    The SQL letter-case equivalents are left alone: no test can kill them.

    mutmut re-tests only mutants of functions whose source changed; after adding tests this
    re-tests just the survivors instead of the whole module (kills made by fewer tests stay
    kills with more).  Returns how many were reset.
    """
    data = json.loads(meta_path.read_text())
    codes = data["exit_code_by_key"]
    equivalent = set(score(Path(str(meta_path).removesuffix(".meta")))["equivalent"])
    survivors = [key for key, code in codes.items() if code in (0, 5, 33) and key not in equivalent]
    for key in survivors:
        codes[key] = None
    meta_path.write_text(json.dumps(data))
    return len(survivors)


def main(argv: list[str]) -> int:
    """Print the table of docs/testing.md for the modules given (default: all mutated ones).

    ``--reset-survivors`` first marks the survivors of those modules "not run" (see
    :func:`reset_survivors`).
    """
    reset = "--reset-survivors" in argv
    argv = [a for a in argv if a != "--reset-survivors"]
    root = Path("mutants")
    paths = [root / p for p in argv] or sorted(root.glob("mltui/**/*.py.meta"))
    if reset:
        for path in paths:
            print(f"{path}: {reset_survivors(path)} survivors will be tested again")
        return 0
    for path in paths:
        module = Path(str(path).removesuffix(".meta"))
        counts = score(module)
        checked = counts["all"] - len(counts["unchecked"])
        scored = checked - len(counts["equivalent"])
        pct = 100.0 * len(counts["killed"]) / scored if scored else 0.0
        print(f"{module.relative_to(root)}: {len(counts['killed'])} killed / {scored} "
              f"({pct:.1f}%); {len(counts['equivalent'])} SQL-case equivalents; "
              f"{len(counts['unchecked'])} of {counts['all']} not run")
        for key in counts["survived"]:
            print(f"    survived: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
