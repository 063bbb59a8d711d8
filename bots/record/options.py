"""chat-bot's recording options: ``--record OUT --to HOST:PORT [--record-peer FILE] [--volatile]``.

Imported at start-up by :mod:`bots.cli`: argparse only; the proxy and the writer are
imported when a recording is asked for.
"""

from __future__ import annotations

import argparse
import os
import sys

from chat import program
from chat.errors import ChatError, UsageError
from chat.status import ExitStatus

SUFFIXES = (".chat.yaml", ".yaml")  # taken off the output's file name to name the dialogue


def address(text: str) -> tuple[str, int]:
    """argparse type of --to: ``HOST:PORT``, ``[IPv6]:PORT``."""
    host, colon, port = text.rpartition(":")
    if not colon or not host:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST:PORT (an IPv6 address goes in brackets: [::1]:PORT)"
        )
    number = program.port_number(port)
    if number == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: port 0 names no server: give the port it listens on")
    return host.removeprefix("[").removesuffix("]"), number


def add(parser: argparse.ArgumentParser) -> None:
    """Add --record, --to, --record-peer and --volatile."""
    group = parser.add_argument_group("recording a test (docs/testing.md, 'Recording a test')")
    group.add_argument(
        "--record",
        metavar="OUT",
        help="listen on --host/--port, pass one client's chat with --to unchanged, and write it to OUT as a "
        "test dialogue (format 1.2): the client's lines as say steps, the server's as expect steps",
    )
    group.add_argument("--to", type=address, metavar="HOST:PORT", help="with --record: the server to record")
    group.add_argument(
        "--record-peer",
        metavar="FILE",
        help="with --record: also write the chat as the dialogue that plays the server (to test the client)",
    )
    group.add_argument(
        "--volatile",
        action="store_true",
        help="with --record: expect numbers of 4+ digits, hex ids, times and dates as captures, and say a "
        "captured token again as its variable",
    )


def _name(path: str) -> str:
    base = os.path.basename(path)
    for suffix in SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base


def _check_output(path: str, option: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist: create it first")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: that is a folder: name the file to write")


def _write(path: str, text: str) -> None:
    """Write *text* whole (a temporary file renamed into place): an editor never sees half a file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def record_role(args: argparse.Namespace) -> int:
    """--record: serve as the proxy of one chat, then write its dialogue(s); the status of how it ended."""
    from bots import loops
    from bots.record import proxy, write
    from bots.record.session import CLIENT, SERVER, Line, Recording
    from chat.display import say, visible
    from chat.net import endpoint

    _check_output(args.record, "--record")
    if args.record_peer:
        _check_output(args.record_peer, "--record-peer")
    to_host, to_port = args.to
    source = endpoint(to_host, to_port)
    recording = Recording(args.max_message_bytes)

    def announce(bound: int) -> None:
        # The listening line of every chat program, so that tools and the harness find the port.
        say(f"Recorder listening on {endpoint(args.host, bound)}..., to record a chat with {source}")

    def show(line: Line) -> None:
        text = "[a line over the size limit]" if line.text is None else visible(line.text)
        say(f"{'Client' if line.side == CLIENT else 'Server'}: {text}")

    status = loops.run(
        proxy.record(
            recording,
            args.host,
            program.resolve_port(args),
            to_host,
            to_port,
            announce=announce,
            show=None if args.quiet else show,
        ),
        args.loop,
    )
    if not recording.lines and status is not ExitStatus.SUCCESS:
        return int(status)  # cut before anything crossed: nothing to keep
    try:
        written = [
            (
                args.record,
                write.dialogue(
                    recording, CLIENT, name=_name(args.record), source=source, volatile=args.volatile
                ),
            )
        ]
        if args.record_peer:
            peer = write.dialogue(
                recording, SERVER, name=_name(args.record_peer), source=source, volatile=args.volatile
            )
            written.append((args.record_peer, peer))
    except write.NothingRecorded as exc:
        raise NothingCrossed(f"{exc}: no dialogue written") from None
    for path, text in written:
        _write(path, text)
    lines = len(recording.lines)
    peer_note = f", and the peer dialogue to {args.record_peer}" if args.record_peer else ""
    say(f"Recorded {lines} line{'' if lines == 1 else 's'} into {args.record}{peer_note}")
    if recording.cut is not None:
        print(
            f"chat-bot: the recording was cut by a signal: {args.record} ends where it stopped",
            file=sys.stderr,
        )
    return int(status)


class NothingCrossed(ChatError):
    """The chat ended before a whole line crossed: there is nothing to make a dialogue of."""

    status = ExitStatus.PEER_LOST


__all__ = ["NothingCrossed", "add", "address", "record_role"]
