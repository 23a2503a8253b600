"""Credential parameters: values redacted, keys kept; ordinary names that contain "token" kept
(issue 8, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mltui.importers.common import REDACTED, is_secret_param, redact_secret
from mltui.services.discovery import read_paths


@pytest.mark.parametrize("key", ["hub_token", "push_to_hub_token", "token", "password",
                                 "wandb_api_key", "WANDB_API_KEY", "apiKey", "aws_secret_access_key",
                                 "db.password", "secret", "access_token", "private_key"])
def test_credential_names_are_secret(key):
    assert is_secret_param(key)


@pytest.mark.parametrize("key", ["average_tokens_across_devices", "include_num_input_tokens_seen",
                                 "max_tokens", "num_tokens", "pad_token", "eos_token",
                                 "tokenizer_name", "hub_private_repo", "secretary_count",
                                 "keyboard", "max_new_tokens"])
def test_ordinary_names_are_not_secret(key):
    assert not is_secret_param(key)


def test_values_are_redacted_but_placeholders_and_flags_kept():
    assert redact_secret("hub_token", "hf_abcdef") == REDACTED
    assert redact_secret("hub_token", "<HUB_TOKEN>") == "<HUB_TOKEN>"
    assert redact_secret("use_auth_token", True) is True
    assert redact_secret("hub_token", None) is None and redact_secret("hub_token", "None") == "None"
    assert redact_secret("max_tokens", "512") == "512"


def test_every_format_passes_the_filter_on_import(tmp_path: Path):
    """A format that records params without knowing the filter still gets it (Lightning)."""
    run_dir = tmp_path / "lightning_logs" / "version_0"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.csv").write_text("epoch,step,train_loss\n0,9,0.5\n")
    (run_dir / "hparams.yaml").write_text("wandb_api_key: 0123456789abcdef\nmax_tokens: 512\n"
                                          "average_tokens_across_devices: true\n")
    result = read_paths([tmp_path])
    (run,) = [r for b in result.batches for r in b.runs]
    assert run.params["wandb_api_key"] == REDACTED
    assert run.params["max_tokens"] == "512"
    assert run.params["average_tokens_across_devices"] == "True"
