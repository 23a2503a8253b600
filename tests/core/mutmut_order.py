"""A pytest plugin for mutmut runs only (``-p tests.core.mutmut_order`` in ``[tool.mutmut]
pytest_add_cli_args``): run first the tests that killed earlier mutants of the same function.

mutmut runs, for each mutant, the tests that call the mutated function, fastest first, and stops
at the first failure (``-x``).  A mutant is usually killed by the same few tests as the other
mutants of its function, but those are rarely the fastest: a mutant of the filter parser's
``comparison`` ran ~150 passing tests before the one that failed.  So each failure is recorded
(one line per failing test in ``mutants/mutmut-kills/<function>``), and the next mutant of that
function runs the tests that failed most often first, then the rest one test file at a time
(see below).  The same tests run, so a survivor is still run against every one of them; only
the order changes.  It also freezes the heap each run inherits from mutmut (see below).

Inactive outside a mutant's run (mutmut sets ``MUTANT_UNDER_TEST`` to ``<function>__mutmut_<n>``;
the stats and clean runs use other values).  It is not a test; pytest does not collect it.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from pathlib import Path

_KILLS: Path | None = None


def _function() -> str | None:
    """The mutated function of this run (``mltui.core.gates.x_evaluate``), or None."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant.rsplit("__mutmut_", 1)[0] if "__mutmut_" in mutant else None


def pytest_configure(config) -> None:
    """Remember where the kills are kept: ``mutmut-kills/`` in mutmut's working copy (the cwd).

    And freeze what the process holds: mutmut forks each mutant's run from its own process, which
    has run the whole selection and holds pandas, pytest and every test module.  A garbage
    collection would walk all of that in every run (and copy each page it touches); frozen
    objects are skipped, so a run's collections see only what its own tests made.
    """
    global _KILLS
    _KILLS = Path.cwd() / "mutmut-kills"
    gc.freeze()


def pytest_collection_modifyitems(session, config, items) -> None:
    """Tests that killed mutants of this function first, the rest one test file at a time.

    mutmut's fastest-first order (by the time of each test's body alone) interleaves the test
    files, and each switch tears down a file's module-scoped catalog (``cat`` in
    test_filter.py: five registered versions, every migration) to build it again at the next
    switch back: ~150 catalogs for a survivor of the filter parser's ``comparison``, 2.4 s of
    CPU; kept together, each file builds its catalog once, 0.38 s.  (Stable sorts: mutmut's
    order otherwise.)
    """
    function = _function()
    if function is None or _KILLS is None:
        return
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item.nodeid.split("::")[0], index)
    items.sort(key=lambda item: first_seen[item.nodeid.split("::")[0]])
    try:
        kills = Counter((_KILLS / function).read_text().splitlines())
    except OSError:
        return
    items.sort(key=lambda item: -kills[item.nodeid])


def pytest_runtest_logreport(report) -> None:
    """Record a failing test against the mutated function (one short O_APPEND write: safe with
    the other worker writing too)."""
    function = _function()
    if function is None or _KILLS is None or not report.failed:
        return
    _KILLS.mkdir(exist_ok=True)
    fd = os.open(_KILLS / function, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (report.nodeid + "\n").encode())
    finally:
        os.close(fd)
