"""Documentation: ``doc``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .base import _open, cli, emit_json, fail, info, out


@cli.command()
@click.argument("ref")
@click.option("--set", "set_file", metavar="FILE", help="Save FILE ('-' for stdin) as a new revision.")
@click.option("--edit", is_flag=True, help="Edit in $EDITOR and save a revision.")
@click.option("--model", "is_model", is_flag=True, help="REF is a model: its own documentation.")
@click.option("--rev", type=click.IntRange(-2**63, 2**63 - 1), help="Print this revision.")
@click.option("--revisions", is_flag=True, help="List the revisions.")
@click.option("--diff", nargs=2, type=click.IntRange(-2**63, 2**63 - 1), metavar="A B", help="Diff two revisions.")
@click.option("--message", "-m", help="A note for the revision.")
@click.option("--card", is_flag=True,
              help="The model card: docs, metrics vs the previous production version, lineage, "
                   "gates, stage history.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True, help="The card's format.")
@click.option("--out", "-o", "out_file", metavar="FILE", help="Write the card to FILE.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def doc(ctx: click.Context, ref: str, set_file: str | None, edit: bool, is_model: bool,
        rev: int | None, revisions: bool, diff: tuple[int, int] | None, message: str | None,
        card: bool, fmt: str, out_file: str | None, as_json: bool) -> None:
    """Print, set or edit the documentation of a version (or, with --model, a model).

    \b
    mltui doc fraud@3
    mltui doc fraud@3 --set notes.md -m "after the Q3 review"
    mltui doc fraud@3 --diff 1 2
    mltui doc fraud@3 --card -o fraud-3-card.md
    """
    if card:
        return _card(ctx, ref, fmt, out_file, as_json)
    if (fmt != "markdown" or out_file) and not card:
        fail("--format and --out are for the model card: add --card")
    kind = "model" if is_model else "version"
    with _open(ctx) as cat:
        if set_file is not None:
            text = _read_doc_file(set_file)
            result = cat.set_doc(ref, text, base_rev=None, kind=kind, message=message)
            return emit_json(result) if as_json else info(
                f"saved {result['target']} documentation revision {result['rev']}"
                if result["changed"] else f"{result['target']}: unchanged (revision {result['rev']})")
        if edit:
            current = cat.get_doc(ref, kind=kind)
            edited = click.edit(current["text"], extension=".md")
            if edited is None or edited == current["text"]:
                return info("no change; nothing saved")
            result = cat.set_doc(ref, edited, base_rev=current["rev"], kind=kind, message=message)
            return info(f"saved {result['target']} documentation revision {result['rev']}")
        if revisions:
            rows = cat.doc_revisions(ref, kind=kind)
            if as_json:
                return emit_json(rows)
            from ..display import fmt_time

            for row in rows:
                out(f"rev {row['rev']:>3}  {fmt_time(row['at'])}  {row['author']}  "
                    f"{row['chars']} chars  {row['message'] or ''}")
            return
        if diff:
            patch = cat.doc_diff(ref, diff[0], diff[1], kind=kind)
            return out(patch[:-1] if patch.endswith("\n") else patch, multiline=True) if patch else None
        current = cat.get_doc(ref, kind=kind, rev=rev)
    if as_json:
        return emit_json(current)
    text = current["text"]
    out(text[:-1] if text.endswith("\n") else text, multiline=True)
    if current["is_template"]:
        info("(no documentation yet: this is the template; save one with --set or --edit)")


def _card(ctx: click.Context, ref: str, fmt: str, out_file: str | None, as_json: bool) -> None:
    from ..services.card import card_html, card_markdown, model_card

    with _open(ctx) as cat:
        data = model_card(cat, ref)
    if as_json:
        return emit_json(data)
    text = card_markdown(data)
    if fmt == "html":
        text = card_html(text, f"Model card: {data['ref']}")
    if out_file is None:
        return click.echo(text, nl=False)
    try:
        Path(out_file).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror or exc}")
    info(f"wrote the model card of {data['ref']} to {out_file}")


def _read_doc_file(path: str) -> str:
    """The documentation in FILE ('-': stdin) as text; a FIFO, device or non-UTF-8 is refused."""
    from ..core.errors import InvalidInput
    from ..core.safefile import read_bytes

    try:
        data = sys.stdin.buffer.read() if path == "-" else read_bytes(path)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{'stdin' if path == '-' else path} is not UTF-8 text",
                           hint="documentation is Markdown text") from None
