"""chat_testing.docker and chat_testing.reaper without an engine: the builder, the build command, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_testing.docker import (
    DockerError,
    DockerSession,
    build_plan,
    choose_builder,
    default_base,
    engine_socket,
)
from chat_testing.reaper import owns_tag, session_of_tag

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
BUILDX_VERSION = "github.com/docker/buildx v0.23.0 28c90ea\n"  # `docker buildx version` on a GitHub runner


@pytest.mark.parametrize(
    ("buildx", "docker_buildkit", "expected"),
    [
        (BUILDX_VERSION, None, "buildkit"),  # GitHub's runners: buildx installed, the CLI's default
        (None, None, "legacy"),  # no buildx plugin: the CLI falls back to the legacy builder
        ("", None, "legacy"),
        (BUILDX_VERSION, "0", "legacy"),  # DOCKER_BUILDKIT overrides, either way
        (BUILDX_VERSION, "false", "legacy"),
        (None, "1", "buildkit"),
        (BUILDX_VERSION, "", "buildkit"),  # set but empty: as if unset
    ],
)
def test_the_builder_is_buildkit_where_buildx_answers_unless_docker_buildkit_says_otherwise(
    buildx: str | None, docker_buildkit: str | None, expected: str
) -> None:
    assert choose_builder(buildx, docker_buildkit) == expected


def test_the_dockerfiles_default_base_is_a_literal_from_that_dependabot_reads() -> None:
    assert default_base(DOCKERFILE) == "python:3.12-slim"
    # Every other stage starts from the BASE argument or from another stage, never from an image.
    stages = [line.split()[1] for line in DOCKERFILE.splitlines() if line.startswith("FROM ")]
    assert stages == ["python:3.12-slim", "${BASE}", "${BASE}", "runtime", "runtime"]
    assert "ARG BASE=base\n" in DOCKERFILE


def test_buildkit_overrides_the_base_by_build_argument_and_leaves_the_dockerfile_alone() -> None:
    plan = build_plan(
        "buildkit", context=REPO, dockerfile=DOCKERFILE, tag="t:1", target="runtime", base="chat-base:local"
    )

    assert plan.args == [
        *("buildx", "build", "--load", "--tag", "t:1", "--target", "runtime"),
        *("--build-arg", "BASE=chat-base:local", str(REPO)),
    ]
    assert plan.stdin is None
    assert plan.env == {}


def test_the_legacy_builder_gets_the_dockerfile_on_stdin_with_the_base_stage_from_the_override() -> None:
    plan = build_plan(
        "legacy", context=REPO, dockerfile=DOCKERFILE, tag="t:1", target="harness", base="chat-base:local"
    )

    assert plan.args == ["build", "--file", "-", "--tag", "t:1", "--target", "harness", str(REPO)]
    assert plan.env == {"DOCKER_BUILDKIT": "0"}
    assert plan.stdin is not None
    assert "FROM chat-base:local AS base\n" in plan.stdin
    assert "python:3.12-slim" not in plan.stdin.replace("# ", "").split("FROM chat-base:local")[1]
    assert plan.stdin.replace("FROM chat-base:local AS base", "FROM python:3.12-slim AS base") == DOCKERFILE


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_without_an_override_either_builder_builds_the_dockerfile_as_it_is(builder: str) -> None:
    plan = build_plan(builder, context=REPO, dockerfile=DOCKERFILE, tag="t:1", target="runtime")  # type: ignore[arg-type]

    assert plan.stdin is None
    assert "--build-arg" not in plan.args
    assert plan.args[-1] == str(REPO)


def test_the_legacy_override_needs_the_base_stage_and_says_so() -> None:
    with pytest.raises(DockerError, match=r"no `FROM IMAGE AS base` line"):
        build_plan("legacy", context=REPO, dockerfile="FROM x\n", tag="t", target="t", base="b")


def test_the_pip_index_settings_pass_as_build_arguments_after_the_target() -> None:
    extra = ["--build-arg", "PIP_INDEX_URL=https://index.example/simple"]

    plan = build_plan("buildkit", context=REPO, dockerfile=DOCKERFILE, tag="t", target="runtime", extra=extra)

    assert plan.args[plan.args.index("--target") + 2 :][:2] == extra


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "/var/run/docker.sock"),
        ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "/run/user/1000/docker.sock"),
        ({"DOCKER_HOST": "tcp://1.2.3.4:2375", "CHAT_DOCKER_SOCKET": "/srv/docker.sock"}, "/srv/docker.sock"),
    ],
)
def test_the_reaper_mounts_the_engines_unix_socket(environ: dict[str, str], expected: str) -> None:
    assert engine_socket(environ) == expected


def test_an_engine_over_tcp_needs_the_socket_named_for_the_reaper() -> None:
    with pytest.raises(
        DockerError, match=r"set CHAT_DOCKER_SOCKET to the socket's path on the engine's host"
    ):
        engine_socket({"DOCKER_HOST": "tcp://1.2.3.4:2375"})


def test_a_sessions_names_and_image_tags_carry_its_id_and_nothing_of_its_process() -> None:
    session = DockerSession("base:1", socket_path="/var/run/docker.sock")

    assert len(session.id) == 12
    assert session.labels == [f"chat.e2e.session={session.id}"]
    assert session.name("net") == f"chat-e2e-{session.id}-net"
    assert session.image_tag() == f"chat-e2e:{session.id}"
    assert session.image_tag("harness") == f"chat-e2e:{session.id}-harness"
    assert DockerSession("base:1", socket_path="/s").id != session.id


def test_the_reaper_removes_the_sessions_own_image_tags_and_no_others() -> None:
    assert owns_tag("chat-e2e:0123456789ab", "0123456789ab")
    assert owns_tag("chat-e2e:0123456789ab-harness", "0123456789ab")
    assert not owns_tag("chat-e2e:0123456789abc", "0123456789ab")
    assert not owns_tag("chat-e2e:ffffffffffff", "0123456789ab")
    assert not owns_tag("other/chat-e2e:0123456789ab", "0123456789ab")
    assert not owns_tag("chat:0123456789ab", "0123456789ab")


def test_a_test_images_tag_names_its_session() -> None:
    assert session_of_tag("chat-e2e:0123456789ab-harness") == "0123456789ab"
    assert session_of_tag("chat-e2e:0123456789ab") == "0123456789ab"
    assert session_of_tag("chat:0123456789ab") is None
