"""A pull that fails leaves the catalog as it was: a server killed mid-pull, bad credentials."""

from __future__ import annotations

import requests

from mltui.core.catalog import open_catalog
from tests.cli.test_cli import run
from tests.conftest import snapshot_tables
from tests.remote.conftest import seed, wait_ready


def project_for(tmp_path, url):
    catalog = tmp_path / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (tmp_path / ".mltui" / "config.yaml").write_text(f"remotes:\n  team: {url}\n")
    return catalog


def test_server_killed_mid_pull_leaves_the_catalog_unchanged(tmp_path, monkeypatch, servers):
    from mlflow import MlflowClient

    server = wait_ready(servers["doomed"])
    try:
        made = seed(server.url, runs=1, steps=3)
        catalog = project_for(tmp_path / "project", server.url)
        assert run(["pull", "team"], catalog).exit_code == 0
        client = MlflowClient(server.url)  # a new run to fetch, and a moved alias
        first = client.get_run(made["runs"][0])
        new = client.create_run(first.info.experiment_id, run_name="later")
        client.log_metric(new.info.run_id, "f1", 0.9, step=1)
        client.set_registered_model_alias("fraud", "production", "1")
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


def test_bad_credentials_are_one_line_and_change_nothing(tmp_path, monkeypatch, servers):
    # MLflow's own basic-auth server: it hashes the password on every request (seconds each on
    # a loaded machine), so this test sends it one.
    auth_server = wait_ready(servers["auth"])
    try:
        catalog = project_for(tmp_path, auth_server.url)
        before = snapshot_tables(catalog)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
        result = run(["pull", "team"], catalog)
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "access refused (401)" in result.stderr
        assert "MLFLOW_TRACKING_PASSWORD" in result.stderr  # the hint says what to set
        assert snapshot_tables(catalog) == before
    finally:
        auth_server.stop()
