"""The benchmark's own parts: statistics, table and JSON, generated dialogues, servers and load generator."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from pathlib import Path

import pytest

from bots.loader import parse_dialogue

# The bench is a tool of the repository, not part of the installed package, and the pytest
# console script does not put the working directory on sys.path: import it from the tree.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import dialogues, inprocess, report, scenarios
from bench.cli import main as bench_main
from bench.load import Holders, drive_turns, merge, split
from bench.procs import (
    LISTENING,
    BenchError,
    Server,
    module_env,
    process_cpu_s,
    python_module,
    running,
)
from bench.stats import Latency, median, per_connection_kib, percentile, ratio
from bots import loops

# -- statistics ---------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 99) == pytest.approx(99.01)


def test_percentile_ends_are_the_minimum_and_the_maximum() -> None:
    samples = [3.0, 1.0, 2.0]
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 3.0


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([7.0], 99) == 7.0


def test_median_does_not_depend_on_order() -> None:
    assert median([5.0, 1.0, 3.0, 2.0, 4.0]) == 3.0


def test_percentile_of_no_samples_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^percentile of no samples$"):
        percentile([], 50)


def test_percentile_outside_0_to_100_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^percentile must be within 0\.\.100, not 101$"):
        percentile([1.0], 101)


def test_latency_summary_of_no_samples_is_not_a_number() -> None:
    summary = Latency.of([])
    assert summary.count == 0
    assert math.isnan(summary.p99)


def test_latency_summary_reports_p50_p99_and_max() -> None:
    summary = Latency.of([0.001 * n for n in range(1, 1001)])
    assert summary.count == 1000
    assert summary.p50 == pytest.approx(0.5005)
    assert summary.p99 == pytest.approx(0.99001)
    assert summary.max == pytest.approx(1.0)


def test_ratio_against_a_zero_or_missing_baseline_is_not_a_number() -> None:
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(1.0, float("nan")))
    assert ratio(3.0, 2.0) == 1.5


def test_rss_per_connection_subtracts_the_idle_rss() -> None:
    assert per_connection_kib(30_720, 20_480, 1000) == pytest.approx(10.24)


def test_rss_per_connection_with_nothing_held_is_not_a_number() -> None:
    assert math.isnan(per_connection_kib(30_720, 20_480, 0))


def test_split_spreads_connections_evenly_inside_the_per_process_limit() -> None:
    assert split(10_000, 4_000) == [3334, 3333, 3333]
    assert split(500, 19_936) == [500]
    assert split(0, 10) == []


def test_merge_of_two_generators_adds_turns_and_errors() -> None:
    one = {
        "clients": 1,
        "latencies": [0.1, 0.2],
        "errors": {"wrong reply": 1},
        "wall_s": 1.0,
        "first_wrong": "",
    }
    two = {"clients": 2, "latencies": [0.3], "errors": {"wrong reply": 2}, "wall_s": 2.0, "first_wrong": "x"}
    merged = merge([one, two])
    assert merged["clients"] == 3
    assert merged["turns"] == 3
    assert merged["turns_per_s"] == pytest.approx(1.5)
    assert merged["errors"] == {"wrong reply": 3}
    assert merged["first_wrong"] == "x"


# -- table and JSON -----------------------------------------------------------------------------


def _row(met: bool | None, figure: float = 1234.5) -> report.Row:
    return report.Row("1. load: throughput", figure, "turns/s", 2000.0, 0.61725, ">= 0.80x", met, "best of 2")


def test_table_marks_a_missed_target_in_bold() -> None:
    table = report.markdown([_row(False)])
    assert table.splitlines()[0] == "| Scenario | Figure | Baseline | Ratio | Target | Met | Details |"
    assert table.splitlines()[2] == (
        "| 1. load: throughput | 1,234 turns/s | 2,000 turns/s | 0.62x | >= 0.80x | **no** | best of 2 |"
    )


def test_table_shows_a_dash_for_rows_without_a_target_and_for_missing_figures() -> None:
    line = report.markdown([_row(None, figure=float("nan"))]).splitlines()[2]
    assert line.startswith("| 1. load: throughput | - turns/s |")
    assert "| - | best of 2 |" in line


def test_json_has_one_object_per_row_with_the_issue_keys(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    report.write_json([_row(True), _row(None, figure=float("nan"))], out)
    rows = json.loads(out.read_text())
    assert [set(row) for row in rows] == [
        {"name", "figure", "unit", "baseline", "ratio", "target", "met", "details"}
    ] * 2
    assert rows[0]["met"] is True
    assert rows[1]["figure"] is None
    assert rows[1]["met"] is None


# -- generated dialogues ------------------------------------------------------------------------


def test_twenty_rule_dialogue_routes_each_message_to_its_own_rule() -> None:
    text, script = dialogues.twenty_rules()
    dialogue = parse_dialogue(text, "twenty.yaml")
    assert len(dialogue.rules) == 20
    assert len(script) == 21
    for number, (message, _reply) in enumerate(script[:20]):
        found = dialogue.match(message)
        assert found is not None, message
        assert found[0] is dialogue.rules[number], message
    assert dialogue.match(script[20][0]) is None


def test_regex_dialogue_has_the_rules_asked_for_and_leaves_the_message_to_the_fallback() -> None:
    dialogue = parse_dialogue(dialogues.regex_rules(200), "regex.yaml")
    assert len(dialogue.rules) == 200
    assert {rule.pattern.kind for rule in dialogue.rules} == {"regex"}
    assert dialogue.match(dialogues.UNMATCHED_MESSAGE) is None


def test_echo_script_expects_each_message_back() -> None:
    assert dialogues.echo_script([("hi", "hello")]) == [("hi", "hi")]


# -- servers and load generator (real processes, loopback) --------------------------------------


def test_listening_line_gives_host_and_port_also_for_ipv6() -> None:
    found = LISTENING.search("Bot listening on ::1:4242...")
    assert found is not None
    assert (found["host"], found["port"]) == ("::1", "4242")


def test_a_server_that_exits_before_listening_is_reported_in_one_line(tmp_path: Path) -> None:
    server = Server("broken", [sys.executable, "-c", "import sys; sys.exit('boom: no dialogue')"], tmp_path)
    with pytest.raises(
        BenchError, match=r"^broken exited with status 1 before listening: boom: no dialogue "
    ):
        server.start(timeout_s=20)


def _posix_tools_available() -> bool:
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


# The load generator and the echo server are POSIX tools, as the benchmark is: they raise the open-file
# limit (resource), wait on pipes with select and stop on signal handlers of the event loop, none of which
# Windows has. Decided by the module itself, not sys.platform, so that the Windows stand-in of .ci/run
# (.ci/no_posix_modules.py) skips them too; on Linux and macOS they always run.
needs_posix = pytest.mark.skipif(
    not _posix_tools_available(), reason="the bench's load generator and echo server are POSIX-only"
)


def _echo(tmp_path: Path, loop: str = loops.ASYNCIO) -> Server:
    argv = python_module("bench.echo", "--host", "127.0.0.1", "--port", "0", "--loop", loop)
    return Server("echo", argv, tmp_path, env=module_env())


@needs_posix
@pytest.mark.parametrize("loop", loops.LOOPS)
def test_echo_baseline_answers_every_turn_of_every_client(tmp_path: Path, loop: str) -> None:
    if loop == loops.UVLOOP and not loops.uvloop_installed():
        pytest.skip("uvloop is not installed (none for Windows or PyPy)")  # Windows has none; tox installs it
    script = dialogues.write_script(tmp_path / "s.json", [("one", "one"), ("two", "two")])
    with running(_echo(tmp_path, loop), timeout_s=20) as echo:
        result = drive_turns(echo.host, echo.port, clients=3, turns=4, script_file=script, time_limit_s=20)
    assert result["errors"] == {}
    assert result["clients"] == 3
    assert result["turns"] == 12


@needs_posix
def test_load_generator_counts_wrong_replies(tmp_path: Path) -> None:
    script = dialogues.write_script(tmp_path / "s.json", [("ping", "pong")])
    with running(_echo(tmp_path), timeout_s=20) as echo:
        result = drive_turns(echo.host, echo.port, clients=2, turns=2, script_file=script, time_limit_s=20)
    assert result["errors"] == {"wrong reply": 4}
    assert result["first_wrong"] == "sent b'ping\\n', expected b'pong', got b'ping'"


@needs_posix
def test_holders_keep_idle_connections_open_on_the_server(tmp_path: Path) -> None:
    with running(_echo(tmp_path), timeout_s=20) as echo, Holders(echo.host, echo.port, 5, 20) as holders:
        held, errors = holders.wait_held()
        assert echo.memory_kib()["VmRSS"] > 0
    assert (held, dict(errors)) == (5, {})


def test_stopped_server_is_gone(tmp_path: Path) -> None:
    with running(_echo(tmp_path), timeout_s=20) as echo:
        assert echo.alive()
    assert not echo.alive()


STOP_LIMIT_S = 2.0  # every program of the project ends on SIGTERM or Ctrl-C within 2 s, whatever it does


@needs_posix
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("loop", loops.LOOPS)
def test_the_echo_ends_cleanly_on_sigterm_or_ctrl_c_within_2_s_while_clients_hold_connections(
    tmp_path: Path, loop: str, signum: signal.Signals
) -> None:
    if loop == loops.UVLOOP and not loops.uvloop_installed():
        pytest.skip("uvloop is not installed (none for Windows or PyPy)")
    with (
        running(_echo(tmp_path, loop), timeout_s=20) as echo,
        Holders(echo.host, echo.port, 5, 20) as holders,
    ):
        assert holders.wait_held()[0] == 5
        assert echo.process is not None
        echo.process.send_signal(signum)
        status = echo.process.wait(STOP_LIMIT_S)  # TimeoutExpired fails the test

    assert status == 0


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        bench_main(["--only", "1,7"])
    assert stop.value.code == 2
    assert (
        "'1,7' is not a list of scenarios: use numbers from 1, 2, 3, 4, e.g. 1,3" in capsys.readouterr().err
    )


def test_cpu_time_of_a_live_process_is_read_and_of_a_missing_one_is_not_a_number() -> None:
    sum(range(200_000))  # some work of our own, so our CPU time is above zero
    assert process_cpu_s(os.getpid()) > 0
    assert math.isnan(process_cpu_s(2**22 + 1))  # above the kernel's pid_max: never a process


def test_a_server_program_that_does_not_exist_is_reported_in_one_line(tmp_path: Path) -> None:
    server = Server("ghost", [str(tmp_path / "no-such-program")], tmp_path)
    with pytest.raises(BenchError, match=r"^ghost could not be started: .*no-such-program: No such file"):
        server.start(timeout_s=5)


@needs_posix
def test_turns_split_over_two_generators_all_start_after_connecting_and_count_the_server_cpu(
    tmp_path: Path,
) -> None:
    script = dialogues.write_script(tmp_path / "s.json", [("one", "one")])
    with running(_echo(tmp_path), timeout_s=20) as echo:
        result = drive_turns(
            echo.host, echo.port, 3, 100, script, time_limit_s=20, generators=2, server_cpu=echo.cpu_s
        )
    assert (result["clients"], result["turns"], result["errors"]) == (3, 300, {})
    assert 0 < result["server_cpu_s"] < result["wall_s"] * 2
    assert result["generator_busy"] > 0


def test_merge_keeps_the_busiest_generator_process() -> None:
    quiet = {
        "clients": 1,
        "latencies": [0.1],
        "errors": {},
        "wall_s": 2.0,
        "first_wrong": "",
        "generator_cpu_s": 0.5,
    }
    busy = {**quiet, "generator_cpu_s": 1.5}
    assert merge([quiet, busy])["generator_busy"] == pytest.approx(0.75)
    assert merge([quiet])["generator_busy"] == pytest.approx(0.25)


def test_cpu_time_counts_every_live_thread_of_a_process() -> None:
    import threading

    worked, finish = threading.Event(), threading.Event()

    def work() -> None:
        sum(range(3_000_000))
        worked.set()
        finish.wait(30)  # alive while measured: an ended thread's time leaves /proc/PID/task

    before = process_cpu_s(os.getpid())
    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert worked.wait(30)
        assert process_cpu_s(os.getpid()) - before > 0.01
    finally:
        finish.set()
        worker.join(30)


def test_test_dialogue_says_each_message_and_expects_exactly_its_reply() -> None:
    _text, script = dialogues.twenty_rules()
    dialogue = parse_dialogue(dialogues.test_dialogue(script, "twenty"), "play.yaml")
    assert dialogue.is_test
    say, expect = dialogue.script[:2]
    assert (say.kind, say.reply.fixed if say.reply else None) == ("say", "Status Report ALPHA")
    assert (expect.kind, [p.kind for p in expect.patterns]) == ("expect", ["exact"])
    assert expect.patterns[0].sources == ("exact alpha ok",)


def test_the_bots_of_the_benchmark_run_on_the_loop_named(tmp_path: Path) -> None:
    bench = scenarios.Bench(scenarios.QUICK, tmp_path)
    assert bench.bot("b", tmp_path / "d.yaml").argv[-2:] == ["--loop", "asyncio"]
    assert bench.bot("b", tmp_path / "d.yaml", loops.UVLOOP).argv[-2:] == ["--loop", "uvloop"]
    assert bench.echo().argv[-2:] == ["--loop", "asyncio"]
    assert bench.echo("e", loops.UVLOOP).argv[-2:] == ["--loop", "uvloop"]


def _run(turns_per_s: float, us: float, p99_s: float, server_busy: float = 0.9) -> dict[str, object]:
    return {
        "turns_per_s": turns_per_s,
        "p50_s": p99_s / 2,
        "p99_s": p99_s,
        "server_us_per_turn": us,
        "generator_us_per_turn": 5.0,
        "server_busy": server_busy,
        "generator_busy": 0.5,
        "errors": {},
        "first_wrong": "",
    }


def _rows(results: dict[str, list[dict[str, object]]]) -> dict[str, report.Row]:
    plan = scenarios.QUICK
    rows = scenarios._many_clients_rows(plan, results, {name: 20.0 for name in results}, "")
    return {row.name.split(": ", 1)[1]: row for row in rows}


def test_many_clients_rows_hold_the_issue_targets_against_the_median_of_the_rounds() -> None:
    echo = [_run(100.0, 10.0, 0.010), _run(90.0, 10.0, 0.010), _run(1.0, 99.0, 9.0)]  # one noisy round
    bot = [_run(95.0, 11.0, 0.012), _run(96.0, 11.0, 0.012), _run(97.0, 11.0, 0.012)]
    rows = _rows({scenarios.ECHO: echo, scenarios.BOT: bot})  # uvloop not installed: asyncio is the default
    cpu = rows["bot CPU per turn (default loop, asyncio)"]
    assert (cpu.figure, cpu.baseline, cpu.target, cpu.met) == (11.0, 10.0, "<= 1.20x", True)
    assert cpu.details.endswith("the aim: 1.10x")
    assert "bot CPU per turn (--loop asyncio)" not in rows  # the default loop is asyncio here
    assert rows["throughput (default loop, asyncio)"].ratio == pytest.approx(96 / 90)
    assert rows["throughput (default loop, asyncio)"].target == "-"  # reported, no target (issue 24)
    assert rows["throughput (default loop, asyncio)"].met is None
    assert rows["p99 latency (default loop, asyncio)"].target == "<= 1.20x"
    assert rows["p99 latency (default loop, asyncio)"].met is True
    assert rows["load generator, cores busy"].met is True
    assert rows["errors"].met is True


def test_with_uvloop_installed_the_targets_hold_the_bot_on_uvloop_to_the_asyncio_echo() -> None:
    echo = [_run(90.0, 10.0, 0.010)] * 3
    bot = [_run(80.0, 13.0, 0.013)] * 3
    uv = [_run(150.0, 6.0, 0.008)] * 3
    rows = _rows({scenarios.ECHO: echo, scenarios.BOT: bot, scenarios.BOT_UVLOOP: uv})
    cpu = rows["bot CPU per turn (default loop, uvloop)"]
    assert (cpu.figure, cpu.baseline, cpu.met) == (6.0, 10.0, True)
    on_asyncio = rows["bot CPU per turn (--loop asyncio)"]
    assert (on_asyncio.figure, on_asyncio.ratio, on_asyncio.target) == (13.0, 1.3, "<= 1.35x")
    assert on_asyncio.met is True
    assert rows["throughput (default loop, uvloop)"].met is None
    assert rows["p99 latency (default loop, uvloop)"].met is True
    uvloop = rows["throughput, bot on uvloop"]
    assert uvloop.ratio == pytest.approx(150 / 90)
    assert (uvloop.target, uvloop.met) == ("-", None)
    assert rows["load generator, cores busy"].met is True
    assert rows["errors"].met is True


def test_the_floor_rows_show_the_room_the_cpu_target_leaves_and_what_any_uvloop_server_reaches() -> None:
    echo = [_run(100.0, 10.0, 0.010)] * 3
    bot = [_run(70.0, 14.0, 0.013)] * 3
    uv = [_run(80.0, 12.0, 0.012)] * 3
    floor = [_run(110.0, 9.0, 0.009), _run(1.0, 99.0, 9.0), _run(110.0, 9.0, 0.009)]
    rows = _rows(
        {scenarios.ECHO: echo, scenarios.BOT: bot, scenarios.BOT_UVLOOP: uv, scenarios.ECHO_UVLOOP: floor}
    )
    cpu = rows["CPU per turn, echo on uvloop (the floor)"]
    assert (cpu.figure, cpu.baseline, cpu.ratio, cpu.target, cpu.met) == (9.0, 10.0, 0.9, "-", None)
    # 1.20 x 10 us - 9 us of the floor = 3 us of room; the bot on uvloop takes 12 - 9 = 3.
    assert cpu.details.endswith(
        "leaves the bot's own work (decoding, matching, filling, framing) 3.0 us a turn, and it takes 3.0"
    )
    assert "the echo on uvloop 110 turns/s (1.10x)" in rows["throughput (default loop, uvloop)"].details
    assert rows["bot CPU per turn (--loop asyncio)"].met is False  # 14 us: 1.40x
    tps = rows["throughput, echo on uvloop"]
    assert (tps.figure, tps.met) == (110.0, None)
    assert tps.ratio == pytest.approx(1.1)
    assert rows["errors"].met is True  # the floor's runs are no bot's


def test_many_clients_rows_miss_when_the_bot_costs_more_and_say_when_uvloop_is_missing() -> None:
    echo = [_run(100.0, 10.0, 0.010)] * 3
    bot = [_run(80.0, 13.0, 0.013, server_busy=0.4)] * 3
    rows = _rows({scenarios.ECHO: echo, scenarios.BOT: bot})
    assert rows["bot CPU per turn (default loop, asyncio)"].met is False  # 1.30x
    assert rows["throughput (default loop, asyncio)"].met is None
    assert rows["p99 latency (default loop, asyncio)"].met is False
    assert rows["load generator, cores busy"].met is False  # 0.5 busy against a server at 0.4
    missing = rows["throughput, bot on uvloop"]
    assert missing.met is None
    assert (
        missing.details
        == "not measured: uvloop is not installed (none for Windows or PyPy; pip install uvloop)"
    )


def test_locust_without_the_load_extra_is_one_line_saying_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *rest: None if name == "locust" else real(name, *rest)
    )
    from chat.program import run

    assert run("python -m bench", bench_main, ["--quick", "--locust"]) == 1
    assert capsys.readouterr().err == (
        "python -m bench: --locust needs Locust: pip install -e '.[load]' (the load extra), then retry\n"
    )


def test_a_run_that_fails_leaves_no_alarm_behind_in_its_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Left set, the run's SIGALRM fired 180 s later in whatever the process ran next (nonposix CI).
    import signal

    from bench import cli

    def broken(_bench: object) -> list[object]:
        raise BenchError("the server did not start")

    monkeypatch.setitem(scenarios.SCENARIOS, "1", broken)  # the dict the command reads
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(BenchError):
        cli.main(["--quick", "--only", "1"])
    assert signal.alarm(0) == 0  # nothing was pending
    assert signal.getsignal(signal.SIGALRM) is before


# -- in process: a turn's own work per kind, and as the rules grow ------------------------------


def test_in_process_turns_check_every_reply_and_give_one_row_per_kind() -> None:
    figures = inprocess.measure(turns=200, rounds=1)

    rows = inprocess.kind_rows(figures, "best of 1 run of 200 turns")

    assert [row.name for row in rows] == [
        "1. in process: a turn, exact rule (fixed reply)",
        "1. in process: a turn, contains rule (fixed reply)",
        "1. in process: a turn, glob rule (fixed reply)",
        "1. in process: a turn, regex rule, captures in the reply",
        "1. in process: a turn, fallback (no rule matches)",
    ]
    assert all(row.figure > 0 and row.baseline == figures["echo"] > 0 for row in rows)
    assert all(row.unit == "us" and row.met is None for row in rows)


def test_in_process_messages_are_scenario_ones_sorted_by_the_kind_that_answers() -> None:
    by_kind = inprocess.messages_by_kind()

    assert [len(by_kind[kind]) for kind in inprocess.KINDS] == [5, 5, 5, 5, 1]
    assert by_kind["regex"][0] == (b"order 7 teas for alpha\n", "7 teas for alpha")
    assert by_kind["fallback"] == [(f"{dialogues.UNMATCHED_MESSAGE}\n".encode(), dialogues.FALLBACK_REPLY)]


@pytest.mark.parametrize("chars", inprocess.MESSAGE_CHARS)
def test_the_scaling_message_has_its_length_and_only_the_fallback_takes_it(chars: int) -> None:
    message = inprocess.fallback_message(chars)

    assert len(message) == chars
    assert parse_dialogue(dialogues.regex_rules(200), "regex.yaml").match(message) is None


def test_scaling_rows_hold_a_thousand_rules_to_twice_the_ten_rule_turn() -> None:
    figures = {(10, 40): 2.0, (1000, 40): 3.9, (10, 1000): 5.0, (1000, 1000): 10.5}

    rows = inprocess.scaling_rows(figures, "best of 3")

    assert [(row.figure, row.baseline, row.target, row.met) for row in rows] == [
        (3.9, 2.0, "<= 2.00x", True),
        (10.5, 5.0, "<= 2.00x", False),
    ]
    assert rows[0].name == "2. in process: fallback turn, 1,000 regex rules vs 10, 40 characters"


def test_scaling_measures_every_rule_count_and_message_length() -> None:
    figures = inprocess.scaling(turns=20, rounds=1)

    assert sorted(figures) == [(10, 40), (10, 1000), (1000, 40), (1000, 1000)]
    assert all(figure > 0 for figure in figures.values())
