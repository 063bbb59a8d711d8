"""chat_testing.plugin through pytester: dialogue files collected, run, reported; the plugin's loading.

The target here is the worked example's server (examples/shout/server.py), started by a
``command:`` target; tests/test_plugin_targets.py covers each kind of target. Every run is a
pytest of its own (runpytest_subprocess), as a user's would be: an in-process run forgets the
modules it imported, and PyYAML's loader does not survive that.
"""

from __future__ import annotations

import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# Imported here, before any in-process run: pytester forgets the modules a run imported, and a
# YAML loader built from one import of PyYAML must not meet the event classes of another.

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shout"
# Forward slashes: a target's command line is split by POSIX shell rules, on Windows too.
TARGET = f"command:{Path(sys.executable).as_posix()} server.py {{port}}"
PASSING = "version: 1\ntimeout: 5\nscript:\n  - say: hello\n  - expect: {exact: HELLO!}\n"
FAILING = "version: 1\ntimeout: 5\nscript:\n  - say: hello\n  - expect: {exact: hello}\n"


@pytest.fixture
def folder(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder holding the example server and nothing else."""
    shutil.copy(EXAMPLE / "server.py", pytester.path / "server.py")
    return pytester


def test_only_files_named_test_star_chat_yaml_are_collected_each_as_one_item(folder: pytest.Pytester) -> None:
    for name in ("test_a.chat.yaml", "a.chat.yaml", "test_b.yaml", "serving.yaml", "test_c.chat.yml"):
        (folder.path / name).write_text(PASSING, encoding="utf-8")
    (folder.path / "sub").mkdir()
    (folder.path / "sub" / "test_d.chat.yaml").write_text(PASSING, encoding="utf-8")
    result = folder.runpytest_subprocess("--collect-only", "-q")
    assert result.outlines[:2] == ["sub/test_d.chat.yaml::test_d", "test_a.chat.yaml::test_a"]
    assert result.ret == pytest.ExitCode.OK


def test_a_passing_dialogue_passes(folder: pytest.Pytester) -> None:
    (folder.path / "test_shout.chat.yaml").write_text(PASSING, encoding="utf-8")
    folder.runpytest_subprocess("--chat-target", TARGET).assert_outcomes(passed=1)


def test_a_failing_step_is_reported_as_file_line_with_expected_received_the_chat_and_the_output(
    folder: pytest.Pytester,
) -> None:
    (folder.path / "test_shout.chat.yaml").write_text(FAILING, encoding="utf-8")
    result = folder.runpytest_subprocess("--chat-target", TARGET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_shout.chat.yaml:5: step 2 expect failed (mismatch)",
            "  expected: {exact: 'hello'}",
            "  received: 'HELLO!'",
            "",
            "steps:",
            "PASS test_shout.chat.yaml:4 step 1 say: sent 'hello' (*)",
            "FAIL test_shout.chat.yaml:5 step 2 expect: expected {exact: 'hello'}, received 'HELLO!' (*)",
            "",
            "chat:",
            "dialogue: hello",
            "target: HELLO!",
            "dialogue: exit",
            "*Captured output of command:* server.py {port} call*",
            "stdout:",
            "shout server listening on 127.0.0.1:*",
            "*short test summary info*",
            "FAILED test_shout.chat.yaml::test_shout - test_shout.chat.yaml:5: step 2 *",
        ]
    )


def test_with_chat_transcript_dir_every_dialogue_test_leaves_its_report_and_target_output(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_TRANSCRIPT_DIR", str(folder.path / "transcripts"))
    (folder.path / "test_shout.chat.yaml").write_text(PASSING, encoding="utf-8")
    folder.runpytest_subprocess("--chat-target", TARGET).assert_outcomes(passed=1)
    saved = (folder.path / "transcripts" / "test_shout.chat.yaml_test_shout.log").read_text(encoding="utf-8")
    assert saved.startswith("test_shout.chat.yaml: passed (ended by bot)\n")
    assert "dialogue: hello\ntarget: HELLO!\n" in saved
    assert "shout server listening on 127.0.0.1:" in saved


def test_dialogue_files_are_selected_with_k(folder: pytest.Pytester) -> None:
    (folder.path / "test_one.chat.yaml").write_text(PASSING, encoding="utf-8")
    (folder.path / "test_two.chat.yaml").write_text(FAILING, encoding="utf-8")
    result = folder.runpytest_subprocess("--chat-target", TARGET, "-k", "one")
    result.assert_outcomes(passed=1, deselected=1)


def test_dialogue_files_run_in_parallel_under_xdist(folder: pytest.Pytester) -> None:
    for number in range(4):
        (folder.path / f"test_{number}.chat.yaml").write_text(PASSING, encoding="utf-8")
    result = folder.runpytest_subprocess("--chat-target", TARGET, "-n", "2", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["2 workers ?4 items?", "*4 passed*"])


def test_junitxml_names_dialogue_files_relative_to_the_rootdir(folder: pytest.Pytester) -> None:
    (folder.path / "sub").mkdir()
    (folder.path / "sub" / "test_shout.chat.yaml").write_text(FAILING, encoding="utf-8")
    folder.runpytest_subprocess("--chat-target", TARGET, f"--junitxml={folder.path / 'report.xml'}")
    case = ET.parse(folder.path / "report.xml").getroot().find("testsuite/testcase")
    assert case is not None
    assert (case.get("classname"), case.get("name")) == ("sub.test_shout.chat.yaml", "test_shout")
    failure = case.find("failure")
    assert failure is not None
    assert (failure.text or "").startswith("sub/test_shout.chat.yaml:5: step 2 expect failed (mismatch)")
    assert str(folder.path) not in (failure.text or "")


def test_the_ini_key_chat_target_names_the_target(folder: pytest.Pytester) -> None:
    folder.makeini(f"[pytest]\nchat_target = {TARGET}\n")
    (folder.path / "test_shout.chat.yaml").write_text(PASSING, encoding="utf-8")
    folder.runpytest_subprocess().assert_outcomes(passed=1)


def test_the_worked_example_runs_from_anywhere_with_its_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/shout/pytest.ini names `python server.py {port}`, run in the ini file's folder."""
    shutil.copytree(EXAMPLE, pytester.path / "shout")
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent), prepend=os.pathsep)
    result = pytester.runpytest_subprocess("shout", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_file_s_own_target_wins_over_the_command_line(folder: pytest.Pytester) -> None:
    own = PASSING.replace("version: 1\n", f"version: 1\ntarget: '{TARGET}'\n")
    (folder.path / "test_shout.chat.yaml").write_text(own, encoding="utf-8")
    folder.runpytest_subprocess("--chat-target", "tcp:127.0.0.1:1").assert_outcomes(passed=1)


def test_without_a_target_a_dialogue_test_fails_saying_what_to_give(folder: pytest.Pytester) -> None:
    (folder.path / "test_shout.chat.yaml").write_text(PASSING, encoding="utf-8")
    result = folder.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_shout.chat.yaml: no target: give --chat-target KIND:VALUE (or the ini key chat_target), "
            "or a target: key in the file"
        ]
    )


def test_an_invalid_dialogue_file_fails_with_every_problem_at_file_line_col(folder: pytest.Pytester) -> None:
    (folder.path / "test_bad.chat.yaml").write_text(
        "version: 1\nmax_turns: 0\ntimeout: -1\n", encoding="utf-8"
    )
    result = folder.runpytest_subprocess("--chat-target", TARGET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_bad.chat.yaml:2:12: max_turns must be at least 1",
            "test_bad.chat.yaml:3:10: timeout must be above 0",
        ]
    )


def test_a_bad_chat_target_is_a_usage_error_before_any_test_runs(folder: pytest.Pytester) -> None:
    result = folder.runpytest_subprocess("--chat-target", "http://example.org")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --chat-target: a target is KIND:VALUE with KIND one of tcp, command, image, terminal, "
            "not 'http://example.org'"
        ]
    )


def test_the_plugin_loads_without_pexpect_and_runs_dialogues_over_tcp(folder: pytest.Pytester) -> None:
    """Where the test extras are missing, plain Python tests and TCP targets still work."""
    (folder.path / "test_shout.chat.yaml").write_text(PASSING, encoding="utf-8")
    folder.makepyfile(test_plain="def test_plain():\n    assert True\n")
    folder.makeconftest("import sys\nsys.modules['pexpect'] = None  # as if it were not installed\n")
    result = folder.runpytest_subprocess("--chat-target", TARGET, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "Error" not in result.stdout.str()
