"""chat_testing.processes: stopping a program's whole process group (what command: targets rely on)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat_testing.processes import group_running, stop_process_group, wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and signals are POSIX's")


def state_of(pid: int) -> str:
    """A process's state letter from /proc (R, S, Z...), or '' once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return ""


def running(pid: int) -> bool:
    """Whether process *pid* runs: it exists and, where /proc tells, is no zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return state_of(pid) not in ("Z", "X") if Path("/proc/self/stat").exists() else True


def test_stopping_a_group_ends_the_processes_its_leader_started_not_only_the_leader() -> None:
    # A wrapper shell that stays the parent of two servers, as `sh -c`, make or npm do.
    wrapper = subprocess.Popen(
        ["sh", "-c", "sleep 60 & echo $!; sleep 60 & echo $!; wait"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert wrapper.stdout is not None
    children = [int(wrapper.stdout.readline()), int(wrapper.stdout.readline())]
    wrapper.stdout.close()
    stop_process_group(wrapper, grace_s=5.0)
    assert wrapper.returncode is not None  # the leader is reaped
    assert not group_running(wrapper.pid)
    assert [running(pid) for pid in children] == [False, False]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombies are told apart through /proc")
def test_a_group_left_with_zombies_alone_is_not_running() -> None:
    """A zombie holds no port: where PID 1 reaps nothing, a stop must not wait for it."""
    leader = subprocess.Popen(["true"], start_new_session=True)
    wait_until(lambda: state_of(leader.pid) == "Z", 10.0, "the leader's exit")
    try:
        assert not group_running(leader.pid)
    finally:
        leader.wait()


def test_a_group_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    stubborn = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert stubborn.stdout is not None
    child = int(stubborn.stdout.readline())
    stubborn.stdout.close()
    started = time.monotonic()
    stop_process_group(stubborn, grace_s=0.5)
    assert time.monotonic() - started >= 0.5
    assert stubborn.returncode == -9  # SIGKILL
    assert not running(child)
