"""Making versions: ``register`` and ``tag``."""

from __future__ import annotations

import click

from .base import _open, cli, emit_json, fail, info, out


@cli.command()
@click.argument("model")
@click.option("--run", "run_ref", help="The run that made it (run:<id>).")
@click.option("--artifact", type=click.Path(exists=True), help="Model file or folder to hash.")
@click.option("--base", help="The version it was fine-tuned from.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def register(ctx: click.Context, model: str, run_ref: str | None, artifact: str | None,
             base: str | None, tags: tuple[str, ...], as_json: bool) -> None:
    """Register a new version of MODEL from a run and/or an artifact.

    \b
    mltui register fraud --run run:3f2a --artifact model.pkl
    """
    if run_ref is None and artifact is None:
        # A version with neither a run nor an artifact has no provenance and nothing to
        # deploy: it would only become the model's "latest" and mislead.
        fail(f"nothing to register for {model}: give the run that made it (--run run:<id>) "
             "and/or its artifact (--artifact PATH)")
    parsed = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"bad --tag {item!r}: write KEY=VALUE")
        parsed[key] = value
    with _open(ctx) as cat:
        row = cat.register(model, run=run_ref, artifact=artifact, base=base, tags=parsed)
    if as_json:
        return emit_json(row)
    info(f"registered {row['model']}@{row['version']} ({row['canonical_name']})")
    if row.get("remote_note"):
        info(row["remote_note"])
    out(f"{row['model']}@{row['version']}")




@cli.command()
@click.argument("ref")
@click.argument("key")
@click.argument("value", required=False)
@click.option("--remove", is_flag=True, help="Remove the tag.")
@click.pass_context
def tag(ctx: click.Context, ref: str, key: str, value: str | None, remove: bool) -> None:
    """Set (or --remove) a tag on a version.

    \b
    mltui tag fraud@7 approved-by risk-council
    mltui tag fraud@7 approved-by --remove
    """
    if value is None and not remove:
        fail("give a VALUE, or --remove to delete the tag")
    with _open(ctx) as cat:
        cat.set_tag(ref, key, None if remove else value)
    info(f"{'removed' if remove else 'set'} tag {key} on {ref}")
