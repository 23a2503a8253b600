"""A real ``mlflow server`` for the remote tests: SQLite backend, artifacts in tmp, free port.

Starting one takes seconds, so the seeded server is shared by the session; tests that kill a
server start their own with :func:`start_server`.  Seeding uses the plain ``MlflowClient``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from mltui.core.catalog import open_catalog

mlflow = pytest.importorskip("mlflow")  # the `test` extra installs it (.ci/run)

STARTUP_SECONDS = 180  # a cold start on a loaded 2-core CI box


@dataclass
class Server:
    """A running ``mlflow server`` and where its files are."""

    url: str
    process: subprocess.Popen
    folder: Path
    log: Path

    @property
    def db(self) -> Path:
        """The server's SQLite backend store."""
        return self.folder / "mlflow.db"

    def stop(self) -> None:
        """Stop the server and every worker it started."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)  # its job-queue consumers linger; nothing to save
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def kill(self) -> None:
        """Kill the server at once (no clean shutdown): a crash mid-request."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ADMIN_PASSWORD = "s3cret-Passw0rd"  # the auth server's admin (tests only)


def launch_server(folder: Path, *, auth: bool = False) -> Server:
    """Start ``mlflow server`` on a free port without waiting for it (see :meth:`ready`).

    With ``auth`` it is MLflow's basic-auth app: user ``admin``, :data:`ADMIN_PASSWORD`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1",
               "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
               "--artifacts-destination", str(folder / "artifacts")]
    env = dict(os.environ)
    if auth:
        command[4:4] = ["--app-name", "basic-auth"]
        env.update(MLFLOW_AUTH_ADMIN_PASSWORD=ADMIN_PASSWORD,
                   MLFLOW_FLASK_SERVER_SECRET_KEY="tests-only")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env)
    return Server(f"http://127.0.0.1:{port}", process, folder, log)


def wait_ready(server: Server) -> Server:
    """Wait until the server's ``/health`` answers (it exiting or never answering is an error)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {server.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)  # polling the server's own readiness signal, not a timing guess
    server.stop()
    raise RuntimeError(f"mlflow server did not answer /health in {STARTUP_SECONDS}s")


def start_server(folder: Path, *, auth: bool = False) -> Server:
    """Start ``mlflow server`` on a free port and wait until it answers."""
    return wait_ready(launch_server(folder, auth=auth))


def seed(url: str, *, runs: int = 3, steps: int = 20, prefix: str = "") -> dict:
    """Experiments, runs (params, tags, metric histories, dataset inputs) and a registry."""
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    client = MlflowClient(url)
    made = {"runs": [], "models": []}
    base = 1_700_000_000_000
    for e, experiment in enumerate((f"{prefix}fraud-training", f"{prefix}churn")):
        eid = client.create_experiment(experiment, tags={"team": "risk"})
        for i in range(runs):
            run = client.create_run(eid, run_name=f"{experiment}-{i}",
                                    tags={"mlflow.source.git.commit": f"{i:040x}"},
                                    start_time=base + 1000 * (10 * e + i))
            rid = run.info.run_id
            metrics = [Metric("f1", 0.5 + 0.01 * s + 0.02 * i, base + s, s) for s in range(steps)]
            metrics += [Metric("loss", 1.0 / (s + 1), base + s, s) for s in range(steps)]
            client.log_batch(rid, metrics=metrics,
                             params=[Param("lr", str(0.1 / (i + 1))), Param("depth", str(i + 3))],
                             tags=[RunTag("owner", "risk-team")])
            client.log_inputs(rid, [DatasetInput(
                Dataset("transactions", f"d{e}g{i % 2}", "local",
                        '{"uri": "/data/transactions.csv"}', None, None),
                [InputTag("mlflow.data.context", "training")])])
            client.set_terminated(rid, end_time=base + 1000 * (10 * e + i) + 500)
            made["runs"].append(rid)
    for name in (f"{prefix}fraud", f"{prefix}churn"):
        client.create_registered_model(name, description=f"{name} classifier",
                                       tags={"domain": "risk"})
        for number, rid in enumerate(made["runs"][:3], start=1):
            client.create_model_version(name, f"runs:/{rid}/model", run_id=rid,
                                        description=f"{name} v{number}")
        count = len(made["runs"][:3])
        client.set_registered_model_alias(name, "production", str(min(2, count)))
        client.set_registered_model_alias(name, "staging", str(count))
        made["models"].append(name)
    return made


@pytest.fixture(scope="session")
def servers(tmp_path_factory) -> dict[str, Server]:
    """Every server the session needs, started at once (a start is seconds of imports, so
    they overlap): ``shared`` (seeded; tests that change it use their own model names),
    ``doomed`` (killed by a test) and ``auth`` (MLflow's basic-auth app)."""
    started = {name: launch_server(tmp_path_factory.mktemp(f"mlflow-{name}"),
                                   auth=name == "auth")
               for name in ("shared", "doomed", "auth")}
    try:
        yield started
    finally:
        for running in started.values():
            running.stop()


@pytest.fixture(scope="session")
def server(servers) -> Server:
    """The shared server, seeded once."""
    running = wait_ready(servers["shared"])
    seed(running.url)
    return running


@pytest.fixture
def project(tmp_path, server) -> Path:
    """A project whose config names the session server as remote ``team``; returns the catalog."""
    catalog = tmp_path / ".mltui" / "catalog.db"
    open_catalog(catalog, create=True).close()
    (tmp_path / ".mltui" / "config.yaml").write_text(f"remotes:\n  team: {server.url}\n")
    return catalog


@pytest.fixture(autouse=True)
def no_http_retries(monkeypatch):
    """A refused connection fails at once (MLflow's retries with backoff would cost seconds)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")


def own_model(url: str, name: str, versions: int = 3, production: int = 1) -> "object":
    """A registered model only one test uses (on the shared server), ``production`` set."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("fraud-training")
    runs = client.search_runs([experiment.experiment_id], max_results=versions)
    client.create_registered_model(name)
    for run in runs[:versions]:
        client.create_model_version(name, f"runs:/{run.info.run_id}/model",
                                    run_id=run.info.run_id)
    client.set_registered_model_alias(name, "production", str(production))
    return client
