"""Programs run as plain subprocesses (servers under load), and probes on running processes."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chat_testing.env import START_TIMEOUT_S, child_env


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
        new_session: bool = False,
    ) -> None:
        """*new_session* (POSIX): the program leads a session and process group of its own, which
        :func:`stop_process_group` stops whole (it also leaves the terminal's Ctrl-C to the harness)."""
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
                start_new_session=new_session,
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

    def listening(self, timeout: float = START_TIMEOUT_S) -> tuple[str, int]:
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


#: After SIGKILL a process ends at once; this bounds the wait for one stuck in the kernel (a dead NFS mount).
KILL_WAIT_S = 2.0
#: How often a stopping group is looked at: its processes end within milliseconds of a signal.
GROUP_POLL_S = 0.01
#: A look that took long waits this many times as long before the next one (a twentieth of a core at most).
GROUP_POLL_BACKOFF = 19.0


def group_running(pgid: int) -> bool:
    """Whether any process of group *pgid* still runs (POSIX).

    A zombie does not count: it holds no port and no file, and an orphan's zombie waits for a new
    parent to reap it, which may never come where PID 1 reaps nothing (some containers and sandboxes).
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of the group runs as another user: it runs
        return True
    if not os.path.exists("/proc/self/stat"):
        return True  # no /proc to tell zombies apart (macOS): killpg's answer counts them too
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # ended while the directory was read
                continue
            # "PID (COMM) STATE PPID PGRP ...": COMM may hold spaces and parentheses: split after its end.
            state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
            if int(pgrp) == pgid and state not in ("Z", "X"):
                return True
    return False


def _wait_group(proc: subprocess.Popen[Any], deadline: float) -> bool:
    """Wait until no process of *proc*'s group runs, then reap *proc* itself; whether that came in time."""
    while True:
        began = time.monotonic()
        if not group_running(proc.pid):
            proc.wait()  # the leader is this process's child, dead by now: reap it
            return True
        if time.monotonic() > deadline:
            return False
        # Each look may scan /proc (about 1.5 ms per 100 processes): a busy host is looked at less often.
        time.sleep(max(GROUP_POLL_S, (time.monotonic() - began) * GROUP_POLL_BACKOFF))


def stop_process_group(proc: subprocess.Popen[Any], grace_s: float) -> None:
    """Stop a program started in a session of its own, and every process of its group.

    SIGTERM to the group, then SIGKILL to what is left of it after *grace_s*: a server behind a wrapper
    (``sh -c``, a script, make, npm) gets the signals, not only the wrapper. Processes that left the
    group (a daemon that forked and called setsid) are not followed. Elsewhere than POSIX, the program
    alone is terminated, then killed.
    """
    if sys.platform == "win32":
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, KILL_WAIT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        if _wait_group(proc, time.monotonic() + wait_s):
            return


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
