"""bots.files: dialogues by name (a file or a bundled name) for --script and --check alike; --check's
report counts each problem once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots import cli, files
from chat.program import run
from chat.status import ExitStatus


@pytest.mark.parametrize("name", ["quiz", "quiz.yaml"])
def test_script_takes_the_name_of_a_bundled_dialogue(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert files.script_path(name) == files.bundled_dialogue_path("quiz.yaml")


def test_script_prefers_an_existing_file_to_a_bundled_dialogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quiz").write_text("version: 1\n", encoding="utf-8")
    assert files.script_path("quiz") == "quiz"
    assert files.script_path(str(tmp_path / "absent.yaml")) == str(tmp_path / "absent.yaml")
    assert files.script_path(None) == files.bundled_dialogue_path()


@pytest.mark.parametrize("name", ["doctor", "doctor.yaml"])
def test_check_takes_the_name_of_a_bundled_dialogue_as_script_does(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("chat-bot", cli.main, ["--check", name]) == ExitStatus.SUCCESS
    assert capsys.readouterr().out == f"{files.bundled_dialogue_path('doctor.yaml')}: ok\n"


def test_check_names_an_unknown_dialogue_as_script_does_and_checks_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("chat-bot", cli.main, ["--check", "quizz", "quiz"]) == ExitStatus.INVALID_DIALOGUE
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "quizz:1:1: no such file, and no bundled dialogue of that name: chat-bot --list names them",
        f"{files.bundled_dialogue_path('quiz.yaml')}: ok",
    ]
    assert err == "chat-bot: 1 problem in 1 of 2 dialogue file(s)\n"


def test_an_include_too_deep_is_one_problem_reported_at_every_include_on_its_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for number in range(6):
        (tmp_path / f"f{number}.yaml").write_text(
            f"version: 1.1\ninclude: f{number + 1}.yaml\n", encoding="utf-8"
        )
    (tmp_path / "f6.yaml").write_text("version: 1.1\n", encoding="utf-8")
    assert run("chat-bot", cli.main, ["--check", "f0.yaml"]) == ExitStatus.INVALID_DIALOGUE
    out, err = capsys.readouterr()
    deep = "includes nest more than 4 files deep: include 'f5.yaml' from a file nearer the top"
    assert len(out.splitlines()) == 5  # f0's include line, f1's, f2's, f3's, and the problem at f4
    assert out.splitlines()[-1] == f"f4.yaml:2:10: {deep}"
    assert err == "chat-bot: 1 problem in 1 of 1 dialogue file(s)\n"  # was: 5 problems
