"""Keys that cannot drift: the config is checked, and the README, `?` and `mltui keys` agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from mltui.cli import cli
from mltui.tui.keymap import all_bindings, load_keymap, markdown_table, validate_keymap
from tests.tui.conftest import make_app, settle

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_key_table_is_the_apps_bindings():
    text = README.read_text()
    section = re.search(r"<!-- keys:start -->\n(.*?)<!-- keys:end -->", text, re.S)
    assert section, "README lost its generated key table"
    assert section.group(1) == markdown_table(), (
        "README's key table is stale: run `python -m mltui.tui.keymap` and paste it")


def test_every_binding_has_a_unique_id_and_a_description():
    bindings = all_bindings()
    assert len(bindings) > 40
    assert all(info.description for info in bindings.values())


async def test_help_lists_every_key_of_the_screen(tui_catalog):
    from mltui.tui.screens.browse import BrowseScreen
    from mltui.tui.screens.help import HelpScreen

    app = make_app(tui_catalog)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.keys_table()
        listed = {str(cell) for cell in table.columns[1].cells}
    own = [b for b in all_bindings().values() if b.owner == BrowseScreen.__name__]
    assert own
    missing = [b.id for b in own if b.description not in listed]
    assert not missing, f"? does not list {missing}"


def test_unknown_id_names_the_nearest_valid_one():
    good, problems = validate_keymap({"browse.promte": "P"}, {"browse.promte": 7})
    assert good == {}
    assert problems[0].line == 7
    assert "did you mean browse.promote" in problems[0].message


def test_unknown_key_name_is_refused():
    good, problems = validate_keymap({"browse.promote": "ctrl+nosuchkey"})
    assert good == {} and "unknown key name" in problems[0].message
    good, problems = validate_keymap({"browse.promote": "W", "browse.sort": "question_mark,f5"})
    assert problems == [] and good == {"browse.promote": "W", "browse.sort": "question_mark,f5"}


def test_two_actions_on_one_key_of_one_screen_are_refused():
    good, problems = validate_keymap({"browse.docs": "p"})
    assert good == {}
    assert "already does browse.promote" in problems[0].message
    # A swap is fine: neither key is still taken by its default.
    good, problems = validate_keymap({"browse.docs": "p", "browse.promote": "e"})
    assert problems == [] and good == {"browse.docs": "p", "browse.promote": "e"}
    # The same key on two different screens is fine too.
    good, problems = validate_keymap({"runs.register": "x"})
    assert problems == []


def test_config_lines_are_named(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("theme: dark\nkeymap:\n  browse.promote: W\n  browse.promte: Q\n")
    keymap, notices = load_keymap(config)
    assert keymap == {"browse.promote": "W"}
    assert notices == [f"{config}:4: unknown binding id 'browse.promte'; did you mean browse.promote?"]


async def test_a_bad_keymap_entry_is_a_notice_and_the_rest_applies(tui_catalog, tmp_path, monkeypatch):
    from mltui.tui.app import MltuiApp
    from mltui.tui.screens.promote import PromoteDialog

    config = tmp_path / "config.yaml"
    config.write_text("keymap:\n  browse.promote: W\n  browse.promte: Q\n")
    monkeypatch.setenv("MLTUI_CONFIG", str(config))
    app = MltuiApp(tui_catalog, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("did you mean browse.promote" in str(n.message) for n in app._notifications)
        await pilot.press("W")
        await settle(pilot)
        assert isinstance(app.screen, PromoteDialog)


def test_mltui_keys_prints_the_effective_keymap(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("keymap:\n  browse.promote: W\n")
    monkeypatch.setenv("MLTUI_CONFIG", str(config))
    result = CliRunner().invoke(cli, ["keys", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(all_bindings())
    assert rows["browse.promote"]["keys"] == "W" and rows["browse.promote"]["default"] == "p"
