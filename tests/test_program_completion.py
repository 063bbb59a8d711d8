"""Shell completion (chat.program.add_common_options, made by shtab): every program, every option."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest

from bots import cli
from chat.classic import client, server

Main = Callable[[Sequence[str] | None], int]
PROGRAMS: dict[str, Main] = {"chat-server": server.main, "chat-client": client.main, "chat-bot": cli.main}
SHELLS = ["bash", "zsh", "tcsh"]  # the shells docs/classic.md shows how to install for


class _Parsed(Exception):
    """Raised in place of parsing: the parser a program built is all these tests need of it."""


def parser_of(main: Main, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    """The parser *main* builds, caught at its parse_args call."""
    built: list[argparse.ArgumentParser] = []

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> argparse.Namespace:
        built.append(self)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_Parsed):
        main([])
    return built[0]


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings]


def completion(main: Main, shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What `PROGRAM --print-completion SHELL` prints; it exits with status 0."""
    with pytest.raises(SystemExit) as exited:
        main(["--print-completion", shell])
    assert exited.value.code in (0, None)
    return capsys.readouterr().out


def offered(script: str, shell: str) -> set[str]:
    """The options a completion script offers: bash and zsh name them whole, tcsh lists the names after
    the dashes (``'c/--/(help host)/'`` and ``'c/-/(- h)/'``)."""
    if shell != "tcsh":
        return set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", script))
    lists = dict(re.findall(r"'c/(--?)/\(([^)]*)\)/'", script))
    return {dashes + name for dashes, names in lists.items() for name in names.split() if name != "-"}


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_the_completion_script_offers_every_option_of_the_program(
    name: str, shell: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = completion(PROGRAMS[name], shell, capsys)
    options = option_strings(parser_of(PROGRAMS[name], monkeypatch))
    assert "--print-completion" in options
    missing = [option for option in options if option not in offered(script, shell)]
    assert not missing, f"{name} --print-completion {shell} lacks {missing}"


def test_an_unknown_shell_is_refused_with_the_shells_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        server.main(["--print-completion", "cmd.exe"])
    assert exited.value.code == 2
    assert "argument --print-completion: invalid choice: 'cmd.exe' (choose from" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(("typed", "offered"), [("--ma", ["--max-message-bytes"]), ("--po", ["--port"])])
def test_bash_completes_an_option_from_the_installed_script(
    typed: str, offered: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    script = completion(server.main, "bash", capsys)
    # What bash does when the user presses Tab after `chat-server <typed>`.
    complete = f"""{script}
COMP_WORDS=(chat-server {typed}); COMP_CWORD=1; COMP_LINE="chat-server {typed}"; COMP_POINT=${{#COMP_LINE}}
_shtab_chat_server
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", complete], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.split() == offered
