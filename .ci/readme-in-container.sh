#!/usr/bin/env bash
# The README's two commands, verbatim, on a fresh machine: a new container from the project's debootstrap
# base (python3 and venv only, no line tools, no compiler), with the repository copied in.
#
#   bash .ci/readme-in-container.sh          (the `readme` stage of .ci/run, after docker-setup)
#
# The commands are read from README.md by .ci/readme_commands.py and run unchanged, one after the other, in
# one shell, as a user pastes them. pip inside gets this machine's http(s) package indexes (from
# `pip config list`, as chat_testing.docker.pip_build_args reads them for the image build) and its CA
# bundle, and no other setting: file:// indexes and find-links of this machine do not exist in there.
# Environment: CHAT_DOCKER_BASE (default chat-base:local), CHAT_README_TIMEOUT_S (default 1200).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BASE_IMAGE="${CHAT_DOCKER_BASE:-chat-base:local}"
TIMEOUT_S="${CHAT_README_TIMEOUT_S:-1200}" # the run takes a few minutes; this bounds a wedged container
WORKDIR=/root/chat                         # where a user would have cloned the repository
CA_IN_CONTAINER=/etc/ssl/certs/host-ca-bundle.crt

die() {
    printf 'readme-in-container: %s\n' "$*" >&2
    exit 1
}

command -v docker >/dev/null || die "no docker CLI: run .ci/docker-setup.sh (the docker-setup stage) first"
docker info >/dev/null 2>&1 || die "no Docker engine answers: run .ci/docker-setup.sh (the docker-setup stage) first"
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 ||
    die "no base image $BASE_IMAGE: make it with .ci/docker-setup.sh"

commands="$(python3 .ci/readme_commands.py)"

# pip's http(s) indexes on this machine, as `docker run` options (pip reads PIP_* from the environment):
# the settings the Docker suite gives the image build (chat_testing.docker.pip_build_args, stdlib only).
pip_env=()
while IFS= read -r setting; do
    if [ -n "$setting" ]; then
        pip_env+=(--env "$setting")
    fi
done < <(PYTHONPATH=. python3 -c 'from chat_testing.docker import pip_build_args; print(*pip_build_args()[1::2], sep="\n")')

# The CA bundle pip trusts here (PIP_CERT, pip's config, then the system's), mounted read-only.
ca_bundle="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
[ -n "$ca_bundle" ] || ca_bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
ca_env=()
if [ -f "$ca_bundle" ]; then
    ca_env=(--volume "$ca_bundle:$CA_IN_CONTAINER:ro" --env "PIP_CERT=$CA_IN_CONTAINER"
        --env "SSL_CERT_FILE=$CA_IN_CONTAINER" --env "REQUESTS_CA_BUNDLE=$CA_IN_CONTAINER")
fi

name="chat-readme-$$"
# shellcheck disable=SC2064  # expand now: the name is fixed from here on
trap "docker rm --force '$name' >/dev/null 2>&1 || true" EXIT

script="set -eux
cd $WORKDIR
$commands"
printf 'readme-in-container: in a fresh %s container, from %s:\n%s\n' "$BASE_IMAGE" "$WORKDIR" "$commands"
docker create --name "$name" --workdir "$WORKDIR" "${pip_env[@]}" "${ca_env[@]}" \
    --env LANG=C.UTF-8 --env TERM=dumb "$BASE_IMAGE" bash -c "$script" >/dev/null
# The repository as a clone has it: the tracked files and new ones not ignored, without .git, venvs or caches.
git ls-files -z --cached --others --exclude-standard |
    tar --create --null --files-from=- --transform "s,^,${WORKDIR#/}/," --file=- |
    docker cp --quiet - "$name:/"
started=$SECONDS
status=0
timeout "$TIMEOUT_S" docker start --attach "$name" || status=$?
echo "readme-in-container: exit status $status after $((SECONDS - started))s"
exit "$status"
