# One image for chat-server, chat-client and chat-bot, and a `harness` image to test chat programs with.
#
#   docker build -t chat .                                          # from the public python image
#   docker build -t chat --build-arg BASE=chat-base:local .         # from another base (BuildKit; see below)
#   docker build -t chat-harness --target harness .                 # pytest, the plugin and the line tools
#   docker run -it --rm chat chat-server                            # likewise chat-client --host NAME, chat-bot
#
# Build arguments (all optional):
#   BASE              the image every stage starts from: any Debian-like image with python3 >= 3.11 and venv
#                     (the default, stage `base` below, or a base made locally without a registry; see
#                     .ci/docker-setup.sh). BuildKit skips the unused `base` stage; the legacy builder runs
#                     every stage and would pull it, so there replace the FROM line of `base` instead
#                     (docs/docker.md; chat_testing.docker.build_plan does it for the test suite).
#   PIP_INDEX_URL     a package index other than pip's default, as `pip config list` shows it on the host.
#   PIP_EXTRA_INDEX_URL  further indexes, likewise.
# pip trusts what BASE trusts: a base made by .ci/docker-setup.sh carries the machine's CA bundle; behind a
# TLS-intercepting proxy, derive a base from the public image that adds the CA (see docs/docker.md).

ARG BASE=base

# ---- the default base: a literal FROM, so that Dependabot sees the image and proposes its updates -------
FROM python:3.12-slim AS base

# ---- build: the wheel, installed with its dependencies into a virtual environment (and the harness's) ---
FROM ${BASE} AS build
# ARGs become environment variables of the RUN steps below, which pip reads; empty ones are ignored.
ARG PIP_INDEX_URL=""
ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# /opt/build holds the build tools; /opt/chat is what the runtime stage gets.
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip install --quiet "setuptools>=77" \
    && python3 -m venv /opt/chat

WORKDIR /src
# The runtime dependencies first, read from pyproject.toml: this layer stays cached while only code changes,
# so a rebuild after a code change needs no network at all. uvloop is one of them: the bot runs on it
# wherever it is installed, and an image is where a serving bot runs.
COPY pyproject.toml ./
RUN /opt/build/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(*p["dependencies"], sep="\n")' \
        > /tmp/requirements.txt \
    && /opt/chat/bin/pip install --quiet --requirement /tmp/requirements.txt
# Likewise the harness's: the runtime dependencies and the `test` extra (pytest, pexpect, ...).
RUN python3 -m venv /opt/harness \
    && /opt/build/bin/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"], sep="\n")' \
        >> /tmp/requirements.txt \
    && /opt/harness/bin/pip install --quiet --requirement /tmp/requirements.txt

# .dockerignore lets only the packaged files through.
COPY . ./
RUN /opt/build/bin/pip wheel --quiet --no-build-isolation --no-deps --wheel-dir /wheels . \
    && /opt/chat/bin/pip install --quiet --no-deps /wheels/*.whl \
    && /opt/chat/bin/pip check \
    && /opt/harness/bin/pip install --quiet --no-deps /wheels/*.whl \
    && /opt/harness/bin/pip check \
    && /opt/chat/bin/python -m pip uninstall --quiet --yes pip setuptools \
    && package="$(/opt/chat/bin/python -I -c 'import bots, os; print(os.path.dirname(bots.__file__))')" \
    && ln -s "$package/dialogues" /opt/chat/dialogues
# ^ the bundled dialogues at a path that does not depend on the Python version: /opt/chat/dialogues/quiz.yaml

# ---- runtime: the chat image (the default target, through the last stage `chat`) -----------------------
FROM ${BASE} AS runtime

LABEL org.opencontainers.image.title="chat" \
      org.opencontainers.image.description="The classic two-person terminal chat over TCP and a scripted chat bot" \
      org.opencontainers.image.licenses="MIT"

# tini is PID 1: it passes SIGTERM (docker stop) and SIGINT (Ctrl-C) on to the program, which ends the chat
# politely and exits at once, and a signal that arrives before Python has installed its handlers still
# ends the program (a bare PID 1 would ignore it and docker would kill it only after 10 s).
# A base made by .ci/docker-setup.sh has tini already; the public python image gets it from apt.
# Unpinned on purpose: the version is whatever BASE's own Debian release ships, and a pin would break the
# build each time the base image moves to a newer point release.
# hadolint ignore=DL3008
RUN if ! command -v tini >/dev/null; then \
        apt-get update -qq \
        && apt-get install -y -qq --no-install-recommends tini >/dev/null \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log; \
    fi \
    && groupadd --system --gid 10001 chat \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin chat

COPY --from=build /opt/chat /opt/chat

ENV PATH=/opt/chat/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    CHAT_HOST=0.0.0.0

# Mount your own dialogues here: docker run -v "$PWD/quiz.yaml:/dialogues/quiz.yaml:ro" ... --script quiz.yaml
WORKDIR /dialogues
USER 10001:10001
EXPOSE 65432

# No health check: chat-server serves exactly one person and stops listening once it has accepted, so a
# probe that connects would become its chat partner, and a listening-socket check would call a busy server
# unhealthy. Health is a property of the running program; see docs/docker.md (Health check) for chat-bot.
HEALTHCHECK NONE

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["chat-bot"]

# ---- harness: the test harness with the line tools, to test any chat program without installing Python ---
#   docker run --rm -v "$PWD:/tests" chat-harness pytest /tests --chat-target tcp:HOST:PORT
# It comes after `runtime` so that the legacy builder, which runs every stage up to its --target, builds
# it only when asked for (--target harness) or by default.
FROM runtime AS harness
USER 0:0
# The line tools people test chat servers with, as the interop tests use them, and ngircd, the IRC server
# of the worked examples (the project's own e2e suite runs here whole). Unpinned for the reason given for
# tini above.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends netcat-openbsd socat telnet openssl ncat ngircd >/dev/null \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
COPY --from=build /opt/harness /opt/harness
# The harness's environment first: its pytest, its chat programs. The tests' folder is mounted read-only
# by habit, so nothing writes byte code or a cache into it.
ENV PATH=/opt/harness/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    PYTEST_ADDOPTS="-p no:cacheprovider"
WORKDIR /tests
USER 10001:10001
CMD ["pytest", "/tests"]

# ---- chat: the default target, the runtime image ----------------------------------------------------
FROM runtime AS chat
