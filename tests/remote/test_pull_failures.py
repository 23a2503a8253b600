"""A pull that fails leaves the catalog as it was: a server killed mid-pull, bad credentials."""

from __future__ import annotations

import pytest
import requests

from mltui.core.catalog import open_catalog
from tests.cli.test_cli import run
from tests.conftest import snapshot_tables
from tests.remote.conftest import ADMIN_PASSWORD, seed, start_server


def project_for(tmp_path, url):
    catalog = tmp_path / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (tmp_path / ".mltui" / "config.yaml").write_text(f"remotes:\n  team: {url}\n")
    return catalog


def test_server_killed_mid_pull_leaves_the_catalog_unchanged(tmp_path, monkeypatch):
    server = start_server(tmp_path / "server")
    try:
        seed(server.url, runs=2, steps=5)
        catalog = project_for(tmp_path / "project", server.url)
        assert run(["pull", "team"], catalog).exit_code == 0
        seed(server.url, runs=2, steps=5, prefix="later-")  # new runs and models to fetch
        before = snapshot_tables(catalog)
        real = requests.Session.request

        def kill_on_first_history(self, method, url, *args, **kwargs):
            if "get-history" in url:  # the listing is in; the histories are next
                server.kill()
            return real(self, method, url, *args, **kwargs)

        monkeypatch.setattr(requests.Session, "request", kill_on_first_history)
        result = run(["pull", "team"], catalog)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "cannot connect" in result.stderr
        assert snapshot_tables(catalog) == before
    finally:
        server.stop()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("auth-server"), auth=True)
    yield server
    server.stop()


def test_bad_credentials_are_one_line_and_change_nothing(tmp_path, auth_server, monkeypatch):
    catalog = project_for(tmp_path, auth_server.url)
    before = snapshot_tables(catalog)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
    result = run(["pull", "team"], catalog)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "access refused (401)" in result.stderr and "MLFLOW_TRACKING_PASSWORD" in result.stderr
    assert snapshot_tables(catalog) == before


def test_credentials_come_from_mlflows_environment_variables(tmp_path, auth_server,
                                                             monkeypatch):
    catalog = project_for(tmp_path, auth_server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    result = run(["pull", "team"], catalog)
    assert result.exit_code == 0, result.stderr
    assert ADMIN_PASSWORD not in (tmp_path / ".mltui" / "config.yaml").read_text()
    assert ADMIN_PASSWORD.encode() not in catalog.read_bytes()
