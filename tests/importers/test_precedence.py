"""Which format reads a folder that several formats recognise, and how the import says what it
left out (issue 8, item 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

from mltui.services.discovery import read_paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_text_log_beside_an_events_copy_wins_and_the_copy_is_reported(tmp_path: Path):
    """Lightning's CSVLogger and TensorBoardLogger share ``lightning_logs/version_0``."""
    run_dir = tmp_path / "lightning_logs" / "version_0"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.csv").write_text("epoch,step,train_loss\n0,9,0.5\n0,19,0.25\n")
    (run_dir / "hparams.yaml").write_text("lr: 0.001\n")
    events = sorted((FIXTURES / "tensorboard" / "restart").iterdir())[0]
    shutil.copy(events, run_dir / events.name)
    result = read_paths([tmp_path])
    assert [b.source_format for b in result.batches] == ["lightning"]
    (note,) = result.merged
    assert str(run_dir) in note and "not as tensorboard" in note


def test_an_events_file_named_on_the_command_line_reads_its_log_dir():
    events = sorted((FIXTURES / "tensorboard" / "restart").iterdir())[0]
    result = read_paths([events])
    assert [b.source_format for b in result.batches] == ["tensorboard"]
    assert result.batches[0].runs[0].source_path == str(events.parent)
