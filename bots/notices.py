"""The bot's own words outside the dialogue, each in a long and shorter forms, fitted to the size limit.

A notice (busy, idle, a message over the limit, a reply that cannot be sent) is sent
whatever ``--max-message-bytes`` is: the longest form that fits is chosen, and under a
limit too small for any, the shortest one cut to fit. A notice never fails to frame, and
is never replaced by another notice.
"""

from __future__ import annotations

#: --max-clients reached: the notice, then `exit`, then the connection closes.
BUSY = (
    "busy: this bot serves at most {limit} clients at once; try again later",
    "busy: too many clients; try again later",
    "busy: try again later",
    "busy",
)
#: A new client while the bot is stopping.
STOPPING = ("busy: this bot is stopping; try again later", "busy: stopping", "busy")
#: --idle-timeout passed: the notice, then `exit`.
IDLE = (
    "idle: no message for {seconds:g} s, so this bot closed the chat",
    "idle: no message for {seconds:g} s",
    "idle: closed",
    "idle",
)
#: The peer's message was over the limit and was not read.
OVERSIZE_IN = (
    "[your message was over the {limit}-byte limit; I did not read it]",
    "[message over {limit:,} bytes, not read]",
    "[not read]",
)
#: A reply (so escaped) over the limit: it is not sent, this goes instead.
OVERSIZE_OUT = (
    "[reply over the {limit:,}-byte limit, not sent]",
    "[reply too long, not sent]",
    "[not sent]",
)

#: A bug ended this chat (an exception in a turn): the notice, then `exit` (every other chat goes on).
INTERNAL_ERROR = (
    "[the bot hit an internal error and ends this chat; please report it]",
    "[internal error: chat ended]",
    "[internal error]",
)


def fit(forms: tuple[str, ...], max_bytes: int, /, **values: object) -> str:
    """The first (longest) of *forms*, filled with *values*, whose UTF-8 fits *max_bytes*.

    Under a limit too small for every form, the last one cut to the limit.
    """
    text = ""
    for form in forms:
        text = form.format(**values)
        if len(text.encode()) <= max_bytes:
            return text
    return text.encode()[:max_bytes].decode(errors="ignore")


__all__ = ["BUSY", "IDLE", "INTERNAL_ERROR", "OVERSIZE_IN", "OVERSIZE_OUT", "STOPPING", "fit"]
