"""The adversarial suite's fixtures: hypothesis profiles, figures for the report, an echo bot to attack.

Run it with ``tox -e adversarial`` (``pytest adversarial -m adversarial``; the ``ci``
profile) or ``tox -e adversarial-full`` (the ``nightly`` profile: the issues' counts).
The profiles' sizes are in adversarial/profiles.py. Every
server it starts listens on loopback with ``--port 0``; every test is bounded by
pytest-timeout, and the load tests by their own counts and deadlines. The harness
(programs under a pty, raw peers, daemons, the re-chunking proxy) is the package
:mod:`chat_testing`, shared with the e2e suite.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from adversarial import profiles
from chat_testing import ECHO_DIALOGUE, Daemon
from chat_testing.peers import close_line_clients

# One hypothesis profile per entry of adversarial/profiles.py, its examples from there; the
# environment variable CHAT_HYPOTHESIS_PROFILE picks one (ci when unset), for the properties'
# counts and the other sizes alike.
for _name, _sizes in profiles.PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=_sizes.examples,
        deadline=None,  # 2 shared cores: wall-clock noise must not fail a property
        database=None,  # nothing written into the work tree; failures print their reproduction blob
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
try:
    PROFILE = profiles.active_name()
except profiles.UnknownProfile as exc:
    raise pytest.UsageError(str(exc)) from None
settings.load_profile(PROFILE)


def pytest_report_header() -> str:
    """The profile and its sizes, on the run's first lines: a run says how much it tried."""
    sizes = profiles.PROFILES[PROFILE]
    counts = ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in asdict(sizes).items())
    return f"adversarial profile {PROFILE} ({profiles.ENV}): {counts}"


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a second way of picking the profile; keep hypothesis's failure report readable under the
    project's ``filterwarnings = error``."""
    chosen = config.getoption("hypothesis_profile", default=None)
    if chosen not in (None, PROFILE):
        # hypothesis would change the examples alone, not the other sizes (the integrity messages).
        raise pytest.UsageError(
            f"--hypothesis-profile={chosen}: pick the profile with {profiles.ENV}={chosen} instead"
        )
    # On a failure hypothesis imports libcst (where installed) to suggest a patch; some libcst
    # versions warn on import, which "error" would turn into an INTERNALERROR hiding the failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


#: The files of the longest tests (--durations of tox -e adversarial), run first: under xdist's
#: work stealing the two workers then end together, not one waiting on a long test started last.
LONGEST_FIRST = (
    "test_dialogue_schema_agreement.py",
    "test_integrity.py",
    "test_matching.py",
    "test_dialogue_properties.py",
    "test_engine_model.py",
)


#: The timing tests that keep both cores busy (a flood beside a measured client, a thousand peers, a match
#: timed in CPU time, 1 MiB through TLS to a slow reader): the timing pass (tox -e adversarial-timing:
#: pytest-xdist, --dist loadgroup) runs them one after the other on one worker, and the tests that mostly
#: wait (a 2 s exit, a handshake timeout) beside them on the others. Alone, one after the other, the pass
#: took 75 s of .ci/run's 288. The 1 MiB tests are here since one, beside a flood, never got its client
#: asleep in its send within 5 s. Last in the group, the ones marked cpu_timed: see _alone_when_timed_in_cpu.
BUSY_TIMING_MODULES = frozenset({"test_bot_load.py", "test_matching.py", "test_long_messages.py"})
BUSY_GROUP = "busy"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test of this folder that forgot the ``adversarial`` marker (it would never run);
    put the busy timing tests in one xdist group; put the longest first (the rest keep their order)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if (
            here in Path(str(item.fspath)).resolve().parents
            and item.get_closest_marker("adversarial") is None
        ):
            raise pytest.UsageError(f"{item.nodeid}: every adversarial test needs pytest.mark.adversarial")
        if item.path.name in BUSY_TIMING_MODULES and item.get_closest_marker("timing"):
            item.add_marker(pytest.mark.xdist_group(BUSY_GROUP))
    rank = {name: at for at, name in enumerate(LONGEST_FIRST)}
    items.sort(
        key=lambda item: (
            item.get_closest_marker("cpu_timed") is not None,
            rank.get(Path(str(item.fspath)).name, len(rank)),
        )
    )


@pytest.fixture(autouse=True)
def _alone_when_timed_in_cpu(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Under pytest-xdist, a test marked cpu_timed runs with no other timing test beside it.

    A thread's CPU time grows when the other core is busy (a match of 4.4 ms measured 11.5 ms beside the
    timing pass's other workers). Every timing test holds a shared lock on a file of this run while it
    runs, one marked cpu_timed an exclusive one: it waits for the others to end, and they for it.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None or request.node.get_closest_marker("timing") is None:
        yield  # alone already (no xdist), or not in the timing pass
        return
    exclusive = request.node.get_closest_marker("cpu_timed") is not None
    # Each xdist worker's temporary folder is in the run's own (pytest keeps the last few, then removes them).
    with open(tmp_path_factory.getbasetemp().parent / f"timing-{run}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)  # released when the file closes
        yield


# -- figures for the report -----------------------------------------------------

FIGURE = "figure"  # the user_properties name of one measured figure


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``figures(what, value)`` records one measured figure; all are printed after the run.

    They travel in the test's report (``user_properties``), so that a run under
    pytest-xdist prints the figures its workers measured, and junit XML keeps them."""

    def record(what: str, value: str) -> None:
        request.node.user_properties.append((FIGURE, (what, value)))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print every figure the tests measured: the numbers behind the reliability docs."""
    lines = [
        f"{report.head_line}: {what}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if report.when == "call"
        for name, (what, value) in (p for p in report.user_properties if p[0] == FIGURE)
    ]
    if not lines:
        return
    terminalreporter.section("adversarial figures")
    for line in lines:
        terminalreporter.write_line(line)


# -- two passes: tox -e adversarial runs the timing tests alone -------------------

#: The -m expressions of tox -e adversarial's two passes: the suite under pytest-xdist, then
#: the tests marked timing (bounded by wall-clock time) alone, so that no CPU-heavy test runs
#: beside them.
PASSES = ("adversarial and not timing", "adversarial and timing")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A pass that a selection (a file, -k) leaves with nothing to run has passed: the other ran it."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and session.config.option.markexpr in PASSES:
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture(autouse=True)
def _close_line_clients() -> Iterator[None]:
    """Every LineClient a test opened is closed after it, also when the test failed."""
    yield
    close_line_clients()


@pytest.fixture
def echo_dialogue(tmp_path: Path) -> Path:
    """A dialogue file whose only reply is the message received."""
    path = tmp_path / "echo.yaml"
    path.write_text(ECHO_DIALOGUE, encoding="utf-8")
    return path


@pytest.fixture
def echo_bot(chat_daemons: Callable[..., Daemon], echo_dialogue: Path) -> Callable[..., tuple[Daemon, int]]:
    """``echo_bot(*extra_args)`` starts a serving echo bot; returns it and its port."""

    def start(*extra: str) -> tuple[Daemon, int]:
        bot = chat_daemons("chat-bot", "--script", str(echo_dialogue), "--port", "0", "--no-delay", *extra)
        host, port = bot.listening()
        assert host == "127.0.0.1"
        return bot, port

    return start
