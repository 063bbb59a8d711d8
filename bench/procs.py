"""Server processes under test: start one, read its listening line, sample its memory, always stop it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from chat.errors import ChatError
from chat.status import ExitStatus

# chat-server, chat-bot and the echo baseline all print "... listening on HOST:PORT...".
LISTENING = re.compile(r"listening on (?P<host>\S+):(?P<port>\d+)")
POLL_S = 0.02  # how often the listening line and memory are looked at: fine enough, cheap enough
STOP_GRACE_S = 5.0  # SIGTERM first, so the server can close cleanly; SIGKILL after this


class BenchError(ChatError):
    """The benchmark could not run (as opposed to a target missed, which is only reported)."""

    status = ExitStatus.ERROR


def proc_status_kib(pid: int) -> dict[str, int]:
    """The memory lines (Vm*, Rss*) of /proc/PID/status, in KiB."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.startswith(("Vm", "Rss")) and value.strip().endswith("kB"):
            fields[key] = int(value.split()[0])
    return fields


def process_cpu_s(pid: int) -> float:
    """CPU seconds process *pid* has used so far, in all its live threads; NaN if unreadable.

    From /proc/PID/task/*/schedstat (nanoseconds on a CPU) where the kernel keeps it:
    /proc/PID/stat counts in clock ticks (10 ms), too coarse for the quick run's ~1 s of
    server CPU (the servers measured keep every thread they start, so none is missed). Else
    utime + stime from /proc/PID/stat.
    """
    try:
        return (
            sum(
                int((task / "schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    # Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14, 15.
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server under test, started as a subprocess that prints its listening line."""

    def __init__(
        self, name: str, argv: Sequence[str], log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self._out_path = log_dir / f"{name}.stdout"
        self._err_path = log_dir / f"{name}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.host = ""
        self.port = 0
        #: Seconds from spawn to the listening line.
        self.ready_s = float("nan")

    @property
    def pid(self) -> int:
        """The server's process id (it must be started)."""
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float) -> None:
        """Spawn the server and wait for its listening line, or raise BenchError."""
        began = time.perf_counter()
        with self._out_path.open("wb") as out, self._err_path.open("wb") as err:
            # Output goes to files, never to a pipe nobody reads: a chatty server must not block.
            try:
                self.process = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=self.env,
                )
            except OSError as exc:
                raise BenchError(
                    f"{self.name} could not be started: {self.argv[0]}: {exc.strerror or exc}"
                ) from None
        deadline = began + timeout_s
        while True:
            match = LISTENING.search(self._out_path.read_text(errors="replace"))
            if match:
                self.host, self.port = match["host"], int(match["port"])
                self.ready_s = time.perf_counter() - began
                return
            status = self.process.poll()
            if status is not None:
                raise BenchError(
                    f"{self.name} exited with status {status} before listening: {self.last_error_line()}"
                    f" (command: {' '.join(self.argv)})"
                )
            if time.perf_counter() > deadline:
                raise BenchError(
                    f"{self.name} printed no listening line within {timeout_s:.0f} s"
                    f" (command: {' '.join(self.argv)})"
                )
            time.sleep(POLL_S)

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    def last_error_line(self) -> str:
        """The last non-blank line the server wrote on stderr, for one-line reports."""
        try:
            lines = [line for line in self._err_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "(no stderr)"
        return lines[-1].strip() if lines else "(nothing on stderr)"

    def memory_kib(self) -> dict[str, int]:
        """The server's current memory figures (VmRSS, VmHWM, ...) in KiB."""
        return proc_status_kib(self.pid)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far; NaN once it is gone."""
        return process_cpu_s(self.pid)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; safe to call twice or before start."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(server: Server, timeout_s: float) -> Iterator[Server]:
    """Start *server*, yield it, and stop it on the way out, whatever happened."""
    try:
        server.start(timeout_s)
        yield server
    finally:
        server.stop()


class RssSampler:
    """Samples a process's VmRSS in a thread; :attr:`peak_kib` is the highest value seen."""

    def __init__(self, pid: int, interval_s: float = POLL_S) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> int:
        """Read VmRSS now, update the peak and return the reading (0 once the process is gone)."""
        rss = proc_status_kib(self.pid).get("VmRSS", 0)
        self.peak_kib = max(self.peak_kib, rss)
        return rss

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# The directory holding the bench package: its helper processes find it from any working directory.
_ROOT = str(Path(__file__).resolve().parent.parent)


def python_module(module: str, *args: str) -> list[str]:
    """argv running ``python -m module`` with this very interpreter (see :func:`module_env`)."""
    return [sys.executable, "-m", module, *args]


def module_env() -> dict[str, str]:
    """The environment for :func:`python_module` commands: ours, with the bench importable."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": _ROOT + (os.pathsep + path if path else "")}


def console_script(name: str) -> str:
    """The path of console script *name*, preferring the one beside this interpreter (same venv)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    import shutil

    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is not installed: run 'pip install -e .' in the repository, then retry")
    return found
