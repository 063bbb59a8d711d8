"""The serving bot's bound on clients at once: its default, and how --max-clients reads."""

from __future__ import annotations

import argparse

#: Clients served at once unless --max-clients says otherwise. Each one is a socket, and the
#: bot raises its open-file limit to the hard limit, so without a bound anyone who can reach a
#: public bot (the Docker image listens on 0.0.0.0) could push it to that limit. 10,000 is what
#: Redis ships (maxclients): far above a chat test's needs (the benchmark holds 10,000 idle
#: clients in about 30 MiB), and well under the usual hard limit of 1,048,576 descriptors.
DEFAULT_MAX_CLIENTS = 10_000


def max_clients(text: str) -> int:
    """--max-clients N: a whole number >= 0; 0 means no bound."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (0: no bound), not {text!r}")
    return value


def bound(max_clients: int | None) -> int | None:
    """The bound in force: the default when none was given, None (no bound) for 0."""
    if max_clients is None:
        return DEFAULT_MAX_CLIENTS
    return max_clients or None


__all__ = ["DEFAULT_MAX_CLIENTS", "bound", "max_clients"]
