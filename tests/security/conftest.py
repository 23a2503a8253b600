"""The hostile-input suite's big version is marked ``slow``: ``python -m pytest -m slow
tests/security`` runs it; the default run (which deselects ``slow``) keeps the property tests to
a few examples each."""
