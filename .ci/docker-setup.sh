#!/usr/bin/env bash
# Make a Docker engine and a local base image available, on a machine that may have neither.
#
#   bash .ci/docker-setup.sh            # engine + base image (chat-base:local)
#   bash .ci/docker-setup.sh --no-base  # engine only (the build then uses the public python image)
#
# 1. Installs the distribution's Docker engine package and debootstrap when they are missing.
# 2. Starts dockerd by hand in the background when no engine answers (no systemd needed), and waits for it.
# 3. Builds the base image without any registry: debootstrap a minimal system with python3 into a folder,
#    then `docker import` it. The mirror is read from this machine's own apt sources, and the machine's
#    CA bundle is copied in, so that pip inside the build trusts what this machine trusts.
#
# Every step is skipped when its result is already there, so running it twice is cheap.
# Environment: CHAT_DOCKER_BASE (image name, default chat-base:local), CHAT_DOCKER_BASE_REBUILD=1 (make it
# again), DOCKERD_LOG (default /tmp/dockerd.log).
set -euo pipefail

BASE_IMAGE="${CHAT_DOCKER_BASE:-chat-base:local}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
ENGINE_WAIT_S=60 # dockerd answers within a few seconds; a minute covers a slow first start
# Packages of the base: the interpreter, venv (the image installs into a virtual environment), the CA
# store, and tini (the image's PID 1; having it here spares the Dockerfile an apt-get run).
BASE_PACKAGES="python3,python3-venv,ca-certificates,tini"

log() { printf 'docker-setup: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: run this script as root"
    SUDO="sudo -n"
fi

want_base=1
for arg in "$@"; do
    case "$arg" in
    --no-base) want_base=0 ;;
    -h | --help)
        sed -n '2,15p' "$0"
        exit 0
        ;;
    *) die "unknown option '$arg' (try --help)" ;;
    esac
done

DOCKER_ENGINE_PACKAGE=docker.io

install_packages() {
    local missing=()
    # Debian's package of the Docker engine (its name, not a registry).
    command -v dockerd >/dev/null || missing+=("$DOCKER_ENGINE_PACKAGE")
    if [ "$want_base" -eq 1 ] && ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
        missing+=(debootstrap)
    fi
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }

start_engine() {
    if engine_answers; then
        log "a Docker engine answers already"
        return 0
    fi
    command -v dockerd >/dev/null || die "dockerd is not installed"
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    # setsid: the daemon outlives this script and the CI step that ran it.
    $SUDO setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    local waited=0
    until engine_answers; do
        if [ "$waited" -ge "$ENGINE_WAIT_S" ]; then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer within ${ENGINE_WAIT_S}s; see $DOCKERD_LOG"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "engine ready after ${waited}s"
}

# Print "CODENAME MIRROR" from this machine's apt sources (deb822 *.sources first, then one-line lists).
apt_mirror() {
    python3 - <<'PY'
import glob, re, sys

release = {}
with open("/etc/os-release", encoding="utf-8") as f:
    for line in f:
        key, _, value = line.strip().partition("=")
        release[key] = value.strip('"')
codename = release.get("VERSION_CODENAME", "")
if not codename:
    sys.exit("docker-setup: /etc/os-release names no VERSION_CODENAME")

def deb822(path):
    with open(path, encoding="utf-8") as f:
        for block in re.split(r"\n\s*\n", f.read()):
            fields = {}
            for line in block.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
            if (
                "deb" in fields.get("types", [])
                and codename in fields.get("suites", [])
                and fields.get("enabled", ["yes"])[0].lower() != "no"
                and fields.get("uris")
            ):
                yield fields["uris"][0]

def one_line(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(line) >= 3 and line[0] == "deb" and line[2] == codename:
                yield line[1]

paths = sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
lists = sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + glob.glob("/etc/apt/sources.list")
for path in paths:
    for uri in deb822(path):
        print(codename, uri)
        sys.exit(0)
for path in lists:
    for uri in one_line(path):
        print(codename, uri)
        sys.exit(0)
sys.exit(f"docker-setup: no apt source for suite {codename!r} in /etc/apt/sources.list(.d)")
PY
}

# The CA bundle this machine gives pip (PIP_CERT, pip's own config, then the system default).
ca_bundle() {
    local cert="${PIP_CERT:-}"
    if [ -z "$cert" ]; then
        cert="$(python3 -m pip config get global.cert 2>/dev/null || true)"
    fi
    [ -n "$cert" ] || cert="${SSL_CERT_FILE:-}"
    if [ -n "$cert" ] && [ -f "$cert" ]; then
        printf '%s\n' "$cert"
    fi
}

make_base() {
    if [ "${CHAT_DOCKER_BASE_REBUILD:-}" != "1" ] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE exists already"
        return 0
    fi
    local started codename mirror rootfs bundle
    started=$(date +%s)
    read -r codename mirror < <(apt_mirror) || die "could not read a mirror from the apt sources"
    rootfs="$(mktemp -d /tmp/chat-base.XXXXXX)"
    # shellcheck disable=SC2064  # expand now: the folder name is fixed from here on
    trap "$SUDO rm -rf '$rootfs'" EXIT
    log "debootstrap $codename (minbase + $BASE_PACKAGES) from the machine's apt mirror"
    $SUDO debootstrap --variant=minbase --include="$BASE_PACKAGES" "$codename" "$rootfs" "$mirror" \
        >"$rootfs.log" 2>&1 || {
        tail -n 20 "$rootfs.log" >&2
        die "debootstrap failed; full log in $rootfs.log"
    }
    # Package caches and lists are only dead weight in an image.
    $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    bundle="$(ca_bundle)"
    if [ -n "$bundle" ]; then
        log "copying this machine's CA bundle ($bundle) into the base"
        $SUDO install -m 0644 "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    fi
    # An imported image has no configuration: give it what the python images have.
    $SUDO tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "debootstrap $codename minbase + $BASE_PACKAGES" \
        - "$BASE_IMAGE" >/dev/null
    $SUDO rm -rf "$rootfs" "$rootfs.log"
    trap - EXIT
    log "base image $BASE_IMAGE made in $(($(date +%s) - started))s ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE") bytes)"
}

install_packages
start_engine
if [ "$want_base" -eq 1 ]; then
    make_base
fi
