"""The bot's bounds: clients at once (its default, and how --max-clients reads), and a chat's state.

A chat's state is what a dialogue makes and keeps while it runs: its variables and its
remembered replies (issue 19, item 2). Each value is bounded, and so is their number,
so no dialogue and no peer can make one chat grow without bound: `set: {v: "{v}{v}"}`
took a serving bot from 26 to 539 MiB in 25 messages, then a MemoryError.
"""

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


# -- a chat's state (issue 19, item 2) -----------------------------------------------------

#: Characters a variable's value, or a remembered reply, holds at most; a longer one is cut here.
#: Four times what patterns see of a message (1,024): room for a name, a few captures and their
#: text, or a short message kept whole; a `set:` that would pass it (`{v}{v}`) stops growing.
MAX_VALUE_CHARS = 4096
#: Variable names a dialogue may use (under `vars`, in `set:`, as an expect step's captures), with
#: its included files: with MAX_VALUE_CHARS, at most 1,048,576 characters of variables per chat,
#: about one message at the --max-message-bytes default. Dialogues use a handful.
MAX_VARIABLES = 256
#: Characters of one reply, at most: the default --max-message-bytes (1 MiB), which a longer
#: reply could never be sent under (a character is at least a byte). A reply that would pass it
#: (`{input}{input}` on a 600 KB message) is not built: REPLY_REFUSED goes instead.
MAX_REPLY_CHARS = 1 << 20
#: What the bot says instead of a reply over MAX_REPLY_CHARS (as for one over --max-message-bytes).
REPLY_REFUSED = f"[reply over the {MAX_REPLY_CHARS:,}-character limit, not sent]"


__all__ = [
    "DEFAULT_MAX_CLIENTS",
    "MAX_REPLY_CHARS",
    "MAX_VALUE_CHARS",
    "MAX_VARIABLES",
    "REPLY_REFUSED",
    "bound",
    "max_clients",
]
