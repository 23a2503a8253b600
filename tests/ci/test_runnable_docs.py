"""The README cannot lie: every shell block marked ``<!-- runnable -->`` in README.md and docs/
runs, in order, in a fresh temporary folder, and exits as documented (``exit=N``, else 0)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKED = re.compile(r"^<!-- runnable(?: exit=(\d+))? -->\n```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCUMENTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


def runnable_blocks(text: str) -> list[tuple[int, str]]:
    """``(expected exit code, script)`` of every marked block, in document order."""
    return [(int(code or 0), body) for code, body in MARKED.findall(text)]


def test_marker_parsing() -> None:
    text = ("<!-- runnable -->\n```bash\necho a\n```\n\n```bash\nnot marked\n```\n"
            "<!-- runnable exit=1 -->\n```bash\nfalse\n```\n")
    assert runnable_blocks(text) == [(0, "echo a\n"), (1, "false\n")]


def test_the_readme_and_the_ci_guide_have_runnable_blocks() -> None:
    assert len(runnable_blocks((ROOT / "README.md").read_text())) >= 2
    assert len(runnable_blocks((ROOT / "docs" / "ci.md").read_text())) >= 2


@pytest.mark.parametrize("document", [d for d in DOCUMENTS
                                      if runnable_blocks((ROOT / d).read_text())])
def test_runnable_blocks_exit_as_documented(document: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "sample_project").symlink_to(ROOT / "sample_project")
    # `mltui` and `python` as a user has them, running this checkout's code
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("mltui", f'"{sys.executable}" -m mltui'), ("python", f'"{sys.executable}"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLTUI_CATALOG", "MLTUI_DEMO_HOME", "GITHUB_STEP_SUMMARY")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    for index, (expected, script) in enumerate(runnable_blocks((ROOT / document).read_text())):
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=env,
                                check=False, capture_output=True, text=True, timeout=180)
        assert result.returncode == expected, (
            f"{document} block {index + 1} exited {result.returncode}, documented {expected}:\n"
            f"{script}\n--- stderr:\n{result.stderr[-2000:]}")
        assert "Traceback" not in result.stderr
