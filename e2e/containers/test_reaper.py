"""The reaper: sessions sharing one engine leave each other alone, and a killed session leaves nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat_testing import wait_until
from chat_testing.docker import (
    LABEL_REAPER,
    LABEL_SESSION,
    DockerSession,
    docker,
    new_session_id,
    sweep_orphans,
)

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
CONCURRENT_SESSION = Path(__file__).resolve().parent / "sessions" / "concurrent_session.py"
SESSION_RUN_TIMEOUT_S = 55.0  # each session starts a reaper and one container: about five seconds
READY_TIMEOUT_S = 30.0
#: After the kill the reaper sees end of file at once and removes three objects: a second or two.
REAPED_BOUND_S = 20.0

# A session that makes a container, a network and an image tag, prints its id, and waits to be killed.
KILLED_SESSION = """
import sys, time
from chat_testing.docker import DockerSession, docker
base = sys.argv[1]
session = DockerSession(base)
session.start()
network = session.network()
docker("run", "--detach", *session.label_options(), f"--network={network}",
       f"--name={session.name('sleeper')}", base, "sleep", "300")
docker("tag", base, session.image_tag("probe"))
print(session.id, flush=True)
time.sleep(300)  # a live session that does nothing: the test kills it (SIGKILL) long before this ends
"""


def objects_of(session: str) -> list[str]:
    """Every container (running or not), network and test image tag of *session*, and its reaper."""
    found = []
    for listing, name in ((["ps", "-a"], "{{.Names}}"), (["network", "ls"], "{{.Name}}")):
        found += docker(*listing, "--filter", f"label={LABEL_SESSION}={session}", "--format", name).split()
    found += docker(
        "ps", "-a", "--filter", f"label={LABEL_REAPER}={session}", "--format", "{{.Names}}"
    ).split()
    found += [
        tag for tag in docker("image", "ls", "chat-e2e", "--format", "{{.Tag}}").split() if session in tag
    ]
    return found


def pid_namespace_prefix() -> list[str]:
    """``unshare`` into a new PID namespace (root, or sudo without a password); skip where neither."""
    unshare = ["unshare", "--pid", "--fork", "--mount-proc"]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command (util-linux)")
    if os.geteuid() == 0:
        return unshare
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n", "--preserve-env", *unshare]
    pytest.skip("a new PID namespace needs root or sudo without a password")


@pytest.mark.timeout(120)
def test_two_sessions_one_in_its_own_pid_namespace_share_the_engine_and_both_pass(
    tmp_path: Path, chat_base: str
) -> None:
    prefix = pid_namespace_prefix()
    runs = {}
    for me, other, wrap in (("a", "b", []), ("b", "a", prefix)):
        env = {**os.environ, "CHAT_SYNC_DIR": str(tmp_path), "CHAT_SYNC_NAME": me, "CHAT_SYNC_OTHER": other}
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # under sudo, nothing root-owned is left in the checkout
        env["CHAT_DOCKER_BASE"] = chat_base
        command = [*wrap, sys.executable, "-m", "pytest", str(CONCURRENT_SESSION), "-p", "no:cacheprovider"]
        runs[me] = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    outputs = {me: run.communicate(timeout=SESSION_RUN_TIMEOUT_S)[0] for me, run in runs.items()}

    for me, run in runs.items():
        assert run.returncode == 0, f"session {me}:\n{outputs[me]}"
        assert "1 passed" in outputs[me]
    # Session b ran as PID 1 of its own namespace: a's PID means nothing there, and b's nothing to a.
    assert (tmp_path / "b.made").read_text() == "1"
    assert (tmp_path / "a.made").read_text() != "1"


@pytest.mark.parametrize("kill_group", [False, True], ids=["session-alone", "session-and-docker-client"])
def test_a_session_killed_with_sigkill_leaves_nothing_behind(chat_base: str, kill_group: bool) -> None:
    session = subprocess.Popen(
        [sys.executable, "-c", KILLED_SESSION, chat_base],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which the second case kills whole
    )
    try:
        assert session.stdout is not None
        session_id = session.stdout.readline().strip()
        assert session_id, session.stderr.read() if session.stderr else ""
        assert len(objects_of(session_id)) == 4  # container, network, image tag, reaper

        killed = time.monotonic()
        if kill_group:  # the reaper's `docker run -i` client dies too: the engine closes its stdin
            os.killpg(session.pid, signal.SIGKILL)
        else:  # the client survives the session: its stdin, the session's pipe, reaches end of file
            session.kill()
        session.wait()

        wait_until(lambda: not objects_of(session_id), REAPED_BOUND_S, "the reaper to remove everything")
        print(f"reaped {time.monotonic() - killed:.1f}s after SIGKILL")
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
        session.communicate()


def test_a_session_closed_normally_removes_what_it_made_through_its_reaper(chat_base: str) -> None:
    session = DockerSession(chat_base)
    session.start()
    network = session.network()
    docker("tag", chat_base, session.image_tag("probe"))

    said = session.close()

    assert said == "reaped 0 containers, 1 networks, 1 images"
    assert not objects_of(session.id), network


def test_the_sweep_removes_what_no_running_reaper_guards_and_leaves_a_live_sessions_objects(
    chat_base: str, docker_session: DockerSession
) -> None:
    orphan = new_session_id()  # a session whose reaper is gone (killed with the engine, say)
    label = f"--label={LABEL_SESSION}={orphan}"
    docker("network", "create", "--internal", label, f"chat-e2e-{orphan}-net")
    docker("create", label, f"--name=chat-e2e-{orphan}-left", chat_base, "true")
    docker("tag", chat_base, f"chat-e2e:{orphan}-left")
    live = docker_session.network("sweep-probe")  # this session's reaper runs: its objects are guarded
    try:
        assert len(objects_of(orphan)) == 3

        removed = sweep_orphans()

        assert objects_of(orphan) == []
        assert f"chat-e2e:{orphan}-left" in removed
        assert docker("network", "inspect", "--format", "{{.Name}}", live).strip() == live
    finally:
        docker("network", "rm", live, check=False)
