"""One program under a pseudo-terminal, driven by pexpect, with its transcript kept."""

from __future__ import annotations

import io
import re

import pexpect

from chat_testing.env import EXPECT_TIMEOUT_S, child_env, program

TERMINAL_SIZE = (24, 240)  # rows, columns: wide enough that no chat line wraps


class Terminal:
    """A program under a pty: expect what it shows, type lines at it, wait for its exit status.

    Everything the program printed (with the echo of what was typed) is kept in
    :attr:`output`, for failure reports.
    """

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        command: str | None = None,
        *,
        timeout: float = EXPECT_TIMEOUT_S,
        cwd: str | None = None,
    ) -> None:
        #: How reports name this program, e.g. "chat-server" or "classic client.py".
        self.name = name
        self.timeout = timeout
        self.log = io.StringIO()
        self.child = pexpect.spawn(
            command or program(name),
            args,
            env=env if env is not None else child_env(),
            encoding="utf-8",
            codec_errors="replace",
            timeout=timeout,
            dimensions=TERMINAL_SIZE,
            maxread=65536,
            cwd=cwd,
        )
        self.child.delaybeforesend = None
        self.child.logfile_read = self.log
        self.child.str_last_chars = 500

    @property
    def pid(self) -> int:
        """The program's process id."""
        return int(self.child.pid)

    # -- synchronising ------------------------------------------------------

    def expect(self, text: str, timeout: float | None = None) -> None:
        """Wait for *text* literally in the output (never text we typed: the pty echoes it)."""
        self.child.expect_exact(text, timeout=timeout if timeout is not None else self.timeout)

    def expect_re(self, pattern: str, timeout: float | None = None) -> re.Match[str]:
        """Wait for a regular expression; return its match."""
        self.child.expect(pattern, timeout=timeout if timeout is not None else self.timeout)
        match = self.child.match
        assert isinstance(match, re.Match)
        return match

    def send(self, line: str) -> None:
        """Type *line* and Enter; call it only after the prompt was expected."""
        self.child.sendline(line)

    def wait_exit(self, timeout: float | None = None) -> int:
        """Wait for the program to end; return its exit status (128+N for signal N)."""
        self.child.expect(pexpect.EOF, timeout=timeout if timeout is not None else self.timeout)
        # The pty is at EOF, so the program has ended or is ending: reap it now.
        # close() would first sleep delayafterclose (0.1 s) "to let it exit".
        self.child.wait()
        self.child.ptyproc.delayafterclose = 0
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus)

    @property
    def output(self) -> str:
        """Everything the program printed so far, with pty line ends made plain."""
        return self.log.getvalue().replace("\r\n", "\n")

    @property
    def lines(self) -> list[str]:
        """The transcript as lines (what a person saw, typed text included via the echo)."""
        return self.output.splitlines()

    def end(self) -> None:
        """Teardown: end the program if it still runs (HUP, INT, then KILL)."""
        if self.child.isalive():
            self.child.close(force=True)
