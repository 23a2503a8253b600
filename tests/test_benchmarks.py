"""The benchmarks cannot rot: a small-scale run checks every answer (no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke_run_gets_every_answer_right() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke",
                             "--mlflow-python", sys.executable if _has_mlflow() else "/nonexistent"],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WRONG ANSWER" not in output and "all answers right" in output
    for figure in ("import mlruns/", "filter + sort, first page", "lineage of one version",
                   "promote, committed", "rollback, committed", "mltui --help", "app first screen",
                   "key press to screen update", "bytes per cursor move",
                   "ratio: app start / minimal Textual app, demo catalog",
                   "ratio: mltui ls / python -c pass", "ratio: mltui --version / python -c pass",
                   "import mlflow: full-precision random floats, no git tags",
                   "import lightning CSV, sparse rows", "import tensorboard event files",
                   "import hf trainer_state.json", "ratio: fastest shape / slowest shape",
                   "cost growth", "app memory, all versions listed",
                   "Docs first open, e to the text painted"):
        assert figure in output, f"{figure!r} was not measured:\n{output}"


def _has_mlflow() -> bool:
    return subprocess.run([sys.executable, "-c", "import mlflow"], capture_output=True).returncode == 0


def test_generator_is_deterministic(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import sqlite3

    import generate

    digests = []
    for name in ("a.db", "b.db"):
        generate.generate(tmp_path / name, versions=60, models=3, steps=3, curve_steps=5,
                          progress=lambda *_: None)
        conn = sqlite3.connect(str(tmp_path / name))
        digests.append([conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                        for t in ("model_versions", "metric_series", "params", "stage_history")])
        # Raw inserts, no API: the triggers still keep each model's stored version count.
        assert conn.execute("SELECT name, version_count FROM models ORDER BY name").fetchall() == \
            conn.execute("SELECT mo.name, count(v.id) FROM models mo LEFT JOIN model_versions v "
                         "ON v.model_id = mo.id GROUP BY mo.id ORDER BY mo.name").fetchall()
        conn.close()
    assert digests[0] == digests[1]


def test_watch_benchmark_smoke_gets_every_answer_right() -> None:
    """Following growing runs: the app and ``mltui watch`` in a pty, every point once."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "watch.py"), "--runs", "3",
                             "--seconds", "1", "--repeat", "1"],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WRONG ANSWER" not in output and "all answers right" in output
    for figure in ("app, Runs screen, 3 growing runs", "app, Runs screen, 3 runs, nothing changes",
                   "app, live run view, 3 runs, nothing changes", "app, write → live run view",
                   "mltui watch, 3 growing runs", "mltui watch, 3 runs, nothing changes",
                   "mltui watch, write → table"):
        assert figure in output, f"{figure!r} was not measured:\n{output}"


def test_grown_logs_benchmark_smoke_gets_every_answer_right() -> None:
    """Bytes parsed per watch pass of a grown log: every format, the followed run equal to a
    full import."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grown_logs.py"),
                             "--lines", "400", "--grow", "20", "--passes", "1"],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WRONG ANSWER" not in output and "all answers right" in output
    for kind in ("jsonl", "csv", "lightning", "keras", "ultralytics", "mlflow", "tensorboard"):
        assert f"| {kind} |" in output, f"{kind!r} was not measured:\n{output}"


def test_measured_processes_write_and_reuse_bytecode(tmp_path: Path, monkeypatch) -> None:
    """A shell's PYTHONDONTWRITEBYTECODE=1 must not reach the measured processes: the pty
    launcher lays their environment over the caller's, so the key must be overridden, not
    dropped (else every start compiles every module, ~1 s here, app and floor alike)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import startup

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = startup.process_env(tmp_path)
    spawned = {**os.environ, **env}  # what terminal.spawn hands exec
    probe = subprocess.run([sys.executable, "-c", "import sys; print(sys.dont_write_bytecode)"],
                           env=spawned, capture_output=True, text=True)
    assert probe.stdout.strip() == "False"
    assert spawned["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")
