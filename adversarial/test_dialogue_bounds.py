"""Loading is linear (issue 19, items 7 and 8): a dialogue file of any shape loads in seconds, in bounded
memory.

Each shape is a file of up to 1 MiB (the file limit) built to make one part of loading
costly: word lists multiplied across rules, one rule of 120,000 alternatives, rules with no
literal each with an example, conditional rules, topics, the largest substitution and
delimiter tables. ``chat-bot --check`` loads each one as a child process; its CPU time (from
wait4) and peak RSS (VmHWM) must stay under the bounds, and the verdict is the expected one: a
dialogue past a bound is refused with one problem at the rule that passes it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adversarial import profiles
from bots import patterns
from bots.loader import MAX_DIALOGUE_BYTES
from chat.status import ExitStatus
from chat_testing import child_env, program

# Not marked timing: the bounds are CPU time (wait4's, thread_time) and peak RSS, which other work on the
# cores does not stretch, so these run in the first pass beside the rest (about 25 s of CPU).
pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(300)]

LOAD_CPU_LIMIT_S = 8.0  # "in seconds": the costliest shape takes about 3 s of CPU here
LOAD_RSS_LIMIT_MIB = 300  # every shape stays under this (the costliest, 9,000 topics, 210 MiB; at rest 25)
# A load that runs away is stopped, and fails, past RUNAWAY_CPU_S of its own CPU time (before this
# work: 40 to 53 s, or minutes): CPU time, as the bound, so that a load starved of the cores beside
# CI's other stages (3 s of CPU in 60 s of wall time once) is not mistaken for one; RUNAWAY_WALL_S
# bounds a child that hangs without using the CPU.
RUNAWAY_CPU_S = 30.0
RUNAWAY_WALL_S = 240.0  # under the module's 300 s pytest-timeout


def lists_times_rules(rules: int) -> str:
    """The issue's shape 7: two 16-item word lists, and rules `exact: "{a} {b} rN"` (256 texts each)."""
    a = ", ".join(f"a{n}" for n in range(16))
    b = ", ".join(f"b{n}" for n in range(16))
    body = "".join(f'  - exact: "{{a}} {{b}} r{n}"\n    reply: ok\n' for n in range(rules))
    return f"version: 1.1\nlists:\n  a: [{a}]\n  b: [{b}]\nrules:\n{body}"


def alternatives(count: int) -> str:
    """The issue's shape 8: one rule `exact: [w0, ..., wN]`."""
    return f"version: 1\nrules:\n  - exact: [{', '.join(f'w{n}' for n in range(count))}]\n    reply: ok\n"


def examples_without_literals(rules: int) -> str:
    """Rules whose regex has no plain word (tried for every message), each with an example."""
    body = "".join(
        f"  - regex: '^[{n // 1000 % 10}][{n // 100 % 10}][{n // 10 % 10}][{n % 10}]$'\n"
        f"    reply: r\n    examples: ['{n:04d}']\n"
        for n in range(rules)
    )
    return f"version: 1\nrules:\n{body}"


def conditional_rules(rules: int) -> str:
    """Rules that each answer under a condition: the rule list is cut at every one of them."""
    body = "".join(f"  - contains: w{n % 50}\n    when: v == '{n}'\n    reply: r\n" for n in range(rules))
    return f"version: 1.1\nvars: {{v: ''}}\nrules:\n{body}"


def topics(count: int) -> str:
    """Topics, each reached by a rule of its own: one rule list and index each."""
    switches = "".join(f"  - contains: go{n}\n    reply: r\n    topic: t{n}\n" for n in range(count))
    bodies = "".join(f"  t{n}:\n    rules:\n      - contains: w{n}\n        reply: r\n" for n in range(count))
    return f"version: 1.1\nrules:\n{switches}topics:\n{bodies}"


def tables() -> str:
    """The largest substitution table (1,000 keys of 32 characters), 1,000 delimiters, 256 variables."""
    subs = ", ".join(f'"{"a " * 14}z{n:03d}": r{n}' for n in range(1000))
    split = ", ".join(f"d{n}" for n in range(1000))
    names = ", ".join(f"v{n}: x" for n in range(256))
    return f"version: 1.1\nsubs: {{{subs}}}\nclauses: {{split: [{split}]}}\nvars: {{{names}}}\nfallback: ok\n"


#: name -> (the file's text, the status --check ends with, a text its output holds), cheapest first: a
#: profile's ``dialogue_shapes`` loads the first ones (the ci profile leaves out the last three).
PASSES = ":162:12: this pattern passes the limit"  # the 79th rule: 256 texts each, 20,000 in all
SHAPES: dict[str, tuple[Callable[[], str], int, str]] = {
    "lists x 1,000 rules (38 KiB)": (lambda: lists_times_rules(1000), 5, PASSES),
    "120,000 alternatives (1 MiB)": (lambda: alternatives(120_000), 5, "passes the limit of 20,000"),
    "20,000 alternatives": (lambda: alternatives(20_000), 0, ": ok"),
    "9,000 rules without a literal, with examples": (
        lambda: examples_without_literals(9000),
        0,
        "warning: this example and the ones after it were not checked",
    ),
    "the largest tables": (tables, 0, ": ok"),
    "18,000 conditional rules": (lambda: conditional_rules(18_000), 0, ": ok"),
    "9,000 topics": (lambda: topics(9000), 0, ": ok"),
    "lists x 25,000 rules (1 MiB)": (lambda: lists_times_rules(25_000), 5, PASSES),
}


def check_costs(path: Path) -> tuple[int, str, float, float]:
    """``chat-bot --check path``: its status, output, CPU seconds (wait4) and peak RSS in MiB.

    The peak is the child's VmHWM, read while it runs: wait4's ru_maxrss keeps the high-water
    mark of the memory it was started from (this test process's), however small the child.
    """
    started = time.monotonic()
    output = path.with_suffix(".out")
    peak = 0
    with output.open("w", encoding="utf-8") as sink:
        command = [program("chat-bot"), "--check", str(path)]
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=child_env())
        while True:  # wait4, not Popen.wait: it reports the child's own CPU time
            with contextlib.suppress(OSError):
                peak = max(peak, _high_water_kib(child.pid))
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > RUNAWAY_WALL_S or _cpu_seconds(child.pid) > RUNAWAY_CPU_S:
                child.kill()
            time.sleep(0.01)
    child.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
    cpu = usage.ru_utime + usage.ru_stime
    return child.returncode, output.read_text(encoding="utf-8"), cpu, peak / 1024


def _cpu_seconds(pid: int) -> float:
    """The user and system CPU time *pid* has used so far (Linux /proc), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _high_water_kib(pid: int) -> int:
    """The peak resident size of *pid* since it started its program (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_the_nightly_profile_loads_every_shape() -> None:
    assert profiles.PROFILES["nightly"].dialogue_shapes == len(SHAPES)


@pytest.mark.parametrize("shape", list(SHAPES)[: profiles.active_sizes().dialogue_shapes])
def test_a_dialogue_file_of_any_shape_loads_in_seconds_in_bounded_memory(
    shape: str, tmp_path: Path, figures: Any
) -> None:
    build, status, shown = SHAPES[shape]
    path = tmp_path / "shape.yaml"
    path.write_text(build(), encoding="utf-8")
    assert path.stat().st_size <= MAX_DIALOGUE_BYTES
    code, output, cpu, rss = check_costs(path)
    figures(f"--check of {shape}", f"{cpu:.2f} s of CPU, peak RSS {rss:.0f} MiB, status {code}")
    assert code in (status, -9), output[-2000:]
    assert cpu < LOAD_CPU_LIMIT_S, f"{cpu:.1f} s"
    assert rss < LOAD_RSS_LIMIT_MIB, f"{rss:.0f} MiB"
    assert code == status, output[-2000:]
    assert shown in output
    assert "Traceback" not in output
    assert code != ExitStatus.INVALID_DIALOGUE or output.count(str(path)) == 1  # one problem, at its rule


def test_the_rule_index_builds_in_time_linear_in_the_alternatives(figures: Any) -> None:
    # The index alone, on one rule of 120,000 alternatives sharing one compiled regex: grouping them
    # for the plain scan copied the rest of the list for each one (50 s for this file's shape).
    regex, _lit, _runs = patterns.compile_pattern(
        "exact", "w", case_sensitive=False, ignore_punctuation=False
    )
    costs = []
    for count in (15_000, 120_000):
        alternatives = [[(regex, f"w{n}") for n in range(count)]]
        runs = [[(f"w{n}",) for n in range(count)]]
        gc.disable()  # the algorithm's time, not the collector's (which grows with what is alive)
        try:
            started = time.thread_time()
            patterns.RuleIndex(alternatives, runs)
            costs.append(time.thread_time() - started)
        finally:
            gc.enable()
    figures("rule index of 15,000 / 120,000 alternatives", f"{costs[0]:.2f} s / {costs[1]:.2f} s of CPU")
    assert costs[1] < 2.0
    assert costs[1] < 3 * 8 * costs[0]  # eight times the alternatives: about eight times the time, not 64
