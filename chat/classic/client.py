"""chat-client: connect to a chat server and chat turn by turn (the classic client.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from chat import program
from chat.classic.channel import Channel, connect
from chat.classic.session import converse
from chat.classic.terminal import enable_line_editing
from chat.display import say
from chat.net import endpoint, tls_server_error
from chat.protocol import ChatConnection

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import ssl

PROG = "chat-client"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, connect and chat; return the exit status."""
    parser = program.new_parser(
        PROG,
        "Connect to a chat server and chat turn by turn: you speak first at the 'Client: ' "
        "prompt, and 'exit' from either side ends the chat.",
    )
    program.add_address_options(parser, listening=False)
    parser.add_argument(
        "--classic",
        action="store_true",
        help="speak the classic wire style (messages without a newline) from the start, "
        "for the classic server.py; other servers are detected without it",
    )
    program.add_tls_client_options(parser)
    program.add_common_options(parser)
    args = parser.parse_args(argv)
    port = program.resolve_port(args)
    context = program.client_tls(args)

    return chat_as_client(
        args.host, port, max_message_bytes=args.max_message_bytes, classic=args.classic, tls=context
    )


def chat_as_client(
    host: str,
    port: int,
    *,
    max_message_bytes: int,
    classic: bool = False,
    peer: str = "the server",
    tls: ssl.SSLContext | None = None,
) -> int:
    """Connect to host:port and run the client's screen until the chat ends; return the exit status.

    chat-client runs it, and so does ``chat-bot --try`` against its in-process bot.
    """
    # Before connecting, not between the greeting and the turn loop: a Ctrl-C
    # there (importing readline takes a while) would leave the server unaware.
    enable_line_editing()
    sock = connect(host, port, tls)
    where = endpoint(host, port)
    channel = Channel(
        sock,
        ChatConnection(max_message_bytes, classic=classic),
        f"{peer} at {where}",
        tls_mismatch=tls_server_error(where),
    )
    try:
        say("Connected to server. Type 'exit' to quit.")
        return int(converse(channel, me="Client", peer="Server", speak_first=True))
    finally:
        channel.close()


def run() -> None:
    """Console-script entry point."""
    sys.exit(program.run(PROG, main))


if __name__ == "__main__":
    run()
