"""bench.instructions: servers run under callgrind, a dump read as instructions, the table's rows."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from bench import instructions
from bench.procs import BenchError

DUMP = """\
version: 1
creator: callgrind-3.19.0
cmd:  python -m bench.echo --host 127.0.0.1 --port 0
part: 1
desc: Trigger: Client Request: dump
events: Ir
summary: 71697000
fn=(1) main
0 12
totals: 71697012
"""


def test_a_server_runs_under_callgrind_writing_its_profile_where_asked() -> None:
    argv = instructions.callgrind(["python", "-m", "bench.echo"], Path("/scratch/echo.callgrind"))
    assert argv == [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/scratch/echo.callgrind",
        "python",
        "-m",
        "bench.echo",
    ]


def test_a_dump_counts_the_instructions_of_its_summary_line(tmp_path: Path) -> None:
    dump = tmp_path / "echo.callgrind.1"
    dump.write_text(DUMP)
    assert instructions.dumped_instructions(dump) == 71_697_000


def test_a_file_without_a_summary_line_is_refused_as_no_callgrind_profile(tmp_path: Path) -> None:
    dump = tmp_path / "echo.callgrind.1"
    dump.write_text("events: Ir\n")
    with pytest.raises(BenchError) as caught:
        instructions.dumped_instructions(dump)
    assert (
        str(caught.value) == f"the callgrind dump {dump} has no 'summary:' line: is it a callgrind profile?"
    )


def test_a_missing_dump_is_named_in_the_error(tmp_path: Path) -> None:
    dump = tmp_path / "gone.callgrind.1"
    with pytest.raises(BenchError) as caught:
        instructions.dumped_instructions(dump)
    assert str(caught.value) == f"cannot read the callgrind dump {dump}: No such file or directory"


def test_each_row_sets_a_server_against_the_echo_on_asyncio_and_judges_nothing() -> None:
    counts = {instructions.ECHO: 24_000.0, instructions.BOT: 36_000.0, instructions.BOT_ASYNCIO: 60_000.0}
    rows = instructions.rows(counts, 100, 30)
    assert [row.name for row in rows] == [
        "1. in instructions, 100 clients x 30 turns, 20 rules: echo",
        "1. in instructions, 100 clients x 30 turns, 20 rules: bot",
        "1. in instructions, 100 clients x 30 turns, 20 rules: bot on asyncio",
    ]
    assert [row.ratio for row in rows] == [1.0, 1.5, 2.5]
    assert all(row.baseline == 24_000.0 and row.unit == "instr" and row.met is None for row in rows)
    assert not any(math.isnan(row.figure) for row in rows)


def test_without_valgrind_it_says_what_to_install_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: neither tool is found
    with pytest.raises(BenchError) as caught:
        instructions.main([])
    assert str(caught.value) == (
        "valgrind and callgrind_control not found on PATH: "
        "install valgrind (Debian: apt-get install valgrind)"
    )


def test_no_turns_is_a_usage_error_that_says_how_many_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        instructions.main(["--turns", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m bench.instructions: error: argument --turns: 0 is too few: at least 1"
    )


def test_a_count_must_be_a_whole_number() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        instructions.count("1.5")
    assert str(caught.value) == "'1.5' is not a whole number"
