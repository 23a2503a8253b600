"""The app's start reads only the config sections it needs (``config_file.load_sections``): a
file that cannot hold them is not parsed (no YAML import on the start path), and is validated
later by ``check_unread``."""

from __future__ import annotations

import pytest

import mltui.core.config as config_module
from mltui.core.config import check_unread, load_config, may_hold
from mltui.core.config_file import load_sections
from mltui.core.errors import InvalidInput

# The demo's config: a quoted command whose escapes (\" \t) make no letter.
HOOKS_ONLY = ('hooks:\n  timeout: 30\n  stages:\n    production:\n      after:\n'
              '        - ["sh", "-c", "exec \\"$0\\" -m mltui checkout\\t\\"$MLTUI_REF\\"", "py"]\n')


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The texts ``parse_config`` is called with from now on."""
    calls: list[str] = []
    parse = config_module.parse_config

    def counting(text, path):
        calls.append(text)
        return parse(text, path)

    monkeypatch.setattr(config_module, "parse_config", counting)
    return calls


def test_a_config_without_the_sections_is_not_parsed(tmp_path, parses) -> None:
    (tmp_path / "config.yaml").write_text(HOOKS_ONLY)
    assert load_sections(tmp_path / "catalog.db", ("columns", "watch")) is None
    assert parses == []
    assert load_config(tmp_path / "catalog.db").hooks_for("production", "after")  # in full


@pytest.mark.parametrize("text", [
    "columns:\n  fraud:\n    metrics: [f1]\n",
    "{watch: {paths: [runs/]}}\n",
    '"\\x63olumns": {fraud: {metrics: [f1]}}\n',  # a key spelled with escapes: parsed
    "hooks: {timeout: 5}  # see the columns chooser\n",  # the word anywhere: parsed
    '? "col\\\n  umns"\n: {fraud: {metrics: [f1]}}\n',  # an escaped line break joins it
    '"\\u0077atch": {paths: [runs/]}\n',
])
def test_a_config_that_may_hold_them_is_parsed(tmp_path, parses, text) -> None:
    (tmp_path / "config.yaml").write_text(text)
    load_sections(tmp_path / "catalog.db", ("columns", "watch"))
    assert parses == [text]


def test_an_escaped_key_is_read_as_the_section(tmp_path) -> None:
    (tmp_path / "config.yaml").write_text('"\\x63olumns": {fraud: {metrics: [f1]}}\n')
    assert load_sections(tmp_path / "catalog.db", ("columns",)).columns == {
        "fraud": ("f1",)}


def test_check_unread_validates_what_the_start_passed_over(tmp_path) -> None:
    catalog = tmp_path / "catalog.db"
    check_unread(catalog, ("columns",))  # no file: nothing to say
    (tmp_path / "config.yaml").write_text("hooks:\n  timeout: -1\n")
    assert load_sections(catalog, ("columns",)) is None  # passed over at start
    with pytest.raises(InvalidInput, match="hooks.timeout"):
        check_unread(catalog, ("columns",))
    (tmp_path / "config.yaml").write_text("columns: [f1]\n")  # read (and said) at start
    check_unread(catalog, ("columns",))


def test_may_hold() -> None:
    import yaml

    assert not may_hold(HOOKS_ONLY, ("columns", "watch"))
    assert yaml.safe_load(HOOKS_ONLY)["hooks"]["stages"]["production"]["after"][0][2] == \
        'exec "$0" -m mltui checkout\t"$MLTUI_REF"'
    assert yaml.safe_load('? "col\\\n  umns"\n: 1\n') == {"columns": 1}
    assert may_hold("watch: {paths: [a]}", ("columns", "watch"))
    assert not may_hold('"a\\tb": 1', ("columns",))
