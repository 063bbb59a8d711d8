"""chat-bot: serve, connect, test or check with a YAML dialogue file.

Start-up matters (``chat-bot --check`` runs in editors and CI): asyncio, JSON
and XML are imported only by the roles that use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from bots import loops
from bots.coverage import options as coverage_options
from bots.files import DIALOGUE_SUFFIX, bundled_dialogues, check, print_schema, script_path
from bots.files import bundled_dialogue_path as bundled_dialogue_path  # where callers have found it
from bots.limits import DEFAULT_MAX_CLIENTS, max_clients
from bots.loader import DialogueError, load_dialogue
from bots.model import Dialogue
from bots.record import options as record_options
from bots.roles import choose_role
from chat import program
from chat.display import say, visible
from chat.status import ExitStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from bots.actions import Outcome, StepResult
    from bots.connect import ConnectOptions
    from bots.report import Transcript

PROG = "chat-bot"

DESCRIPTION = """\
A chat bot for the classic chat, driven by a YAML dialogue file.

  chat-bot --try                          chat with the bundled bot right here
  chat-bot --script d.yaml --port 0       serve many clients (chat-client, classic client, nc)
  chat-bot --script t.yaml --connect      dial a server and speak first; a dialogue
                                          with expect steps tests that server
  chat-bot --connect --script a.yaml d/   run dialogue tests as one suite (d/: its test_*.chat.yaml)
  chat-bot --check d.yaml ...             validate dialogue files, every error as file:line:col
  chat-bot --list                         name the bundled dialogues (--script quiz runs quiz.yaml)
  chat-bot --record t.yaml --to HOST:PORT record a chat through this proxy as a test dialogue
  chat-bot --coverage-report DATAFILE     what the chats run with --coverage DATAFILE never used

Without --script the bundled default dialogue (a friendly greeter) is used."""


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value


class VersionWithLoop(argparse.Action):
    """--version: the version and the event loop a chat would run on (asked for only: importlib.metadata)."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, version: str, help: str | None = None
    ) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS, help=help)
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: object) -> None:
        loop = loops.check(getattr(namespace, "loop", None) or loops.default_loop())
        print(
            f"{self.version % {'prog': parser.prog}}, event loop {loops.describe(loop)}"
        )  # stdout, as argparse
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The chat-bot command line."""
    parser = program.new_parser(PROG, DESCRIPTION, statuses=tuple(ExitStatus))
    parser.add_argument(
        "--script",
        nargs="+",
        metavar="FILE",
        help="the dialogue file (YAML, format version 1), or the name of a bundled dialogue "
        "(see --list); default: the bundled greeter. With --connect, several files and directories "
        "run as one suite (a directory: its test_*.chat.yaml files)",
    )
    parser.add_argument(
        "--list", action="store_true", help="name the bundled dialogues with their descriptions, and exit"
    )
    parser.add_argument(
        "--print-schema",
        action="store_true",
        help="print the JSON Schema of dialogue files (for editors), and exit",
    )
    parser.add_argument(
        "--check",
        nargs="+",
        metavar="FILE",
        help="validate dialogue files (or bundled dialogues by name, as --script takes them) and exit: "
        "0 when all are valid, 5 otherwise",
    )
    parser.add_argument(
        "--try",
        dest="try_it",
        action="store_true",
        help="serve the dialogue on a free loopback port and chat with it in this terminal, "
        "through the chat-client screen",
    )
    parser.add_argument(
        "--connect",
        action="store_true",
        help="dial the server at --host/--port and speak first, as chat-client does",
    )
    parser.add_argument(
        "--classic",
        action="store_true",
        help="with --connect: the server is the classic server.py (messages without a newline)",
    )
    program.add_address_options(parser, listening=True)
    parser.add_argument("--seed", help="seed for random replies and delays: the same seed, the same chat")
    parser.add_argument(
        "--no-delay", action="store_true", help="reply at once, ignoring the dialogue's delay"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="serve a single chat, then exit with its outcome (test a client program this way)",
    )
    parser.add_argument(
        "--max-clients",
        type=max_clients,
        metavar="N",
        help=f"serve at most N clients at once (default {DEFAULT_MAX_CLIENTS:,}; 0: no bound); "
        "one more gets a 'busy' line and exit, and is closed",
    )
    parser.add_argument(
        "--idle-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="close a client that sends nothing for this long, with one line telling it why",
    )
    parser.add_argument(
        "--transcript", metavar="FILE", help="write every message as JSON Lines: time, direction, text"
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="write the test report as JUnit XML (with --connect or --once)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not show the chat lines, only the report")
    parser.add_argument(
        "--verbose", action="store_true", help="serving: print a line when a chat begins or ends"
    )
    program.add_tls_server_options(parser)
    program.add_tls_client_options(parser)
    parser.add_argument(
        "--loop",
        choices=loops.LOOPS,
        default=loops.default_loop(),
        help="the event loop of a chat: uvloop, the default wherever it is installed (with the package, "
        "except on Windows and PyPy), costs less per turn; asyncio is the standard loop (default here: "
        "%(default)s)",
    )
    record_options.add(parser)
    coverage_options.add(parser)
    program.add_common_options(parser, VersionWithLoop)
    return parser


def list_dialogues() -> int:
    """--list: each bundled dialogue's name (what --script takes) and description."""
    import os

    names = [
        (os.path.basename(p)[: -len(DIALOGUE_SUFFIX)], load_dialogue(p).description)
        for p in bundled_dialogues()
    ]
    width = max(len(name) for name, _ in names)
    for name, description in names:
        say(f"{name:<{width}}  {description}".rstrip())
    return int(ExitStatus.SUCCESS)


def given_options(argv: Sequence[str] | None) -> set[str]:
    """The dests of the options written on the command line (not those left at their defaults)."""
    parser = build_parser()
    for action in parser._actions:  # argparse has no public way to list what was given
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options and run the chosen role; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    role = choose_role(args, given_options(argv))
    if role == "--check":
        return check(args.check)
    if role == "--list":
        return list_dialogues()
    if role == "--print-schema":
        return print_schema()
    if role == "--coverage-report":
        return coverage_options.report_role(args)
    loops.check(args.loop)
    if role == "--record":
        return record_options.record_role(args)
    if role == "--connect" and args.script and (len(args.script) > 1 or os.path.isdir(args.script[0])):
        return suite_role(args)
    dialogue = load_reporting_all(script_path(args.script[0] if args.script else None))
    if role == "--try":
        return try_it(dialogue, args)
    args.collector = coverage_options.collector(args, dialogue)  # --coverage: None unless asked
    transcript = None
    if args.transcript:
        from bots.report import Transcript

        transcript = Transcript(args.transcript)
    try:
        if role == "--connect":
            return connect_role(dialogue, args, transcript)
        return serve_role(dialogue, args, transcript)
    finally:
        if transcript is not None:
            transcript.close()
        coverage_options.save(args.collector)


def load_reporting_all(path: str) -> Dialogue:
    """Load a dialogue; print every problem but the last on stderr, and raise with the last one."""
    try:
        return load_dialogue(path)
    except DialogueError as exc:
        if len(exc.problems) > 1:
            for problem in exc.problems[:-1]:
                print(f"{PROG}: {problem}", file=sys.stderr)
            raise DialogueError(exc.problems[-1:]) from None
        raise


def _screen(me: str, peer: str) -> Callable[[str, str], None]:
    def show(direction: str, text: str) -> None:
        say(f"{me if direction == 'out' else peer}: {visible(text)}")

    return show


def _end_line(outcome: Outcome, me: str, peer: str) -> None:
    from bots.actions import Outcome

    if outcome is Outcome.ENDED_BY_PEER:
        say(f"{peer} ended the chat.")
    elif outcome is Outcome.ENDED_BY_BOT:
        say(f"{me} ended the chat.")


def _finish(
    dialogue: Dialogue,
    args: argparse.Namespace,
    outcome: Outcome,
    reason: str,
    results: list[StepResult],
    elapsed: float,
    started_wall: float,
) -> int:
    from bots import report

    if dialogue.is_test:
        for skipped in report.not_run(dialogue, results):
            say(f"NOT RUN {skipped.where.file_line} {skipped.label}")
        say(report.summary(dialogue, results, outcome, elapsed))
    if args.junit:
        report.write_junit(args.junit, dialogue, results, outcome, reason, elapsed, started_wall)
    if outcome.status is not ExitStatus.SUCCESS:
        raise report.failure(results, outcome, reason)
    return int(ExitStatus.SUCCESS)


def _connect_options(args: argparse.Namespace, transcript: Transcript | None) -> ConnectOptions:
    """The connecting role's options, from the command line."""
    from bots.connect import ConnectOptions

    return ConnectOptions(
        seed=args.seed,
        delays=not args.no_delay,
        max_message_bytes=args.max_message_bytes,
        classic=args.classic,
        transcript=transcript,
        tls=program.client_tls(args),
        coverage=args.collector,
    )


def connect_role(dialogue: Dialogue, args: argparse.Namespace, transcript: Transcript | None) -> int:
    """--connect: dial, speak first, chat to the end; a test dialogue's verdict is the exit status."""
    import time

    from bots.connect import run_connect
    from bots.report import format_result

    port = program.resolve_port(args)
    options = _connect_options(args, transcript)
    show = None if args.quiet else _screen("Client", "Server")

    def on_result(result: StepResult) -> None:
        if dialogue.is_test:
            say(format_result(result))

    started, started_wall = time.monotonic(), time.time()
    chat = run_connect(dialogue, args.host, port, options, screen=show, on_result=on_result, loop=args.loop)
    if chat.interrupted is not None:
        say("Client ended the chat.")
        return int(chat.interrupted)
    if not args.quiet:
        _end_line(chat.outcome, "Client", "Server")
    return _finish(
        dialogue, args, chat.outcome, chat.reason, chat.results, time.monotonic() - started, started_wall
    )


def suite_role(args: argparse.Namespace) -> int:
    """--connect with several dialogue files: one connection each, one summary, the worst cause's status."""
    import time

    from bots import report, suite
    from bots.connect import run_connect
    from chat.errors import ConnectError

    paths = suite.expand(args.script)
    args.collector = coverage_options.collector(args)
    port = program.resolve_port(args)
    transcript = report.Transcript(args.transcript) if args.transcript else None
    options = _connect_options(args, transcript)
    show = None if args.quiet else _screen("Client", "Server")
    statuses: list[ExitStatus] = []
    suites: list[ET.Element] = []
    first_failure = ""
    started = time.monotonic()

    def on_result(result: StepResult) -> None:
        say(report.format_result(result))

    def could_not_run(path: str, message: str, status: ExitStatus, started_wall: float) -> None:
        nonlocal first_failure
        say(f"ERROR {message}")
        statuses.append(status)
        suites.append(report.junit_error_suite(path, message, status, started_wall))
        first_failure = first_failure or message

    try:
        for path in paths:
            say(f"== {path}")
            began, began_wall = time.monotonic(), time.time()
            try:
                dialogue = load_dialogue(script_path(path))
            except DialogueError as exc:
                for problem in exc.problems[:-1]:
                    say(f"ERROR {problem}")
                could_not_run(path, str(exc.problems[-1]), ExitStatus.INVALID_DIALOGUE, began_wall)
                continue
            try:
                chat = run_connect(
                    dialogue, args.host, port, options, screen=show, on_result=on_result, loop=args.loop
                )
            except ConnectError as exc:
                could_not_run(path, f"{path}: {exc}", exc.status, began_wall)
                continue
            if chat.interrupted is not None:
                say("Client ended the chat.")
                return int(chat.interrupted)
            if show is not None:
                _end_line(chat.outcome, "Client", "Server")
            elapsed = time.monotonic() - began
            for skipped in report.not_run(dialogue, chat.results):
                say(f"NOT RUN {skipped.where.file_line} {skipped.label}")
            say(report.summary(dialogue, chat.results, chat.outcome, elapsed))
            statuses.append(chat.outcome.status)
            suites.append(
                report.junit_suite(dialogue, chat.results, chat.outcome, chat.reason, elapsed, began_wall)
            )
            if chat.outcome.status is not ExitStatus.SUCCESS and not first_failure:
                first_failure = str(report.failure(chat.results, chat.outcome, chat.reason))
    finally:
        if transcript is not None:
            transcript.close()
        if args.junit:
            report.write_junit_suites(args.junit, suites)
        coverage_options.save(args.collector)
    say(suite.summary(statuses, time.monotonic() - started))
    status = suite.worst(statuses)
    if status is not ExitStatus.SUCCESS:
        passed, failed, errors = suite.tally(statuses)
        counts = f"{passed} passed, {failed} failed, {errors} errors"
        raise report.TestFailed(f"suite failed ({counts}); first: {first_failure}", status)
    return int(ExitStatus.SUCCESS)


def serve_role(dialogue: Dialogue, args: argparse.Namespace, transcript: Transcript | None) -> int:
    """The default role: listen and serve every client with its own conversation."""
    import time

    from bots.adapter import BotConnection
    from bots.report import format_result
    from bots.server import BotServer, ServeOptions, raise_open_file_limit

    port = program.resolve_port(args)
    options = ServeOptions(
        seed=args.seed,
        delays=not args.no_delay,
        max_message_bytes=args.max_message_bytes,
        max_clients=args.max_clients,
        idle_timeout=args.idle_timeout,
        once=args.once,
        transcript=transcript,
        tls=program.server_tls(args),
        coverage=args.collector,
    )
    results: list[StepResult] = []
    show_chat = args.once and not args.quiet
    started = [0.0, 0.0]

    def on_result(_connection: BotConnection, result: StepResult) -> None:
        if args.once:
            results.append(result)
            if dialogue.is_test:
                say(format_result(result))

    def log(line: str) -> None:
        if args.verbose:
            say(line)

    def announce(bound: int) -> None:
        # The chat-server listening line, so tools and the test harness find the port.
        say(f"Bot listening on {args.host}:{bound}...")
        started[0], started[1] = time.monotonic(), time.time()

    raise_open_file_limit()

    async def serve_once_aware() -> tuple[int, BotServer]:
        import signal
        import threading

        server = BotServer(dialogue, options, log=log, on_result=on_result)
        bound = await server.start(args.host, port)
        assert server.run is not None
        if show_chat:
            server.run.screen = _screen("Server", "Client")
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread() and sys.platform != "win32":
            loop.add_signal_handler(signal.SIGTERM, server.stop, ExitStatus.TERMINATED)
            loop.add_signal_handler(signal.SIGINT, server.stop, ExitStatus.INTERRUPTED)
            loop.add_signal_handler(signal.SIGHUP, server.stop, ExitStatus.HANGUP)  # its terminal closed
        announce(bound)
        status = await server.wait_stopped()
        return int(status), server

    import asyncio

    status, server = loops.run(serve_once_aware(), args.loop)
    if transcript is not None:
        transcript.flush()
    if not args.once or server.outcome is None:
        return status
    if show_chat:
        _end_line(server.outcome, "Server", "Client")
    reason = "the chat ended" if server.outcome.status is ExitStatus.SUCCESS else server.reason
    return _finish(dialogue, args, server.outcome, reason, results, time.monotonic() - started[0], started[1])


def try_it(dialogue: Dialogue, args: argparse.Namespace) -> int:
    """--try: serve in-process on a free loopback port and chat with it through the chat-client screen."""
    from bots.server import ServeOptions, ServerThread
    from chat.classic.client import chat_as_client

    # One client, the one in this terminal: no bound to cap at the open-file limit, and no line about it.
    options = ServeOptions(
        seed=args.seed, delays=not args.no_delay, max_message_bytes=args.max_message_bytes, max_clients=1
    )
    with ServerThread(dialogue, options, host="127.0.0.1", port=0, loop=args.loop) as bot:
        return chat_as_client("127.0.0.1", bot.port, max_message_bytes=args.max_message_bytes, peer="the bot")


def run() -> None:
    """Console-script entry point."""
    sys.exit(program.run(PROG, main))


if __name__ == "__main__":
    run()
