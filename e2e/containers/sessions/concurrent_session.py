"""One of two test sessions that share a Docker engine at the same time (run by test_reaper.py).

Each makes a container and a network, waits until the other has made its own, sweeps leftovers
while the other's objects exist, and checks that its own objects survived the other's sweep. The
two sessions meet through files in ``CHAT_SYNC_DIR``; one of them runs in its own PID namespace.
The file's name does not match ``test_*.py``: it runs only when given explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chat_testing import wait_until
from chat_testing.docker import DockerSession, docker, sweep_orphans

SYNC = Path(os.environ.get("CHAT_SYNC_DIR", "."))
ME = os.environ.get("CHAT_SYNC_NAME", "")
OTHER = os.environ.get("CHAT_SYNC_OTHER", "")
BASE = os.environ.get("CHAT_DOCKER_BASE", "")
MEET_TIMEOUT_S = 40.0  # the other session starts its reaper and a container: seconds


def signal_and_wait(step: str) -> None:
    """Say this session reached *step* and wait until the other did too."""
    (SYNC / f"{ME}.{step}").write_text(str(os.getpid()), encoding="utf-8")
    wait_until((SYNC / f"{OTHER}.{step}").exists, MEET_TIMEOUT_S, f"session {OTHER} to reach {step}")


def test_my_objects_survive_the_other_sessions_sweep() -> None:
    if not (ME and OTHER and BASE):
        pytest.fail("run by e2e/containers/test_reaper.py, which sets CHAT_SYNC_* and CHAT_DOCKER_BASE")
    session = DockerSession(BASE)
    session.start()  # arms the reaper, then sweeps
    try:
        network = session.network()
        name = session.name("sleeper")
        labels = session.label_options()
        docker("run", "--detach", *labels, f"--network={network}", f"--name={name}", BASE, "sleep", "300")
        signal_and_wait("made")
        sweep_orphans()  # the other session's objects exist now: a sweep must leave them alone
        signal_and_wait("swept")

        assert docker("inspect", "--format", "{{.State.Running}}", name).strip() == "true"
        assert docker("network", "inspect", "--format", "{{.Name}}", network).strip() == network
        signal_and_wait("checked")
    finally:
        session.close()
