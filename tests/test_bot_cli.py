"""bots.cli: --check output and exit status, usage errors, invalid --script refused before listening."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from bots import cli, loops
from chat import __version__
from chat.program import run
from chat.status import ExitStatus


def test_check_prints_ok_for_valid_files_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    path = cli.bundled_dialogue_path()
    assert run("chat-bot", cli.main, ["--check", path]) == 0
    assert capsys.readouterr().out == f"{path}: ok\n"


def test_check_prints_every_problem_and_exits_with_invalid_dialogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmax_turns: 0\nfallback: [ok, {x: 1}]\n", encoding="utf-8")
    assert run("chat-bot", cli.main, ["--check", str(bad)]) == ExitStatus.INVALID_DIALOGUE
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{bad}:2:12: max_turns must be at least 1",
        f"{bad}:3:16: each item of fallback must be text, not a mapping",
    ]
    assert err == "chat-bot: 2 problems in 1 of 1 dialogue file(s)\n"


def test_an_invalid_script_prints_every_problem_and_never_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmax_turns: 0\ntimeout: -1\n", encoding="utf-8")
    assert run("chat-bot", cli.main, ["--script", str(bad), "--port", "0"]) == ExitStatus.INVALID_DIALOGUE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"chat-bot: {bad}:2:12: max_turns must be at least 1",
        f"chat-bot: {bad}:3:10: timeout must be above 0",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--max-clients", "-1"],
            "argument --max-clients: expected a whole number >= 0 (0: no bound), not '-1'",
        ),
        (["--idle-timeout", "soon"], "argument --idle-timeout: 'soon' is not a number of seconds"),
        (
            ["--coverage-report", "c", "--fail-under", "120"],
            "argument --fail-under: must be a percentage from 0 to 100",
        ),
        (
            ["--coverage-report", "c", "--fail-under", "most"],
            "argument --fail-under: 'most' is not a percentage",
        ),
        (
            ["--record", "t.yaml", "--to", "nowhere"],
            "argument --to: 'nowhere' is not HOST:PORT (an IPv6 address goes in brackets: [::1]:PORT)",
        ),
        (
            ["--record", "t.yaml", "--to", "h:0"],
            "argument --to: 'h:0': port 0 names no server: give the port it listens on",
        ),
        (["--record", "t.yaml", "--to", "h:99999"], "argument --to: 99999 is out of range (0-65535)"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == ExitStatus.USAGE
    assert message in capsys.readouterr().err


# -- --loop: the event loop of a chat ----------------------------------------------------------

UVLOOP_MISSING = pytest.mark.skipif(not loops.uvloop_installed(), reason="no uvloop here (Windows, PyPy)")


@pytest.mark.parametrize(
    ("loop", "shown"),
    [
        ("asyncio", f"asyncio (Python {platform.python_version()})"),
        pytest.param("uvloop", "uvloop ", marks=UVLOOP_MISSING),
    ],
)
def test_version_names_the_event_loop_that_loop_chooses(
    loop: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--loop", loop, "--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith(f"chat-bot {__version__}, event loop {shown}")


@UVLOOP_MISSING
def test_version_names_uvloop_as_the_default_where_it_is_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith(f"chat-bot {__version__}, event loop uvloop ")


def test_version_names_the_standard_loop_as_the_default_where_uvloop_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(loops, "uvloop_installed", lambda: False)
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith(f"chat-bot {__version__}, event loop asyncio (")


def test_loop_uvloop_where_it_is_missing_is_one_usage_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(loops, "uvloop_installed", lambda: False)
    assert run("chat-bot", cli.main, ["--loop", "uvloop", "--port", "0"]) == ExitStatus.USAGE
    assert capsys.readouterr() == (
        "",
        "chat-bot: --loop uvloop: uvloop is not installed; install it with "
        "`pip install uvloop` (there is none for Windows or PyPy), or use --loop asyncio\n",
    )


def test_an_unknown_loop_is_a_usage_error_naming_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--loop", "trio"])
    assert caught.value.code == ExitStatus.USAGE
    assert (
        "argument --loop: invalid choice: 'trio' (choose from 'asyncio', 'uvloop')" in capsys.readouterr().err
    )


def test_list_names_every_bundled_dialogue_with_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("chat-bot", cli.main, ["--list"]) == ExitStatus.SUCCESS
    assert capsys.readouterr().out.splitlines() == [
        "default          A friendly greeter that remembers your name.",
        "doctor           ELIZA's DOCTOR script (Weizenbaum, 1966): keywords, ranks, cycling replies, "
        "memory.",
        "doctor_test      The paper's sample conversation, replayed against doctor.yaml.",
        "eliza            An ELIZA-style listener that turns your words into questions.",
        "helpdesk         A small IT help desk (include, word lists, substitutions, a topic and conditions).",
        "helpdesk_common  The small talk of helpdesk.yaml (greetings, thanks, goodbyes); "
        "it is included, not run.",
        "helpdesk_test    Tests helpdesk.yaml through one visit (included rules, word lists, subs, a topic, "
        "conditions).",
        "quiz             A three-question quiz with hints for wrong answers.",
        "quiz_test        Tests quiz.yaml through a whole game, a wrong answer included.",
    ]


def test_print_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("chat-bot", cli.main, ["--print-schema"]) == ExitStatus.SUCCESS
    shipped = (Path(cli.__file__).parent / "schema.json").read_text(encoding="utf-8")
    assert capsys.readouterr().out == shipped


def test_an_unknown_dialogue_name_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("chat-bot", cli.main, ["--script", "quizz", "--port", "0"]) == ExitStatus.INVALID_DIALOGUE
    assert capsys.readouterr().err == (
        "chat-bot: quizz:1:1: no such file, and no bundled dialogue of that name: "
        "chat-bot --list names them\n"
    )


def test_check_reports_a_problem_of_an_included_file_at_the_include_and_at_its_own_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.yaml").write_text(
        "version: 1.1\nname: desk\ninclude:\n  - common.yaml\nrules:\n  - contains: hi\n    reply: hello\n",
        encoding="utf-8",
    )
    (tmp_path / "common.yaml").write_text(
        "version: 1.1\nlists:\n  bye: [bye, goodbye]\nrules:\n  - contains: '{byes}'\n    reply: exit\n",
        encoding="utf-8",
    )
    assert run("chat-bot", cli.main, ["--check", "main.yaml"]) == ExitStatus.INVALID_DIALOGUE
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "main.yaml:4:5: in included file 'common.yaml' (line 5, col 16): {byes} is not a word list: "
        "define it under 'lists' (lists here: bye), or write {{ and }} for literal braces",
        "common.yaml:5:16: {byes} is not a word list: define it under 'lists' (lists here: bye), "
        "or write {{ and }} for literal braces",
    ]
    assert err == "chat-bot: 1 problem in 1 of 1 dialogue file(s)\n"  # reported at two places, counted once
