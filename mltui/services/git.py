"""Inferring the git commit of runs whose log did not record one (issue 8, item 10).

A log that names no commit is given the HEAD of the git work tree it sits in, but only when
that HEAD is older than the run (the run could have been trained on it); a run older than
HEAD is left without a commit rather than given today's.  Such commits are marked inferred
(``RunRecord.git_commit_inferred``), and every front end says so.

Git is asked once per repository, not once per run: the repository of a folder is found by
looking for ``.git`` upwards (stat calls only), and HEAD, its commit time, branch and dirty
state come from one ``git status`` and one ``git log`` per repository.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core.records import RunRecord
from ..core.safefile import real_path


@dataclass(frozen=True)
class Head:
    """HEAD of one work tree: commit, its committer time (epoch seconds), branch, dirty."""

    commit: str
    committed_at: float
    branch: str | None
    dirty: bool


def _git(top: str, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", top, *args], capture_output=True, text=True,
                                timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


class CommitInference:
    """Fills in the commits of one import's runs; caches per folder and per repository."""

    def __init__(self) -> None:
        self._top_of: dict[str, str | None] = {}
        self._heads: dict[str, Head | None] = {}
        self._real: dict[str, str] = {}  # folder → real path (see safefile.real_path)
        self.git_calls = 0  # processes started, for the tests and the benchmark

    def repository(self, folder: Path | str) -> str | None:
        """The work tree holding ``folder`` (where ``.git`` is), or None outside any."""
        start = os.fspath(folder)
        seen: list[str] = []
        current = start
        while True:
            if current in self._top_of:
                top = self._top_of[current]
                break
            seen.append(current)
            if os.path.exists(os.path.join(current, ".git")):
                top = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                top = None
                break
            current = parent
        for path in seen:
            self._top_of[path] = top
        return top

    def head(self, top: str) -> Head | None:
        """HEAD of the work tree ``top`` (asked once), or None without a commit."""
        if top not in self._heads:
            self._heads[top] = self._read_head(top)
        return self._heads[top]

    def _read_head(self, top: str) -> Head | None:
        self.git_calls += 2
        status = _git(top, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
        log = _git(top, "log", "-1", "--format=%H %ct")
        if not status or not log or len(log.split()) != 2:
            return None
        commit, stamp = log.split()
        branch, dirty = None, False
        for line in status.splitlines():
            if line.startswith("# branch.head "):
                name = line[len("# branch.head "):].strip()
                branch = None if name == "(detached)" else name
            elif not line.startswith("#"):
                dirty = True
        return Head(commit=commit, committed_at=float(stamp), branch=branch, dirty=dirty)

    def know(self, real_paths: dict[str, str]) -> None:
        """Take real paths a reader resolved (``safefile.import_real_paths``): the runs' folders
        are then not resolved again, one ``lstat`` each."""
        self._real.update(real_paths)

    def fill(self, run: RunRecord) -> None:
        """Give ``run`` its work tree's HEAD when the run is not older than that commit."""
        if run.git_commit is not None or not run.source_path:
            return
        source = run.source_path
        top = self.repository(real_path(source_folder(source), self._real))
        head = self.head(top) if top else None
        if head is None:
            return
        written = _written_at(run, source)
        if written is None or written < head.committed_at:
            return  # trained before today's HEAD: its commit is unknown, not HEAD
        run.git_commit, run.git_commit_inferred = head.commit, True
        run.git_branch = run.git_branch or head.branch
        if run.git_dirty is None:
            run.git_dirty = head.dirty


def source_folder(source: str) -> str:
    """The absolute folder of a run's log: itself when a folder, else its parent (as text, not
    Paths: once per run; real_path then normalises it as ``Path`` would)."""
    folder = source if os.path.isdir(source) else (os.path.dirname(source.rstrip(os.sep))
                                                    or os.curdir)
    return folder if os.path.isabs(folder) else os.path.join(os.getcwd(), folder)


def _written_at(run: RunRecord, source: Path | str) -> float | None:
    """When the run's code was in use: its start time, else when its log was last written."""
    if run.start_time is not None:
        return run.start_time
    if run.end_time is not None:
        return run.end_time
    try:
        return os.stat(source).st_mtime
    except OSError:
        return None
