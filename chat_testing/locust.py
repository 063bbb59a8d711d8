"""Load from many machines: a Locust user that plays a dialogue file against a chat server.

Locust (``pip install chat-classic[load]``) is the distributed load engine: one master,
any number of workers on any hosts, its own web UI, CSV and Docker image. This module
gives it a user class for the chat line protocol. Each user opens a connection and plays
the dialogue as ``chat-bot --connect`` would (the same sans-IO :class:`bots.driver.Driver`
and codec, on Locust's gevent sockets), then starts over on a new connection.

Every message received is one request in Locust's statistics: request type ``chat``, the name
of the step it answered (``test.chat.yaml:12 step 2 expect``, or ``reply`` when no step
expected it), the latency from our last message to it, and its length. A step that fails
is a failure whose message names the step's ``file:line``, what was expected and what came.

A locustfile::

    from chat_testing.locust import ChatUser

    class Player(ChatUser):
        dialogue = "tests/test_greeter.chat.yaml"   # or --chat-dialogue on the command line

then ``locust -f locustfile.py --host 127.0.0.1:65432``; see docs/benchmark.md for a
distributed run.
"""

from __future__ import annotations

import socket
import time
from typing import Any, ClassVar

from locust import User, events, task
from locust.exception import StopUser

from bots.actions import Action, Close, Send, StepResult
from bots.driver import Driver
from bots.engine import Conversation
from bots.loader import load_dialogue
from bots.model import Dialogue
from bots.report import format_result
from chat.protocol import NEED_DATA, ChatConnection, ConnectionClosed, MessageTooLong

REQUEST_TYPE = "chat"  # the request type every turn is reported under
UNEXPECTED = "reply"  # the name of a message that no expect step was waiting for
RECV_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 10.0  # a connection slower than this is a failure, not a figure


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--chat-dialogue",
        default="",
        help="dialogue file the chat users play (default: the user class's own)",
    )


def parse_host(host: str) -> tuple[str, int]:
    """``HOST:PORT``, ``tcp://HOST:PORT`` or ``[::1]:PORT`` as (host, port)."""
    text = host.removeprefix("tcp://").rstrip("/")
    name, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--host {host!r} is not HOST:PORT (e.g. 127.0.0.1:65432)")
    return name.strip("[]"), int(port)


class ChatUser(User):
    """A Locust user: plays a dialogue file with the server at ``--host``, connection after connection."""

    abstract = True
    #: The dialogue file to play (``--chat-dialogue`` overrides it).
    dialogue: str = ""
    #: Dialogues loaded once per process, whatever the number of users.
    _loaded: ClassVar[dict[str, Dialogue]] = {}

    def on_start(self) -> None:
        path = getattr(self.environment.parsed_options, "chat_dialogue", "") or self.dialogue
        if not path:
            raise StopUser("no dialogue: set ChatUser.dialogue or pass --chat-dialogue FILE")
        if path not in self._loaded:
            self._loaded[path] = load_dialogue(path)
        self.script = self._loaded[path]
        self.address = parse_host(self.host or "")

    @task
    def play(self) -> None:
        """One conversation on one connection, start to end."""
        fire = self.environment.events.request.fire
        started = time.perf_counter()
        try:
            sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            fire(
                request_type=REQUEST_TYPE,
                name="connect",
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=exc,
            )
            return
        try:
            _Chat(sock, self.script, fire).run()
        finally:
            sock.close()


class _Chat:
    """One connection: the codec and the dialogue's driver, on blocking (gevent) socket calls."""

    def __init__(self, sock: socket.socket, dialogue: Dialogue, fire: Any) -> None:
        self.sock = sock
        self.codec = ChatConnection(line_end=dialogue.line_end.bytes)
        self.driver = Driver(Conversation(dialogue, delays=False))
        self.fire = fire
        self.sent_at = time.perf_counter()
        self.closing = False

    def run(self) -> None:
        self.perform(self.driver.start(time.monotonic()))
        while not self.closing:
            wakeup = self.driver.wakeup
            self.sock.settimeout(None if wakeup is None else max(0.0, wakeup - time.monotonic()))
            try:
                data = self.sock.recv(RECV_BYTES)
            except TimeoutError:
                self.perform(self.driver.poll(time.monotonic()), report_failures=True)
                continue
            except OSError as exc:
                self.report_lost(exc)
                return
            self.codec.receive_data(data)
            while not self.closing and (event := self.codec.next_event()) is not NEED_DATA:
                now = time.monotonic()
                if isinstance(event, str):  # a message
                    self.turn(event, self.driver.receive(event, now))
                elif isinstance(event, MessageTooLong):
                    self.turn("", self.driver.receive_oversize(event.limit, now))
                else:
                    assert isinstance(event, ConnectionClosed)
                    self.perform(self.driver.peer_closed(now), report_failures=True)
                    self.closing = True

    def turn(self, text: str, actions: list[Action]) -> None:
        """Report the message just received as one request, then carry out the driver's actions."""
        latency_ms = (time.perf_counter() - self.sent_at) * 1000
        results = [a for a in actions if isinstance(a, StepResult) and a.expected is not None]
        name = f"{results[0].where.file_line} {results[0].label}" if results else UNEXPECTED
        failed = next((r for r in results if r.verdict == "FAIL"), None)
        self.fire(
            request_type=REQUEST_TYPE,
            name=name,
            response_time=latency_ms,
            response_length=len(text.encode()),
            exception=None if failed is None else AssertionError(format_result(failed, elapsed=False)),
        )
        self.perform(actions)

    def perform(self, actions: list[Action], *, report_failures: bool = False) -> None:
        """Send what the driver says; a failure not tied to a message (a timeout) is reported here."""
        for action in actions:
            if isinstance(action, Send):
                framed = self.codec.frame_any(action.text)  # a line break travels as its escape
                if framed is not None:  # over the size limit even so: not sent, as the bot's notice says
                    self.sock.sendall(framed[1])
                self.sent_at = time.perf_counter()
            elif isinstance(action, Close):
                self.closing = True
            elif report_failures and isinstance(action, StepResult) and action.verdict == "FAIL":
                self.fire(
                    request_type=REQUEST_TYPE,
                    name=f"{action.where.file_line} {action.label}",
                    response_time=(time.perf_counter() - self.sent_at) * 1000,
                    response_length=0,
                    exception=AssertionError(format_result(action, elapsed=False)),
                )

    def report_lost(self, exc: OSError) -> None:
        self.fire(
            request_type=REQUEST_TYPE,
            name="connection",
            response_time=(time.perf_counter() - self.sent_at) * 1000,
            response_length=0,
            exception=exc,
        )
        self.closing = True


__all__ = ["ChatUser", "parse_host"]
