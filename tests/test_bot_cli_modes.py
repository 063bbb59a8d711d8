"""bots.cli and bots.roles: the role options (--try, --connect, --check, serving...) and what each takes.

Any combination that cannot apply is one stderr line naming both options, and status 2;
the plain serving form (``chat-bot --script d.yaml``) is unchanged.
"""

from __future__ import annotations

import pytest

from bots import cli, roles
from chat.program import run
from chat.status import ExitStatus


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--try", "--connect", "--port", "1"], "--try and --connect cannot be used together: choose one"),
        (["--check", "F", "--connect"], "--check and --connect cannot be used together: choose one"),
        (["--check", "F", "--try"], "--check and --try cannot be used together: choose one"),
        (["--list", "--connect"], "--connect and --list cannot be used together: choose one"),
        (["--print-schema", "--list"], "--list and --print-schema cannot be used together: choose one"),
        (
            ["--list", "--port", "1"],
            "--port cannot be used with --list: it is for serving and --connect and --record",
        ),
        (
            ["--print-schema", "--script", "q"],
            "--script cannot be used with --print-schema: it is for serving and --try and --connect",
        ),
        (
            ["--try", "--transcript", "F"],
            "--transcript cannot be used with --try: it is for serving and --connect",
        ),
        (
            ["--try", "--port", "1"],
            "--port cannot be used with --try: it is for serving and --connect and --record",
        ),
        (["--try", "--junit", "r.xml"], "--junit cannot be used with --try: it is for serving and --connect"),
        (["--try", "--once"], "--once cannot be used with --try: it is for serving"),
        (
            ["--try", "--quiet"],
            "--quiet cannot be used with --try: it is for serving and --connect and --record",
        ),
        (
            ["--check", "F", "--script", "G"],
            "--script cannot be used with --check: it is for serving and --try and --connect",
        ),
        (
            ["--check", "F", "--seed", "1"],
            "--seed cannot be used with --check: it is for serving and --try and --connect",
        ),
        (
            ["--check", "F", "--junit", "r.xml"],
            "--junit cannot be used with --check: it is for serving and --connect",
        ),
        (["--connect", "--once"], "--once cannot be used with --connect: it is for serving"),
        (
            ["--connect", "--max-clients", "2"],
            "--max-clients cannot be used with --connect: it is for serving",
        ),
        (
            ["--connect", "--idle-timeout", "3"],
            "--idle-timeout cannot be used with --connect: it is for serving",
        ),
        (["--connect", "--verbose"], "--verbose cannot be used with --connect: it is for serving"),
        (["--try", "--classic"], "--classic cannot be used with --try: it is for --connect"),
        (["--classic"], "--classic goes with --connect (a serving bot detects classic clients itself)"),
        (["--junit", "r.xml"], "--junit reports one chat: use it with --connect or --once"),
        (
            ["--script", "a.yaml", "b.yaml"],
            "--script takes one file with serving; several files run as a suite with --connect",
        ),
        (
            ["--try", "--script", "a.yaml", "b.yaml"],
            "--script takes one file with --try; several files run as a suite with --connect",
        ),
        (["--record", "t.yaml"], "--record needs --to HOST:PORT: the server whose chat it records"),
        (["--record", "t.yaml", "--connect"], "--connect and --record cannot be used together: choose one"),
        (["--to", "h:1"], "--to cannot be used with serving: it is for --record"),
        (["--connect", "--volatile"], "--volatile cannot be used with --connect: it is for --record"),
        (["--record-peer", "p.yaml"], "--record-peer cannot be used with serving: it is for --record"),
        (
            ["--record", "t.yaml", "--to", "h:1", "--script", "d.yaml"],
            "--script cannot be used with --record: it is for serving and --try and --connect",
        ),
        (
            ["--try", "--coverage", "D"],
            "--coverage cannot be used with --try: it is for serving and --connect",
        ),
        (
            ["--check", "F", "--coverage", "D"],
            "--coverage cannot be used with --check: it is for serving and --connect",
        ),
        (
            ["--coverage-report", "D", "--check", "F"],
            "--check and --coverage-report cannot be used together: choose one",
        ),
        (
            ["--coverage-report", "D", "--coverage", "D"],
            "--coverage cannot be used with --coverage-report: it is for serving and --connect",
        ),
        (["--fail-under", "80"], "--fail-under cannot be used with serving: it is for --coverage-report"),
        (["--connect", "--html", "out"], "--html cannot be used with --connect: it is for --coverage-report"),
    ],
)
def test_options_that_cannot_apply_together_exit_2_with_one_line_naming_both(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("chat-bot", cli.main, argv) == ExitStatus.USAGE
    captured = capsys.readouterr()
    assert captured.err == f"chat-bot: {message}\n"
    assert captured.out == ""


def test_an_option_left_at_its_default_is_not_taken_as_given() -> None:
    assert cli.given_options(["--try"]) == {"try_it"}
    assert cli.given_options(["--script", "d.yaml", "--port", "0"]) == {"script", "port"}


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (["--script", "d.yaml"], roles.SERVING),
        (["--script", "d.yaml", "--port", "0", "--once", "--junit", "r.xml", "--quiet"], roles.SERVING),
        (["--max-clients", "2", "--idle-timeout", "1", "--verbose", "--transcript", "t"], roles.SERVING),
        (["--try", "--seed", "1", "--no-delay", "--script", "d.yaml"], "--try"),
        (["--connect", "--classic", "--port", "1", "--junit", "r.xml", "--transcript", "t"], "--connect"),
        (["--connect", "--script", "a.yaml", "b.yaml", "dir/"], "--connect"),
        (["--check", "a.yaml", "b.yaml"], "--check"),
        (["--list"], "--list"),
        (["--print-schema"], "--print-schema"),
        (
            [
                "--record",
                "t.yaml",
                "--to",
                "h:1",
                "--port",
                "0",
                "--record-peer",
                "p",
                "--volatile",
                "--quiet",
            ],
            "--record",
        ),
        (["--coverage-report", "D", "E", "--fail-under", "80", "--html", "out"], "--coverage-report"),
        (["--script", "d.yaml", "--once", "--coverage", "D"], roles.SERVING),
        (["--connect", "--script", "a.yaml", "d/", "--coverage", "D"], "--connect"),
    ],
)
def test_options_that_apply_choose_their_role(argv: list[str], role: str) -> None:
    args = cli.build_parser().parse_args(argv)
    assert roles.choose_role(args, cli.given_options(argv)) == role
