"""The Docker e2e suite's session: one reaper, the images built once, one internal network.

The machinery is public, in :mod:`chat_testing.docker`; this file only wires it into pytest.

* Before the first test runs (so that build time is not charged to one test's timeout), when any
  Docker test is selected: the session's reaper starts (it removes everything the session makes once
  the session ends, even after SIGKILL, whatever PID namespace the session runs in), leftovers no live
  reaper guards are swept, and the image is built from the repository's Dockerfile with BuildKit or
  the legacy builder, whichever this docker CLI uses. ``CHAT_DOCKER_BASE`` picks the base (e.g.
  ``chat-base:local`` made by ``.ci/docker-setup.sh``); pip's index settings come from ``pip config list``.
* Nothing in those hooks can stop pytest: every failure is kept and reported by the fixtures, as a
  skip where no engine answers (a failure with ``CHAT_REQUIRE_DOCKER=1``, as CI sets it) and as a
  failure where the engine answers but the reaper or the build fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chat_testing import Programs
from chat_testing.docker import (
    Builder,
    Containers,
    DockerError,
    DockerSession,
    build_image,
    build_plan,
    default_base,
    detect_builder,
    docker,
    engine_problem,
    pip_build_args,
)

REPO = Path(__file__).resolve().parents[2]
#: The Dockerfile's targets: the chat image and the harness image.
CHAT_TARGET = "runtime"
HARNESS_TARGET = "harness"
#: The fixture whose tests need the harness image; it is built only when one of them is selected.
HARNESS_FIXTURE = "harness_image"


@dataclass
class State:
    """What the session prepared, or why it could not."""

    problem: str | None = None  # no engine: the tests skip (or fail with CHAT_REQUIRE_DOCKER=1)
    error: str | None = None  # an engine, but the reaper or a build failed: the tests fail
    session: DockerSession | None = None
    builder: Builder | None = None
    base: str | None = None
    images: dict[str, str] = field(default_factory=dict)  # target -> tag
    build_seconds: dict[str, float] = field(default_factory=dict)
    stop_seconds: list[float] = field(default_factory=list)
    reaped: str = ""


STATE = State()


def _base() -> str:
    """The build's base image: CHAT_DOCKER_BASE, else the Dockerfile's own."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    base = os.environ.get("CHAT_DOCKER_BASE") or default_base(dockerfile)
    if base is None:
        raise DockerError(
            "the Dockerfile names no base stage (`FROM IMAGE AS base`) and CHAT_DOCKER_BASE is unset"
        )
    return base


def _build(session: DockerSession, target: str) -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    tag = session.image_tag("" if target == CHAT_TARGET else target)
    assert STATE.builder is not None
    plan = build_plan(
        STATE.builder,
        context=REPO,
        dockerfile=dockerfile,
        tag=tag,
        target=target,
        base=os.environ.get("CHAT_DOCKER_BASE") or None,
        extra=pip_build_args(),
    )
    try:
        STATE.build_seconds[target] = build_image(plan)
    except DockerError as exc:
        hint = (
            ""
            if os.environ.get("CHAT_DOCKER_BASE")
            else " (no registry? see .ci/docker-setup.sh and CHAT_DOCKER_BASE)"
        )
        raise DockerError(f"the {target} image did not build{hint}: {str(exc)[-2000:]}") from None
    STATE.images[target] = tag


def _prepare(items: list[pytest.Item], write: Callable[[str], None]) -> None:
    STATE.problem = engine_problem()
    if STATE.problem is not None:
        return
    STATE.base = _base()
    STATE.builder = detect_builder()
    write(f"docker e2e: reaper from {STATE.base}; building with {STATE.builder}")
    STATE.session = DockerSession(STATE.base)
    STATE.session.start()
    if STATE.session.swept:
        write(f"docker e2e: swept {len(STATE.session.swept)} leftovers of sessions without a reaper")
    _build(STATE.session, CHAT_TARGET)
    if any(HARNESS_FIXTURE in getattr(item, "fixturenames", ()) for item in items):
        _build(STATE.session, HARNESS_TARGET)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Arm the reaper and build the images once, before the first Docker test, when any was selected."""
    if not any(item.get_closest_marker("docker") for item in session.items):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def write(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)

    try:
        _prepare(session.items, write)
    except Exception as exc:  # a hook must never stop pytest: the fixtures report it
        STATE.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, DockerError) else str(exc)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures docs/docker.md quotes: build times, the reaper's work, each docker stop's time."""
    for target, seconds in STATE.build_seconds.items():
        terminalreporter.write_line(
            f"docker e2e: {target} image built in {seconds:.1f}s ({STATE.builder}, from {STATE.base})"
        )
    if STATE.stop_seconds:
        times = ", ".join(f"{t:.2f}" for t in STATE.stop_seconds)
        terminalreporter.write_line(f"docker e2e: docker stop took {times} s")
    if STATE.reaped:
        terminalreporter.write_line(f"docker e2e: the reaper {STATE.reaped}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close the session: its reaper removes every container, network and image it made."""
    if STATE.session is None:
        return
    started = time.monotonic()
    try:
        said = STATE.session.close()
        STATE.reaped = f"{said} in {time.monotonic() - started:.1f}s" if said else ""
    except DockerError as exc:
        STATE.reaped = f"failed: {exc}"
    STATE.session = None


# -- fixtures -------------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    message = f"Docker e2e tests need a Docker engine and the image: {reason}"
    if os.environ.get("CHAT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{message} (CHAT_REQUIRE_DOCKER=1: failing instead of skipping)", pytrace=False)
    pytest.skip(f"{message}; run `bash .ci/docker-setup.sh` to get one")


def _image(target: str) -> str:
    if STATE.problem is not None:
        _unavailable(STATE.problem)
    if STATE.error is not None:
        pytest.fail(STATE.error, pytrace=False)
    if target not in STATE.images:
        _unavailable("the session did not build it (were the docker tests deselected at collection?)")
    return STATE.images[target]


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """An engine answers (the test skips, or fails with CHAT_REQUIRE_DOCKER=1, where none does)."""
    if STATE.problem is not None:
        _unavailable(STATE.problem)


@pytest.fixture(scope="session")
def docker_session(chat_image: str) -> DockerSession:
    """The session's labels, names and reaper (chat_testing.docker.DockerSession)."""
    assert STATE.session is not None
    return STATE.session


@pytest.fixture(scope="session")
def chat_image() -> str:
    """The image under test, built once per session."""
    return _image(CHAT_TARGET)


@pytest.fixture(scope="session")
def harness_image() -> str:
    """The harness image (Dockerfile target ``harness``), built once per session when a test needs it."""
    return _image(HARNESS_TARGET)


@pytest.fixture(scope="session")
def docker_cli() -> Callable[..., str]:
    """The `docker` command as a function: ``docker_cli("image", "inspect", name)`` returns stdout."""
    return docker


@pytest.fixture(scope="session")
def chat_base(chat_image: str) -> str | None:
    """The base image the image under test was built from."""
    return STATE.base


@pytest.fixture(scope="session")
def chat_network(docker_session: DockerSession) -> Iterator[str]:
    """A user-defined internal network: containers reach each other by name, and nothing outside."""
    name = docker_session.network()
    yield name
    docker("network", "rm", name, check=False)


@pytest.fixture
def containers(
    docker_session: DockerSession, chat_image: str, chat_network: str, programs: Programs
) -> Iterator[Containers]:
    """Start containers of the image under test; all are removed in teardown."""
    started = Containers(docker_session, chat_image, chat_network, programs)
    try:
        yield started
    finally:
        started.remove_all()
        STATE.stop_seconds += started.stop_seconds
