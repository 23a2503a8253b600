"""Drive the real ``mltui`` app in a pseudo-terminal and measure what a user's terminal sees.

The app runs as a separate process attached to a pty of a fixed size, exactly as over SSH;
we read every byte it writes.  That gives the honest figures: time from a key press to the
frame that answers it, and bytes written to the terminal per cursor move.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]")


def strip_ansi(data: bytes) -> str:
    """Terminal output as plain text (escape sequences removed)."""
    return ANSI.sub(b"", data).decode("utf-8", "replace")


@dataclass
class Session:
    """A process running in a pty; ``output`` accumulates everything it wrote."""

    pid: int
    fd: int
    started: float
    output: bytearray = field(default_factory=bytearray)

    def read(self, timeout: float) -> int:
        """Read what is available within ``timeout``; returns the number of bytes read."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return 0
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            return 0
        self.output.extend(chunk)
        return len(chunk)

    def wait_for(self, needle: str, timeout: float = 30.0) -> float:
        """Read until ``needle`` appears in the plain text; returns when (``time.time()``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in strip_ansi(bytes(self.output)):
                return time.time()
            self.read(0.01)
        raise TimeoutError(f"{needle!r} did not appear within {timeout}s")

    def drain(self, quiet: float = 0.3, limit: float = 5.0) -> int:
        """Read until nothing arrives for ``quiet`` seconds; returns bytes read."""
        total = 0
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            count = self.read(quiet)
            if not count:
                break
            total += count
        return total

    def key_frame(self, key: bytes, quiet: float = 0.05) -> tuple[float, float, int]:
        """Send a key; returns (seconds to first byte, seconds to last byte of the burst, bytes).

        The burst ends when the terminal has been quiet for ``quiet`` seconds.
        """
        os.write(self.fd, key)
        sent = time.monotonic()
        first = last = None
        size = 0
        while True:
            count = self.read(quiet if first is not None else 2.0)
            now = time.monotonic()
            if not count:
                break
            if first is None:
                first = now
            last = now
            size += count
        if first is None:
            return float("nan"), float("nan"), 0
        return first - sent, last - sent, size

    def rss_mb(self) -> float:
        """Resident memory of the app process, in MB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def close(self) -> None:
        """Stop the app."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def spawn(argv: list[str], *, width: int, height: int, env: dict[str, str] | None = None) -> Session:
    """Start ``argv`` attached to a new pty of ``width``×``height``."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: become the app
        environment = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
                       **(env or {})}
        os.execvpe(argv[0], argv, environment)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    return Session(pid=pid, fd=fd, started=time.monotonic())


# The script the app process runs: import everything first, note the time, then run the app.
APP_SCRIPT = """
import sys, time
from mltui.core.catalog import open_catalog
from mltui.tui.app import MltuiApp
import mltui.tui.screens.browse
catalog = open_catalog(sys.argv[1])
open(sys.argv[2], "w").write(repr(time.time()))
MltuiApp(catalog, start=sys.argv[3] if len(sys.argv) > 3 else None).run()
"""


def start_app(catalog: Path, *, width: int, height: int, start: str | None, stamp: Path,
              env: dict[str, str] | None = None) -> Session:
    """Run the app on ``catalog`` in a pty; ``stamp`` receives the time imports finished."""
    argv = [sys.executable, "-c", APP_SCRIPT, str(catalog), str(stamp)] + ([start] if start else [])
    return spawn(argv, width=width, height=height, env={"MLTUI_CONFIG": "/nonexistent", **(env or {})})
