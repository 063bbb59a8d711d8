"""chat-bot --coverage and --coverage-report with real processes: the help desk's pinned figure,
a pytest run under two xdist workers combined into one report, the HTML page in headless Chromium.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import bots
from chat_testing import Programs
from chat_testing.env import child_env
from chat_testing.plugin import TOOL_MISSING_REASON

DIALOGUES = Path(bots.__file__).resolve().parent / "dialogues"
RUN_TIMEOUT_S = 90.0  # a pytest run of its own, four servers started and stopped, or a browser's start
#: The help desk's own test uses every rule, topic and fallback of helpdesk.yaml; of the 62
#: alternatives its word lists expand to, 9. Pinned: a change to either file shows here.
HELPDESK_COVERAGE = [
    "helpdesk.yaml (helpdesk, 1 chat)",
    "  kind            used  total    cover",
    "  rules             11     11   100.0%",
    "  alternatives       9     62    14.5%",
    "  topics             1      1   100.0%",
    "  fallbacks          2      2   100.0%",
    "  all               23     76    30.2%",
]

pytestmark = pytest.mark.timeout(180)


def report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`chat-bot --coverage-report ARGS` run in *cwd* (the files it names are shown relative to it)."""
    return subprocess.run(
        ["chat-bot", "--coverage-report", *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def helpdesk_data(programs: Programs, data: Path) -> None:
    """The help desk served with --coverage while its own test visits it; stopped with SIGTERM."""
    # The file by its path (not by name): the data then names this tree's files, wherever the package is.
    desk, port = programs.bot(
        "--script", str(DIALOGUES / "helpdesk.yaml"), "--no-delay", "--coverage", str(data)
    )
    test = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--script", "helpdesk_test", "--quiet"
    )
    test.expect("test passed (helpdesk-test): 28 passed, 0 failed, 0 not run")
    assert test.wait_exit() == 0
    desk.child.kill(signal.SIGTERM)  # the data is written as the bot stops
    assert desk.wait_exit() == 143


def test_the_help_desks_own_test_reaches_its_pinned_coverage_and_fail_under_judges_it(
    programs: Programs, tmp_path: Path
) -> None:
    data = tmp_path / "coverage"
    helpdesk_data(programs, data)
    parts = list(tmp_path.glob("coverage.*"))
    assert len(parts) == 1, parts  # one process, one part

    done = report(str(data), cwd=DIALOGUES)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[: len(HELPDESK_COVERAGE)] == HELPDESK_COVERAGE, done.stdout
    assert "    helpdesk.yaml:30  rule 3: 1 of 2 alternatives never used: 'locked out'" in lines
    assert lines[-1] == "total: 23 of 76 items used, 30.2%, in 1 dialogue file (data: 1 file)"

    assert report(str(data), "--fail-under", "30", cwd=DIALOGUES).returncode == 0
    under = report(str(data), "--fail-under", "30.3", cwd=DIALOGUES)
    assert under.returncode == 9
    assert under.stderr == "chat-bot: coverage 30.2% is under --fail-under 30.3%\n"


#: Four visits to the help desk, each a test file of its own: together they use every rule.
VISITS = {
    "test_name.chat.yaml": [
        ("my name is Ann", "Thanks, Ann"),
        ("any ticket for me?", "You have no ticket yet"),
    ],
    "test_broken.chat.yaml": [
        ("my laptop is dead", "turning it off and on again"),
        ("that did not help", "opening ticket 4021"),
        ("what about my ticket?", "Your ticket is 4021"),
    ],
    "test_fixed.chat.yaml": [
        ("the wifi is slow", "turning it off and on again"),
        ("hmm", "Did turning it off and on again help"),
        ("yes", "Great, glad it works again"),
    ],
    "test_small_talk.chat.yaml": [
        ("hello", "This is the help desk"),
        ("I forgot my password", "Passwords are reset"),
        ("what about my printer?", "is it broken, dead, stuck or slow"),
        ("how is the weather?", "I did not catch that"),
        ("thanks", "You are welcome"),
        ("bye", "exit"),
    ],
}


def visit(turns: list[tuple[str, str]]) -> str:
    steps = "".join(f"  - say: {said!r}\n  - expect: {expected!r}\n" for said, expected in turns)
    return f"version: 1.2\ntimeout: 5\nscript:\n{steps}"


def test_a_pytest_run_on_two_xdist_workers_gathers_coverage_from_every_server_into_one_report(
    tmp_path: Path,
) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist is not installed: pip install pytest-xdist")
    folder, data = tmp_path / "desk", tmp_path / "data" / "coverage"
    folder.mkdir()
    data.parent.mkdir()
    for name, turns in VISITS.items():
        (folder / name).write_text(visit(turns), encoding="utf-8")
    (folder / "pytest.ini").write_text(
        f"[pytest]\nchat_target = command:chat-bot --script {shlex.quote(str(DIALOGUES / 'helpdesk.yaml'))}"
        f" --port {{port}} --no-delay --coverage {shlex.quote(str(data))}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-W",
            "ignore",
        ],
        cwd=folder,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "created: 2/2 workers" in run.stdout
    assert "4 passed" in run.stdout
    parts = sorted(data.parent.glob("coverage.*"))
    assert len(parts) == 4, parts  # a server per test, a data file per server

    combined = report(str(data), cwd=DIALOGUES)
    assert combined.returncode == 0, combined.stdout + combined.stderr
    lines = combined.stdout.splitlines()
    assert lines[0] == "helpdesk.yaml (helpdesk, 4 chats)"
    assert "  rules             11     11   100.0%" in lines  # no one visit uses every rule: the four do
    assert lines[-1].endswith("(data: 4 files)")
    for part in parts:  # each server alone used fewer
        alone = report(str(part), cwd=DIALOGUES).stdout.splitlines()
        assert "  rules             11     11   100.0%" not in alone


def chromium() -> str:
    """The headless browser; the test skips naming Debian's package where it is missing."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(TOOL_MISSING_REASON.format(tool="chromium", package="chromium"))


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_html_report_opens_in_headless_chromium_and_the_screenshot_is_kept(
    programs: Programs, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    browser = chromium()
    data, pages = tmp_path / "coverage", tmp_path / "html"
    helpdesk_data(programs, data)
    done = report(str(data), "--html", str(pages), cwd=DIALOGUES)
    assert done.returncode == 0, done.stdout + done.stderr
    page = pages / "helpdesk_yaml.html"
    assert '<tr class="partial" id="L26">' in page.read_text(encoding="utf-8")
    keep = Path(os.environ.get("CHAT_TRANSCRIPT_DIR") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    # One name per Python: .ci/run's e2e runs on two Pythons at once share CHAT_TRANSCRIPT_DIR, and one
    # removed the other's screenshot before it was read (FileNotFoundError, 1 run in 6).
    shot = keep / f"{request.node.name}-py{sys.version_info[0]}{sys.version_info[1]}.png"
    shot.unlink(missing_ok=True)
    browsed = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,900",
            page.as_uri(),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    assert browsed.returncode == 0, browsed.stderr[-3000:]
    assert png_size(shot) == (1200, 900)
