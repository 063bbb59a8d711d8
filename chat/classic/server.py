"""chat-server: wait for one client, then chat with it turn by turn (the classic server.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from chat import program
from chat.classic.channel import Channel, bound_port, listen
from chat.classic.session import converse
from chat.classic.terminal import enable_line_editing
from chat.display import say
from chat.net import endpoint, tls_client_error
from chat.protocol import ChatConnection
from chat.status import ExitStatus

PROG = "chat-server"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, listen, accept one client and chat; return the exit status."""
    parser = program.new_parser(
        PROG,
        "Wait for one chat client, then chat with it turn by turn: the client speaks first, "
        "and 'exit' from either side ends the chat.",
    )
    program.add_address_options(parser, listening=True)
    program.add_tls_server_options(parser)
    program.add_common_options(parser)
    args = parser.parse_args(argv)
    port = program.resolve_port(args)
    context = program.server_tls(args)

    # Before the chat starts, not between "Connected by" and the turn loop: a
    # Ctrl-C there (importing readline takes a while) would leave the peer unaware.
    enable_line_editing()
    listener = listen(args.host, port)
    try:
        # The classic line, kept byte for byte; with --port 0 it shows the real port.
        say(f"Server listening on {args.host}:{bound_port(listener)}...")
        try:
            sock, addr = listener.accept()
        except KeyboardInterrupt:
            return int(ExitStatus.INTERRUPTED)
    finally:
        # One chat per run, as in the classic server: later callers are refused
        # at once instead of waiting forever in the backlog.
        listener.close()
    peer = f"the client at {endpoint(str(addr[0]), int(addr[1]))}"
    if context is not None:
        from chat import tls  # ssl only when TLS is asked for

        sock = tls.wrap_server(sock, context, peer)
    channel = Channel(sock, ChatConnection(args.max_message_bytes), peer, tls_mismatch=tls_client_error(peer))
    try:
        say(f"Connected by {addr}")
        return int(converse(channel, me="Server", peer="Client", speak_first=False))
    finally:
        channel.close()


def run() -> None:
    """Console-script entry point."""
    sys.exit(program.run(PROG, main))


if __name__ == "__main__":
    run()
