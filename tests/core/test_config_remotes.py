"""``remotes:`` in the project config: names and URLs only, checked, never credentials."""

from __future__ import annotations

import pytest

from mltui.core.config import load_config, parse_config, save_remote
from mltui.core.errors import InvalidInput


@pytest.mark.parametrize("text, message", [
    ("remotes: [a]", "remotes: must be a mapping"),
    ("remotes: {team: ftp://x}", "remotes.team: must be an http:// or https:// URL"),
    ("remotes: {9team: http://x}", "remotes.9team: not a remote name"),
    ("remotes: {team: 'https://bob:pw@host'}", "remotes.team: must not hold credentials"),
])
def test_bad_remotes_name_the_key(tmp_path, text, message):
    with pytest.raises(InvalidInput) as info:
        parse_config(text, tmp_path / "config.yaml")
    assert message in info.value.one_line()


def test_save_remote_keeps_the_rest_of_the_file(tmp_path):
    catalog = tmp_path / "catalog.db"
    (tmp_path / "config.yaml").write_text(
        "# hooks for prod\nhooks:\n  timeout: 5\nremotes:\n  old: http://a\n\n# columns\n"
        "columns: {}\n")
    save_remote(catalog, "team", "https://mlflow.example.com/")
    save_remote(catalog, "old", "http://b")
    text = (tmp_path / "config.yaml").read_text()
    assert "# hooks for prod" in text and "# columns" in text and "timeout: 5" in text
    assert load_config(catalog).remotes == {"old": "http://b",
                                            "team": "https://mlflow.example.com"}
    with pytest.raises(InvalidInput):
        save_remote(catalog, "bad", "https://u:p@host")
    assert "u:p" not in (tmp_path / "config.yaml").read_text()
