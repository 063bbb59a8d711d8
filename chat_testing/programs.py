"""Programs under test, started for one test and remembered for its transcript and teardown."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from chat_testing.classic import CLIENT, SERVER
from chat_testing.terminal import Terminal

#: chat-client's first line once connected, as the classic client prints it.
CONNECTED_TO_SERVER = "Connected to server. Type 'exit' to quit."
#: Every listening program's line: ``Server listening on HOST:PORT...``, ``Bot listening on ...``.
LISTENING = re.compile(r"listening on (\S+):(\d+)\.\.\.")


def listening_port(term: Terminal) -> int:
    """Read the real port from a program's ``... listening on HOST:PORT...`` line."""
    return int(term.expect_re(LISTENING.pattern).group(2))


class Programs:
    """Programs under a pty for one test: :meth:`transcripts` shows them all, :meth:`end_all` ends them."""

    def __init__(self) -> None:
        self.terminals: list[Terminal] = []

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Terminal:
        """Start the installed console script *name*."""
        term = Terminal(name, list(args), env)
        self.terminals.append(term)
        return term

    def spawn_command(
        self, label: str, command: str, *args: str, env: dict[str, str] | None = None
    ) -> Terminal:
        """Start any command (a classic stand-in, nc, socat, docker run -it), reported as *label*."""
        term = Terminal(label, list(args), env, command=command)
        self.terminals.append(term)
        return term

    def server(self, *args: str, env: dict[str, str] | None = None) -> tuple[Terminal, int]:
        """Start chat-server on a port it picks itself; return it and that port."""
        term = self.spawn("chat-server", "--port", "0", *args, env=env)
        return term, listening_port(term)

    def client(
        self, port: int, *args: str, host: str = "127.0.0.1", env: dict[str, str] | None = None
    ) -> Terminal:
        """Start chat-client against host:port and wait until it is connected."""
        term = self.spawn("chat-client", "--host", host, "--port", str(port), *args, env=env)
        term.expect(CONNECTED_TO_SERVER)
        return term

    def chat(self, *server_args: str) -> tuple[Terminal, Terminal, int]:
        """A chat-server and a connected chat-client; return both and the client's own port."""
        server, port = self.server(*server_args)
        client = self.client(port)
        client_port = int(server.expect_re(r"Connected by \('127\.0\.0\.1', (\d+)\)").group(1))
        return server, client, client_port

    def bot(self, *args: str, env: dict[str, str] | None = None) -> tuple[Terminal, int]:
        """Start a serving chat-bot on a port it picks itself; return it and that port."""
        term = self.spawn("chat-bot", "--port", "0", *args, env=env)
        return term, listening_port(term)

    def classic_server(self, host: str = "127.0.0.1") -> tuple[Terminal, int]:
        """Start the seed's classic server.py on a free port; return it and that port."""
        term = self.spawn_command("classic server.py", sys.executable, str(SERVER), host, "0")
        return term, listening_port(term)

    def classic_client(self, port: int, host: str = "127.0.0.1") -> Terminal:
        """Start the seed's classic client.py against host:port."""
        return self.spawn_command("classic client.py", sys.executable, str(CLIENT), host, str(port))

    def transcripts(self) -> str:
        """Every program's transcript, one section each."""
        return "\n".join(f"----- {t.name} -----\n{t.output}" for t in self.terminals)

    def report_sections(self) -> Sequence[tuple[str, str]]:
        """What a failed test's report shows of these programs (see :mod:`chat_testing.plugin`)."""
        return [("transcripts", self.transcripts())] if self.terminals else []

    def end_all(self) -> None:
        """End every program still running."""
        for term in self.terminals:
            term.end()
