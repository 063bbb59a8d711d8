"""Programs run as plain subprocesses (servers under load), and probes on running processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from chat_testing.env import EXPECT_TIMEOUT_S, child_env


def count_fds(pid: int) -> int:
    """Open file descriptors of *pid*, from /proc (Linux)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid: int) -> int:
    """Resident set size of *pid* in KiB, from /proc/PID/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS line for pid {pid}")


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll *predicate* until true; fail naming *what* after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


# What a program under attack must never print: Python's traceback header, and the
# package's line for an unexpected exception (chat.program.run catches those, bots alike).
CRASH_SIGNS = ("Traceback (most recent call last)", "internal error")


class Daemon:
    """A program run as a plain subprocess, its output in files (a full pipe would block it).

    For the serving bot and other long-running servers under load, where a pty adds nothing.
    """

    def __init__(
        self,
        args: list[str],
        workdir: Path,
        name: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env if env is not None else child_env(),
                cwd=cwd,
            )
        self.pid = self.proc.pid

    @property
    def stdout(self) -> str:
        """Everything the program printed on stdout so far."""
        return self.stdout_path.read_bytes().decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        """Everything the program printed on stderr so far."""
        return self.stderr_path.read_bytes().decode("utf-8", errors="replace")

    def listening(self, timeout: float = EXPECT_TIMEOUT_S) -> tuple[str, int]:
        """Wait for the ``... listening on HOST:PORT...`` line; return host and port."""
        from chat_testing.programs import LISTENING  # there with the pty programs; pexpect only when asked

        found: list[re.Match[str]] = []

        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}: {self.stderr[-2000:]}")
            match = LISTENING.search(self.stdout)
            if match:
                found.append(match)
            return bool(match)

        wait_until(seen, timeout, f"{self.name}'s listening line")
        return found[0].group(1), int(found[0].group(2))

    def assert_no_crash(self) -> None:
        """Nothing on stdout or stderr looks like a traceback or an internal error."""
        for stream, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            for sign in CRASH_SIGNS:
                assert sign not in text, f"{self.name} {stream} shows {sign!r}:\n{text[-3000:]}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Send *sig*, wait for the exit; return its status (128+N when killed by signal N)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not exit within {timeout} s of signal {sig}") from None
        code = self.proc.returncode
        return 128 - code if code < 0 else code

    def kill(self) -> None:
        """Teardown: kill the program if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def report_sections(self) -> list[tuple[str, str]]:
        """What a failed test's report shows of this program: its output (see :mod:`chat_testing.plugin`)."""
        return [(f"{self.name} output", f"stdout:\n{self.stdout[-5000:]}\nstderr:\n{self.stderr[-5000:]}")]


def raise_fd_limit(needed: int) -> None:
    """Raise our soft limit on open files (children inherit it); fail clearly if the hard one is lower."""
    import resource  # POSIX only: the harness itself imports on any platform

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise AssertionError(
                f"this test needs {needed} open files; the hard limit is {hard} (ulimit -Hn)"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
