"""One classic chat conversation over a :class:`chat.classic.channel.Channel`, strictly turn by turn.

The server and the client run the same loop; they differ only in their names
and in who speaks first. The screen lines are the classic programs' own.
"""

from __future__ import annotations

import contextlib

from chat import signals
from chat.classic.channel import Channel
from chat.classic.terminal import ask
from chat.display import say, visible
from chat.errors import ChatError, PeerLost, Terminated
from chat.protocol import EXIT_WORD, ConnectionClosed, MessageTooLong, is_exit
from chat.status import ExitStatus


def _end_by_us(channel: Channel, me: str) -> None:
    # The peer learns of it the classic way: our last message is "exit" (after the rest of a
    # message a signal stopped), within the channel's grace: a peer that does not read gets a reset.
    # The ending signals wait meanwhile: a second one (SIGHUP right after Ctrl-D, as a closing
    # window sends them) must not cut the goodbye; it raises as this ends, and its status wins.
    with signals.held():
        say("")  # off the prompt's line
        with contextlib.suppress(ChatError):  # lost, reset, a TLS failure: we are ending anyway
            channel.end(EXIT_WORD)
        say(f"{me} ended the chat.")


def _show(event: object, channel: Channel, peer: str) -> bool:
    """Show what the peer sent; return True when the peer ended the chat."""
    if isinstance(event, str):  # a message
        say(f"{peer}: {visible(event)}")
        if is_exit(event):
            say(f"{peer} ended the chat.")
            return True
        return False
    if isinstance(event, MessageTooLong):
        say(
            f"{peer}: [message over the {event.limit:,}-byte limit, not shown; "
            "raise --max-message-bytes to receive it]"
        )
        return False
    assert isinstance(event, ConnectionClosed)
    raise PeerLost(f"connection lost: {channel.peer} closed the connection without saying 'exit'")


def converse(channel: Channel, *, me: str, peer: str, speak_first: bool) -> ExitStatus:
    """Chat until either side says ``exit``; return the exit status for the program.

    Ctrl-D, Ctrl-C, SIGTERM and SIGHUP end the chat from our side, each the same polite way
    (our ``exit``, then our line), with its own status.
    """
    try:
        return _take_turns(channel, me=me, peer=peer, speak_first=speak_first)
    except EOFError:  # Ctrl-D, or the end of piped input
        status = ExitStatus.SUCCESS
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except Terminated as exc:  # SIGTERM, SIGHUP
        status = exc.status
    _end_by_us(channel, me)
    return status


def _take_turns(channel: Channel, *, me: str, peer: str, speak_first: bool) -> ExitStatus:
    my_turn = speak_first
    while True:
        if my_turn:
            text = ask(f"{me}: ", channel)
            if text is None:  # the peer ended the chat while our person was typing
                while not _show(channel.receive(), channel, peer):
                    pass
                return ExitStatus.SUCCESS
            problem = channel.conn.unsendable(text)
            if problem is not None:
                # Too long for the limit, or a pasted line break: nothing is
                # sent, so the turn is still ours; say why and ask again.
                say(f"[{problem}; not sent, type it again]")
                continue
            channel.send(text)
            if is_exit(text):
                say(f"{me} ended the chat.")
                return ExitStatus.SUCCESS
        elif _show(channel.receive(), channel, peer):
            return ExitStatus.SUCCESS
        my_turn = not my_turn
