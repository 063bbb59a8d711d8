"""The reaper: removes one test session's Docker objects once the session is gone, however it ended.

In the manner of testcontainers' Ryuk. A test session starts the reaper first, as a container of its
base image attached to the session's pipe (``docker run -i``, see :class:`chat_testing.docker.Reaper`),
with the engine's socket mounted. The reaper says :data:`ARMED` once it can reach the engine, then
reads its standard input until end of file. That comes when the session closes the pipe, ends, crashes
or is killed (SIGKILL included: the kernel closes the pipe, and if the ``docker`` client dies too the
engine closes the container's standard input, ``StdinOnce``). Then it removes every container and
network labelled with the session's id and every test image tagged with it, and exits (``--rm``).

Nothing here depends on process ids, so sessions in different PID namespaces, containers or machines
that share one engine never touch each other's objects. This module is the reaper's whole program: it
runs with the standard library alone, as ``python3 -c SOURCE SESSION`` inside the container.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import urllib.parse
from typing import Any

#: The label every container and network of a test session carries: ``chat.e2e.session=<id>``.
LABEL_SESSION = "chat.e2e.session"
#: The label of a session's reaper container: ``chat.e2e.reaper=<id>``; a running one means a live session.
LABEL_REAPER = "chat.e2e.reaper"
#: Test images are tagged ``chat-e2e:<id>`` or ``chat-e2e:<id>-<variant>`` (images carry no label: the
#: legacy builder would put it on every layer and miss its cache each session).
IMAGE_REPOSITORY = "chat-e2e"
#: Where the session mounts the engine's socket inside the reaper container.
SOCKET = "/var/run/docker.sock"
#: The reaper's first line: it reached the engine and now waits for the session to go.
ARMED = "chat-e2e reaper armed"
#: Each engine call answers within seconds; a stuck engine must not keep the reaper forever.
ENGINE_TIMEOUT_S = 60.0


class ReapError(Exception):
    """The engine refused a request; the message has the request and the engine's words."""


class _UnixConnection(http.client.HTTPConnection):
    """HTTP to the engine over its unix socket (the Engine API)."""

    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=ENGINE_TIMEOUT_S)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(ENGINE_TIMEOUT_S)
        sock.connect(self.socket_path)
        self.sock = sock


def engine(method: str, path: str, query: dict[str, str] | None = None) -> Any:
    """One Engine API request; its JSON answer (None for an empty one or a 404: already gone)."""
    url = path + ("?" + urllib.parse.urlencode(query) if query else "")
    connection = _UnixConnection(SOCKET)
    try:
        connection.request(method, url)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status == 404:
        return None
    if response.status >= 400:
        raise ReapError(f"{method} {url}: {response.status} {body.decode(errors='replace').strip()}")
    return json.loads(body) if body.strip().startswith((b"{", b"[")) else None


def owns_tag(tag: str, session: str) -> bool:
    """Whether an image tag (``repository:tag``) is one of *session*'s test images."""
    repository, _, name = tag.rpartition(":")
    return repository == IMAGE_REPOSITORY and (name == session or name.startswith(session + "-"))


def session_of_tag(tag: str) -> str | None:
    """The session id of a test image's tag, or None when the tag is not a test image's."""
    repository, _, name = tag.rpartition(":")
    if repository != IMAGE_REPOSITORY:
        return None
    return name.partition("-")[0] or None


def reap(session: str) -> tuple[int, int, int]:
    """Remove *session*'s containers, networks and test images; return how many of each."""
    labelled = {"filters": json.dumps({"label": [f"{LABEL_SESSION}={session}"]})}
    containers = engine("GET", "/containers/json", {"all": "1", **labelled}) or []
    for container in containers:
        engine("DELETE", f"/containers/{container['Id']}", {"force": "1", "v": "1"})
    networks = engine("GET", "/networks", labelled) or []
    for network in networks:
        engine("DELETE", f"/networks/{network['Id']}")
    tags = [tag for image in engine("GET", "/images/json") or [] for tag in image.get("RepoTags") or []]
    mine = [tag for tag in tags if owns_tag(tag, session)]
    for tag in mine:
        # noprune: the untagged parent layers stay, as the next session's build cache.
        engine("DELETE", f"/images/{urllib.parse.quote(tag, safe='')}", {"noprune": "1"})
    return len(containers), len(networks), len(mine)


def main(argv: list[str]) -> int:
    """``python3 -c SOURCE SESSION``: arm, wait for end of file on stdin, reap."""
    if len(argv) != 2 or not argv[1]:
        print("usage: reaper SESSION", file=sys.stderr)
        return 2
    session = argv[1]
    try:
        engine("GET", "/_ping")
    except (OSError, ReapError) as exc:
        print(f"reaper: the engine does not answer on {SOCKET}: {exc}", file=sys.stderr)
        return 1
    print(ARMED, flush=True)
    while sys.stdin.buffer.read(4096):  # the session writes nothing; end of file means it is gone
        pass
    try:
        counts = reap(session)
    except (OSError, ReapError) as exc:
        print(f"reaper: {exc}", file=sys.stderr)
        return 1
    print("reaped {} containers, {} networks, {} images".format(*counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
