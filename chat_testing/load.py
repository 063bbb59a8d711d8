"""A distributed Locust run on this machine: one master and N workers as processes, headless.

This module never imports Locust (which patches the standard library with gevent when
imported): it starts ``python -m locust`` processes running a locustfile whose users are
:class:`chat_testing.locust.ChatUser`, waits for the run to end, and reads Locust's CSV
statistics. The e2e suite and ``python -m bench --locust`` use it; across machines, run
the same locustfile with Locust's own ``--master`` / ``--worker`` options (docs/benchmark.md).
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: The locustfile written for a run: the package's user class, nothing else.
LOCUSTFILE = """\
from chat_testing.locust import ChatUser


class Player(ChatUser):
    pass
"""
STOP_GRACE_S = 30.0  # after --run-time, the master stops its workers and writes its CSV in seconds


class LoadError(Exception):
    """The Locust run could not start or did not end in time; the message has its output."""


@dataclass
class LoadResult:
    """What Locust measured: per request name, its row of ``*_stats.csv``; and the failures."""

    status: int
    rows: dict[str, dict[str, str]]
    failures: list[dict[str, str]] = field(default_factory=list)
    output: str = ""

    @property
    def total(self) -> dict[str, str]:
        """The ``Aggregated`` row: all requests together."""
        return self.rows["Aggregated"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def run_distributed(
    host: str,
    port: int,
    dialogue: Path,
    workdir: Path,
    *,
    workers: int = 2,
    users: int = 10,
    run_time_s: int = 5,
) -> LoadResult:
    """Play *dialogue* against host:port: *users* users over *workers* local worker processes, headless.

    Locust's files (locustfile, CSV statistics) go to *workdir*; the dialogue's path is used as
    given, so the request names are its file:line as the caller sees it.
    """
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE, encoding="utf-8")
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    master_port = _free_port()
    # The dialogue's path as given: request names are its file:line, relative to our working directory.
    common = [f"--host={host}:{port}", f"--chat-dialogue={dialogue}"]
    master = subprocess.Popen(
        [
            *locust,
            *common,
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={master_port}",
            f"--expect-workers={workers}",
            "--headless",
            f"--users={users}",
            f"--spawn-rate={users}",
            f"--run-time={run_time_s}s",
            f"--csv={workdir / 'stats'}",
            "--only-summary",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    helpers: list[subprocess.Popen[bytes]] = [
        subprocess.Popen(
            [*locust, *common, "--worker", "--master-host=127.0.0.1", f"--master-port={master_port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        output, _ = master.communicate(timeout=run_time_s + STOP_GRACE_S)
        for worker in helpers:
            worker.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        raise LoadError(f"the Locust run did not end within {run_time_s + STOP_GRACE_S:.0f} s") from None
    finally:
        master.kill()
        master.wait()
        for worker in helpers:
            worker.kill()
            worker.wait()
    rows = {row["Name"]: row for row in _read_csv(workdir / "stats_stats.csv")}
    if "Aggregated" not in rows:
        raise LoadError(f"Locust wrote no statistics (status {master.returncode}): {output[-2000:]}")
    return LoadResult(master.returncode, rows, _read_csv(workdir / "stats_failures.csv"), output)


__all__ = ["LOCUSTFILE", "LoadError", "LoadResult", "run_distributed"]
