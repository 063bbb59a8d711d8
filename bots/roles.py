"""Which options go with which role of chat-bot: the roles, where each option applies, the one chosen."""

from __future__ import annotations

import argparse

from chat.errors import UsageError

#: The roles, each chosen by its option (serving is the default, chosen by none).
SERVING = "serving"
ROLE_OPTIONS = {
    "check": "--check",
    "try_it": "--try",
    "connect": "--connect",
    "list": "--list",
    "print_schema": "--print-schema",
    "record": "--record",
    "coverage_report": "--coverage-report",
}

#: Where each option applies (by argparse dest). An option given to a role it does not apply
#: to is a usage error naming both; options not listed (--max-message-bytes) apply everywhere.
APPLIES_TO: dict[str, tuple[str, tuple[str, ...]]] = {
    "script": ("--script", (SERVING, "--try", "--connect")),
    "host": ("--host", (SERVING, "--connect", "--record")),
    "port": ("--port", (SERVING, "--connect", "--record")),
    "seed": ("--seed", (SERVING, "--try", "--connect")),
    "no_delay": ("--no-delay", (SERVING, "--try", "--connect")),
    "classic": ("--classic", ("--connect",)),
    "once": ("--once", (SERVING,)),
    "max_clients": ("--max-clients", (SERVING,)),
    "idle_timeout": ("--idle-timeout", (SERVING,)),
    "transcript": ("--transcript", (SERVING, "--connect")),
    "junit": ("--junit", (SERVING, "--connect")),
    "quiet": ("--quiet", (SERVING, "--connect", "--record")),
    "verbose": ("--verbose", (SERVING,)),
    "tls_cert": ("--tls-cert", (SERVING,)),
    "tls_key": ("--tls-key", (SERVING,)),
    "tls": ("--tls", ("--connect",)),
    "tls_ca": ("--tls-ca", ("--connect",)),
    "coverage": ("--coverage", (SERVING, "--connect")),
    "fail_under": ("--fail-under", ("--coverage-report",)),
    "html": ("--html", ("--coverage-report",)),
    "to": ("--to", ("--record",)),
    "record_peer": ("--record-peer", ("--record",)),
    "volatile": ("--volatile", ("--record",)),
}


def choose_role(args: argparse.Namespace, given: set[str]) -> str:
    """The role the options ask for; a UsageError naming both options when they cannot go together."""
    roles = [flag for dest, flag in ROLE_OPTIONS.items() if dest in given]
    if len(roles) > 1:
        raise UsageError(f"{roles[0]} and {roles[1]} cannot be used together: choose one")
    role = roles[0] if roles else SERVING
    for dest, (flag, roles_of_option) in APPLIES_TO.items():
        if dest not in given or role in roles_of_option:
            continue
        if role == SERVING and dest == "classic":
            raise UsageError("--classic goes with --connect (a serving bot detects classic clients itself)")
        where = " and ".join(roles_of_option)
        raise UsageError(f"{flag} cannot be used with {role}: it is for {where}")
    if role == SERVING and args.junit and not args.once:
        raise UsageError("--junit reports one chat: use it with --connect or --once")
    if role != "--connect" and args.script and len(args.script) > 1:
        name = "serving" if role == SERVING else role
        raise UsageError(f"--script takes one file with {name}; several files run as a suite with --connect")
    if role == "--record" and not args.to:
        raise UsageError("--record needs --to HOST:PORT: the server whose chat it records")
    return role


__all__ = ["APPLIES_TO", "ROLE_OPTIONS", "SERVING", "choose_role"]
