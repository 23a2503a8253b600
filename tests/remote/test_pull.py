"""``mltui remote`` and ``mltui pull`` against a real ``mlflow server`` (tests/remote/conftest)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests

from mltui.core.catalog import open_catalog
from tests.cli.test_cli import run
from tests.conftest import snapshot_tables


@pytest.fixture
def count_requests(monkeypatch):
    """Every HTTP request the MLflow client sends in this process: (method, url, auth)."""
    sent: list[tuple[str, str]] = []
    real = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        # An app test's follower may still finish a pull on its own thread: not ours to count.
        if not threading.current_thread().name.startswith("mltui-pull"):
            sent.append((method, url, (kwargs.get("headers") or {}).get("Authorization")))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    return sent


def pull_json(catalog: Path, *args: str) -> dict:
    result = run(["pull", "team", "--json", *args], catalog)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_remote_add_and_ls(tmp_path):
    catalog = tmp_path / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (tmp_path / ".mltui" / "config.yaml").write_text("# team settings\ncolumns: {}\n")
    result = run(["remote", "add", "team", "http://127.0.0.1:5000/"], catalog)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / ".mltui" / "config.yaml").read_text()
    assert "# team settings" in text and 'team: "http://127.0.0.1:5000"' in text
    listed = run(["remote", "ls", "--json"], catalog)
    assert json.loads(listed.stdout) == [{"name": "team", "url": "http://127.0.0.1:5000",
                                          "pulled_at": None, "models": []}]
    assert "never pulled" in run(["remote", "ls"], catalog).stdout


def test_remote_add_refuses_credentials_in_the_url(tmp_path):
    catalog = tmp_path / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    result = run(["remote", "add", "team", "https://alice:secret@mlflow.example.com"], catalog)
    assert result.exit_code == 2
    assert "MLFLOW_TRACKING_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / ".mltui" / "config.yaml").exists()


def test_pull_counts_equal_the_servers_own_searches(project, server):
    from mlflow import MlflowClient

    summary = pull_json(project)
    client = MlflowClient(server.url)
    experiments = [e.experiment_id for e in client.search_experiments()]
    server_runs = client.search_runs(experiments)
    server_versions = client.search_model_versions()
    assert summary["runs_new"] == len(server_runs) > 0
    assert summary["versions_new"] == len(server_versions) > 0
    assert summary["points"] == sum(len(client.get_metric_history(r.info.run_id, key))
                                    for r in server_runs for key in r.data.metrics)
    with open_catalog(project) as cat:
        for model in client.search_registered_models():
            for alias, number in model.aliases.items():
                holder = cat.stage_holder(model.name, alias)
                assert cat.ref_of(holder) == f"{model.name}@{number}"
        run_row = cat._read("SELECT id FROM runs WHERE uid = ?", [server_runs[0].info.run_id])
        assert run_row, "the server's run ids are the catalog's run uids"


def test_second_pull_of_an_unchanged_server_costs_three_requests(project, count_requests):
    pull_json(project)
    count_requests.clear()
    summary = pull_json(project)
    assert summary["runs_new"] == summary["runs_updated"] == summary["versions_new"] == 0
    assert summary["runs_unchanged"] > 0
    # experiments, runs started since the watermark, registered models: no history, no version
    assert len(count_requests) == 3, count_requests
    assert not any("get-history" in url or "model-versions" in url
                   for _, url, _auth in count_requests)


def test_credentials_come_from_mlflows_environment_variables(project, count_requests,
                                                             monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0ken-from-env")
    pull_json(project)
    assert count_requests and all(auth == "Bearer t0ken-from-env"
                                  for _, _, auth in count_requests)
    text = (project.parent / "config.yaml").read_text()
    assert "t0ken" not in text and b"t0ken" not in project.read_bytes()


def test_a_pulled_run_equals_the_same_run_read_from_the_servers_own_store(project, server,
                                                                          tmp_path):
    pull_json(project)
    local = tmp_path / "from-db.db"
    result = run(["import", str(server.db), "--json"], local)
    assert result.exit_code == 0, result.stderr
    columns = "uid, name, project, status, start_time, end_time, git_commit"
    with open_catalog(project) as pulled, open_catalog(local) as read:
        assert pulled._read(f"SELECT {columns} FROM runs ORDER BY uid") == \
            read._read(f"SELECT {columns} FROM runs ORDER BY uid")
        for table in ("params", "run_tags", "metric_summary"):
            query = (f"SELECT r.uid, t.* FROM {table} t JOIN runs r ON r.id = t.run_id")
            strip = lambda rows: sorted(repr({k: v for k, v in row.items() if k != "run_id"})
                                        for row in rows)
            assert strip(pulled._read(query)) == strip(read._read(query)), table
        datasets = "SELECT name, hash_algo, hash FROM dataset_versions ORDER BY name, hash"
        assert pulled._read(datasets) == read._read(datasets)


def test_unreachable_server_is_one_line_and_changes_nothing(project, tmp_path):
    (project.parent / "config.yaml").write_text("remotes:\n  team: http://127.0.0.1:9\n")
    before = snapshot_tables(project)
    result = run(["pull", "team"], project)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "cannot connect" in result.stderr and "nothing was changed" in result.stderr
    assert snapshot_tables(project) == before


def test_unknown_remote_is_one_line(project):
    result = run(["pull", "nosuch"], project)
    assert result.exit_code == 2 and "no remote 'nosuch'" in result.stderr


def test_a_remote_re_pointed_at_another_server_is_refused(project, server):
    pull_json(project)
    (project.parent / "config.yaml").write_text("remotes:\n  team: http://127.0.0.1:9\n")
    before = snapshot_tables(project)
    result = run(["pull", "team"], project)
    assert result.exit_code == 2 and f"was pulled from {server.url}" in result.stderr
    assert snapshot_tables(project) == before
