"""Running stage hooks: one process per hook, its outcome, the change they run around.

Loaded on the first stage change or alert that runs hooks (``core/hooks.py``'s mixin imports it
then), not at every start: the app's first screen runs no hook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from .config import Hook, ProjectConfig

TAIL_LINES = 20
TAIL_BYTES = 16_384
LINE_CHARS = 500
EXIT_NOT_RUN = 127  # what a shell reports for a command it cannot start


@dataclass
class HookRun:
    """The outcome of one hook: what ran, how it ended and the last lines it printed."""

    phase: str
    hook: str
    command: list[str]
    exit_code: int
    duration: float
    tail: list[str]
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when the hook exited 0 within its timeout."""
        return self.exit_code == 0 and not self.timed_out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in the ``hook`` event)."""
        return dict(asdict(self), ok=self.ok)


def run_hook(hook: Hook, phase: str, env: dict[str, str], cwd: str | None) -> HookRun:
    """Run one hook without a shell; kill its process group at the timeout.

    Output (stdout and stderr together) goes to a temporary file rather than a pipe, so a hook
    that prints gigabytes costs no memory and a killed hook's children cannot hold a pipe open.
    """
    for key, value in env.items():
        if "\x00" in value:
            raise InvalidInput(f"{key} for the hook holds a NUL character")
    started = time.monotonic()
    timed_out = False
    with tempfile.TemporaryFile() as output:
        try:
            proc = subprocess.Popen(list(hook.argv), shell=False, cwd=cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=output,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            return HookRun(phase, hook.name, list(hook.argv), EXIT_NOT_RUN,
                           time.monotonic() - started, [f"cannot run {hook.argv[0]}: {exc.strerror}"])
        try:
            code = proc.wait(timeout=hook.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            code = proc.wait()
        duration = time.monotonic() - started
        tail = _tail(output)
    if timed_out:
        tail.append(f"killed after {hook.timeout:g} s (timeout)")
    return HookRun(phase, hook.name, list(hook.argv), code, round(duration, 3), tail, timed_out)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the hook's own children too
    except ProcessLookupError:
        pass


def _tail(output) -> list[str]:
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - TAIL_BYTES))
    text = output.read().decode("utf-8", "replace")
    lines = text.splitlines()
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first line read is cut in the middle
    return [line[:LINE_CHARS] for line in lines[-TAIL_LINES:]]


def hook_env(change: dict[str, Any], catalog_path: str) -> dict[str, str]:
    """The process environment plus the change as ``MLTUI_*`` variables (None → empty)."""
    env = dict(os.environ)
    env["MLTUI_CATALOG"] = catalog_path
    for key, value in change.items():
        env[f"MLTUI_{key.upper()}"] = "" if value is None else str(value)
    return env


def run_hooks(hooks: tuple[Hook, ...], phase: str, env: dict[str, str], cwd: str | None
              ) -> list[HookRun]:
    """Run hooks in order, stopping at the first that fails (a later step needs the earlier)."""
    runs = []
    for hook in hooks:
        run = run_hook(hook, phase, env, cwd)
        runs.append(run)
        if not run.ok:
            break
    return runs


def failure_line(run: HookRun) -> str:
    """One line saying how a hook failed and the last thing it printed."""
    how = f"timed out after {run.duration:g} s" if run.timed_out else f"exit {run.exit_code}"
    last = next((line for line in reversed(run.tail) if line.strip() and
                 not line.startswith("killed after")), "")
    return f"{run.phase} hook {run.hook} ({' '.join(run.command)}) failed: {how}" + \
        (f": {last.strip()}" if last else "")


@dataclass
class StageChange:
    """A stage change about to be written, and the hooks run for it."""

    config: ProjectConfig
    action: str
    model: str
    stage: str
    from_id: int | None
    to_id: int | None
    reason: str | None
    actor: str
    before: list[HookRun] = field(default_factory=list)
    history_id: int | None = None

    @property
    def hooked(self) -> bool:
        """True when the config has hooks for this stage."""
        return bool(self.config.hooks_for(self.stage, "before") or
                    self.config.hooks_for(self.stage, "after"))
