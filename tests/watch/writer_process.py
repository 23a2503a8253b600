"""A real writer library (MLflow, tensorboardX) in a process of its own, driven one command
at a time over stdin: it answers ``ok …`` when a command is written, and a line per step
while it streams."""

from __future__ import annotations

import subprocess
import sys


class WriterProcess:
    """Runs ``script`` with ``argument``; waits for its first ``ok`` (kept in ``greeting``)."""

    def __init__(self, script: str, argument) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", script, str(argument)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.greeting = self._answer()

    def _answer(self) -> str:
        line = self.process.stdout.readline()
        assert line.startswith("ok"), line
        return line

    def stream(self, steps: int, each) -> None:
        """Have the writer log ``steps`` steps without waiting, calling ``each()`` for every
        step it reports written (the writer goes on meanwhile)."""
        self.process.stdin.write(f"stream {steps}\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("ok"):
                return
            each()
        raise AssertionError("the writer ended early")

    def send(self, command: str) -> None:
        """Send one command and wait until the writer has written it."""
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self._answer()

    def close(self) -> None:
        """End the writer process."""
        self.process.stdin.close()
        self.process.wait(timeout=60)
