"""From promotion to production: hook reports, ``checkout``, ``observe`` and ``monitor``.

``promote`` and ``rollback`` (cli/stages.py) print their hooks through :func:`report_hooks`:
a failed ``after`` hook leaves the change in place and exits 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .base import EXIT_FAILED, _open, cli, emit_json, info, out


def print_hook_runs(runs: list[dict[str, Any]]) -> None:
    """One line per hook run (ok/FAIL, phase, command, exit, duration), a failure's last lines."""
    for run in runs:
        mark = "ok" if run["ok"] else "FAIL"
        how = "timed out" if run["timed_out"] else f"exit {run['exit_code']}"
        info(f"  hook {mark:4} {run['phase']:6} {' '.join(run['command'])}  ({how}, "
             f"{run['duration']:.2f} s)")
        if not run["ok"]:
            for line in run["tail"][-5:]:
                info(f"      | {line}")


def report_hooks(result: dict[str, Any], as_json: bool) -> None:
    """Print a stage change's hook runs; exit 1 when one failed (the change stays)."""
    if not as_json:
        print_hook_runs(result.get("hooks", []))
    if result.get("hooks_failed"):
        info(f"warning: the change is in place but {result['hooks_failed'][0]}; roll back "
             "with: mltui rollback MODEL --stage STAGE")
        sys.exit(EXIT_FAILED)


@cli.command()
@click.argument("ref")
@click.option("--to", "to", required=True, metavar="DIR",
              help="Folder to hold the artifact and its manifest (e.g. the serving folder).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def checkout(ctx: click.Context, ref: str, to: str, as_json: bool) -> None:
    """Copy a version's artifact to DIR, atomically, with its hash verified and a manifest.

    Does nothing when DIR already holds that exact version. In an after hook:

    \b
    mltui checkout "$MLTUI_MODEL@$MLTUI_VERSION" --to /srv/models/fraud
    """
    with _open(ctx) as cat:
        result = cat.checkout(ref, to)
    if as_json:
        return emit_json(result)
    if result["changed"]:
        info(f"checked out {result['ref']} to {result['path']} (hash verified)")
    else:
        info(f"{to} already holds {result['ref']}; nothing changed")
