"""The CI configuration agrees with itself: the GitHub workflows, tox.ini and the local mirror (.ci/run).

tox-gh maps a matrix job's Python to tox envs through tox.ini's ``[gh]`` table. A version added to the
matrix and not to the table makes a job run nothing; a version added to env_list and not to .ci/run goes
untested here. These tests fail first, on every platform, with no network and no tool but PyYAML.
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from adversarial import profiles

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
TOX_INI = REPO / "tox.ini"
CI_RUN = REPO / ".ci" / "run"
PYPROJECT = REPO / "pyproject.toml"

# The test matrix lives in the "tox" job; Windows runs the unit tests in "windows-unit".
TESTS_WORKFLOW = "tests.yml"
MATRIX_JOBS = ("tox", "windows-unit")
STATIC_WORKFLOW = "static.yml"

PY_ENV = re.compile(r"^py(\d)(\d+)$")  # tox's py310 stands for Python 3.10
# A release tag (v4, v4.2, v4.2.1) or a full commit id: never a branch, which moves under our feet.
PINNED_REF = re.compile(r"^v\d+(\.\d+){0,2}$|^[0-9a-f]{40}$")


def python_of(env: str) -> str | None:
    """The Python version a py-env stands for (py310 -> 3.10), or None for other envs."""
    match = PY_ENV.match(env)
    return f"{match[1]}.{match[2]}" if match else None


def split_list(value: str) -> list[str]:
    """A tox list (comma or newline separated) as a list of names."""
    return [item.strip() for item in re.split(r"[,\n]", value) if item.strip()]


def read_tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    with TOX_INI.open(encoding="utf-8") as f:
        parser.read_file(f)
    return parser


def tox_gh_table(tox: configparser.ConfigParser) -> dict[str, list[str]]:
    """tox.ini's [gh] python table: Python version -> the envs tox-gh runs on it."""
    table: dict[str, list[str]] = {}
    for line in tox["gh"]["python"].splitlines():
        if line.strip():
            version, _, envs = line.partition("=")
            table[version.strip()] = split_list(envs)
    return table


def read_workflow(name: str) -> dict[str, Any]:
    with (WORKFLOWS / name).open(encoding="utf-8") as f:
        workflow: dict[str, Any] = yaml.safe_load(f)
    return workflow


def matrix_values(workflow: str, job: str, key: str) -> list[Any]:
    values: list[Any] = read_workflow(workflow)["jobs"][job]["strategy"]["matrix"][key]
    return values


def ci_run_pythons() -> list[str]:
    """The major.minor versions .ci/run makes visible through PYENV_VERSION."""
    match = re.search(r"^export PYENV_VERSION=(\S+)$", CI_RUN.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{CI_RUN} sets no PYENV_VERSION"
    return [version.rsplit(".", 1)[0] for version in match[1].split(":")]


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def test_the_test_matrix_and_the_tox_gh_table_name_the_same_pythons() -> None:
    matrix = matrix_values(TESTS_WORKFLOW, "tox", "python")
    table = tox_gh_table(read_tox())
    assert sorted(map(str, matrix)) == sorted(table), (
        f"{TESTS_WORKFLOW} tests Python {matrix}, but tox.ini's [gh] table maps {sorted(table)}: "
        "add or remove the version in both"
    )


@pytest.mark.parametrize("job", MATRIX_JOBS)
def test_matrix_versions_are_quoted_so_yaml_does_not_read_3_10_as_3_1(job: str) -> None:
    for version in matrix_values(TESTS_WORKFLOW, job, "python"):
        assert isinstance(version, str), f'{TESTS_WORKFLOW}: job {job}: write "{version}" in quotes'


def test_the_windows_job_tests_the_same_pythons_as_linux_and_macos() -> None:
    assert matrix_values(TESTS_WORKFLOW, "windows-unit", "python") == matrix_values(
        TESTS_WORKFLOW, "tox", "python"
    )


def test_each_python_in_the_tox_gh_table_runs_its_own_py_env_and_no_other() -> None:
    for version, envs in tox_gh_table(read_tox()).items():
        pythons = {python_of(env) for env in envs} - {None}
        assert pythons == {version}, f"tox.ini [gh]: Python {version} runs {envs}"


def test_every_env_the_tox_gh_table_names_exists_in_tox_ini() -> None:
    tox = read_tox()
    for envs in tox_gh_table(tox).values():
        for env in envs:
            # A py-env needs no section of its own: [testenv] defines it.
            assert python_of(env) or tox.has_section(f"testenv:{env}"), f"tox.ini has no [testenv:{env}]"


def test_env_list_tests_exactly_the_pythons_ci_run_provides() -> None:
    env_list = split_list(read_tox()["tox"]["env_list"])
    local = sorted(version for version in map(python_of, env_list) if version)
    assert local == sorted(ci_run_pythons()), (
        f"tox.ini's env_list tests Python {local}, but .ci/run's PYENV_VERSION provides {ci_run_pythons()}"
    )


def test_every_python_in_env_list_is_in_the_test_matrix() -> None:
    env_list = split_list(read_tox()["tox"]["env_list"])
    matrix = matrix_values(TESTS_WORKFLOW, "tox", "python")
    for env in env_list:
        version = python_of(env)
        assert version is None or version in matrix, (
            f"{env} is in env_list but {TESTS_WORKFLOW} skips {version}"
        )


def test_the_lowest_python_tested_is_the_one_pyproject_requires() -> None:
    match = re.search(
        r'^requires-python\s*=\s*">=\s*(\d+\.\d+)"', PYPROJECT.read_text(encoding="utf-8"), re.M
    )
    assert match, 'pyproject.toml has no requires-python of the form ">=3.X"'
    lowest = min(matrix_values(TESTS_WORKFLOW, "tox", "python"), key=lambda v: tuple(map(int, v.split("."))))
    assert lowest == match[1]


def test_the_static_workflow_runs_envs_that_tox_ini_defines() -> None:
    tox = read_tox()
    envs = matrix_values(STATIC_WORKFLOW, "check", "env")
    assert envs, f"{STATIC_WORKFLOW} runs no env"
    for env in envs:
        assert tox.has_section(f"testenv:{env}"), f"{STATIC_WORKFLOW} runs {env}, which tox.ini lacks"
    assert set(envs) <= set(split_list(tox["tox"]["env_list"])), "plain `tox` must run the static checks too"


def test_the_repository_has_the_five_workflows() -> None:
    names = {path.name for path in workflow_files()}
    assert {"tests.yml", "static.yml", "docker.yml", "release.yml", "nightly.yml"} <= names


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_workflow_sets_least_permissions_and_cancels_superseded_runs(path: Path) -> None:
    workflow = read_workflow(path.name)
    assert "permissions" in workflow, f"{path.name}: set top-level permissions"
    assert workflow["permissions"] in ({}, {"contents": "read"}), (
        f"{path.name}: top-level permissions too wide"
    )
    assert "group" in workflow.get("concurrency", {}), f"{path.name}: set a concurrency group"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_every_job_of_the_workflow_has_a_timeout(path: Path) -> None:
    for name, job in read_workflow(path.name)["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: job {name} has no timeout-minutes"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_release_tag_or_a_full_commit(path: Path) -> None:
    for name, job in read_workflow(path.name)["jobs"].items():
        for step in job.get("steps", []):
            if "uses" in step:
                _, _, ref = step["uses"].partition("@")
                assert PINNED_REF.match(ref), f"{path.name}: job {name}: {step['uses']} is not pinned"


def test_the_release_job_alone_may_mint_an_id_token() -> None:
    for path in workflow_files():
        for name, job in read_workflow(path.name)["jobs"].items():
            if job.get("permissions", {}).get("id-token") == "write":
                assert (path.name, name) == ("release.yml", "pypi"), (
                    f"{path.name}: job {name} asks for id-token"
                )


# -- pinned checkers, cancelled runs, test reports, the README's commands (issue 13) ----------------------

CONSTRAINTS = REPO / ".github" / "constraints-lint.txt"
CONSTRAINT_DEP = "-c {tox_root}{/}.github{/}constraints-lint.txt"
#: The envs whose tools are checkers: each installs them through the constraints file.
CHECKER_ENVS = ("lint", "type", "static", "docs")
#: The jobs that run pytest: each writes a JUnit report, uploads it and summarises it.
TEST_JOBS = (("tests.yml", "tox"), ("tests.yml", "windows-unit"), ("nightly.yml", "e2e"))
REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def normalized(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions() -> dict[str, str]:
    """The constraints file as {name: version}; every line must be an exact pin."""
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep == "==", f"{CONSTRAINTS.name}: {line!r} is not an exact pin (name==version)"
            assert version.strip(), f"{CONSTRAINTS.name}: {line!r} names no version"
            pins[normalized(name.strip())] = version.strip()
    return pins


def env_deps(env: str) -> list[str]:
    return split_list(read_tox()[f"testenv:{env}"].get("deps", ""))


def workflow_runs() -> list[tuple[str, str]]:
    """Every `run:` script of every workflow, with the workflow's file name."""
    return [
        (path.name, step["run"])
        for path in workflow_files()
        for job in read_workflow(path.name)["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


@pytest.mark.parametrize("env", CHECKER_ENVS)
def test_every_checker_is_installed_at_the_version_the_constraints_file_pins(env: str) -> None:
    deps = env_deps(env)
    assert CONSTRAINT_DEP in deps, f"tox.ini [testenv:{env}] must install its deps with {CONSTRAINT_DEP}"
    pins = pinned_versions()
    for dep in deps:
        if dep != CONSTRAINT_DEP:
            match = REQUIREMENT_NAME.match(dep)
            assert match, f"tox.ini [testenv:{env}]: cannot read {dep!r}"
            assert normalized(match[0]) in pins, (
                f"{dep} ([testenv:{env}]) is not pinned in {CONSTRAINTS.name}"
            )


def test_every_pip_install_in_a_workflow_is_constrained() -> None:
    for name, script in workflow_runs():
        for line in script.splitlines():
            if "pip install" in line:
                assert "--constraint .github/" in line, f"{name}: `{line.strip()}` installs unpinned tools"


#: Workflows another helper is changing at the same time; strict, so the mark fails once they comply.


@pytest.mark.parametrize(
    "path",
    workflow_files(),
    ids=lambda path: path.name,
)
def test_runs_on_main_are_never_cancelled_and_superseded_pull_request_runs_are(path: Path) -> None:
    workflow = read_workflow(path.name)
    # PyYAML reads the key `on` as True (YAML 1.1).
    events: dict[str, Any] = next((value for key, value in workflow.items() if key in ("on", True)), {})
    cancel = workflow["concurrency"].get("cancel-in-progress", False)
    if "pull_request" in events:
        assert cancel == "${{ github.event_name == 'pull_request' }}", (
            f"{path.name}: cancel-in-progress must be true for pull requests only"
        )
    else:
        assert cancel is False, f"{path.name}: a run of this workflow must never be cancelled"


@pytest.mark.parametrize(("workflow", "job"), TEST_JOBS)
def test_every_test_job_writes_uploads_and_summarises_a_junit_report(workflow: str, job: str) -> None:
    spec = read_workflow(workflow)["jobs"][job]
    report = spec["env"]["JUNIT_XML"]
    steps = spec["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert '"--junitxml=$JUNIT_XML"' in runs, f"{workflow}: job {job} does not pass --junitxml to pytest"
    summaries = [step for step in steps if "junit_summary.py" in step.get("run", "")]
    assert summaries, f"{workflow}: job {job} shows no summary of its report"
    assert '"$JUNIT_XML" >> "$GITHUB_STEP_SUMMARY"' in summaries[0]["run"]
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert any(step["with"]["path"] == "${{ env.JUNIT_XML }}" for step in uploads), (
        f"{workflow}: job {job} does not upload {report}"
    )
    for step in [*summaries, *uploads[:1]]:
        assert step.get("if") == "${{ !cancelled() }}", f"{workflow}: job {job}: a failed run needs it most"


def test_the_linux_and_macos_jobs_require_the_line_tools_they_install() -> None:
    assert read_workflow(TESTS_WORKFLOW)["jobs"]["tox"]["env"]["CHAT_REQUIRE_LINE_TOOLS"] == "1"
    assert re.search(r"^export CHAT_REQUIRE_LINE_TOOLS=1$", CI_RUN.read_text(encoding="utf-8"), re.M)
    assert "CHAT_REQUIRE_LINE_TOOLS" in split_list(read_tox()["testenv"]["pass_env"])


def _ci_script(name: str) -> Any:
    """A Python helper of .ci/, imported from its file (.ci is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / ".ci" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_job_summary_counts_what_pytest_reported(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites>'
        '<testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10" time="4.25"/>'
        "</testsuites>",
        encoding="utf-8",
    )
    assert _ci_script("junit_summary").summary("tox (Linux, Python 3.13)", report) == (
        "### tox (Linux, Python 3.13)\n\n"
        "| tests | passed | failed | errors | skipped | seconds | verdict |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
        "| 10 | 4 | 2 | 1 | 3 | 4.2 | FAILED |\n"
    )


def test_the_job_summary_says_when_pytest_never_ran(tmp_path: Path) -> None:
    assert _ci_script("junit_summary").summary("unit", tmp_path / "absent.xml") == (
        "### unit\n\nNo test report (absent.xml): the job stopped before pytest ran.\n"
    )


def test_the_readme_stage_finds_both_readme_commands_and_runs_them_in_order() -> None:
    commands = _ci_script("readme_commands").readme_commands()
    readme_lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert [command.split()[:2] for command in commands] == [["python3", "-m"], ["pip", "install"]]
    assert all(command in (line.strip() for line in readme_lines) for command in commands)
    assert re.search(r"^stage(?:_bg)? readme ", CI_RUN.read_text(encoding="utf-8"), re.M)


def test_the_readme_stage_names_the_command_a_readme_lost(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("python3 -m venv .venv && . .venv/bin/activate && pip install .\n", encoding="utf-8")
    module = _ci_script("readme_commands")
    with pytest.raises(
        module.CommandMissing, match=r"^README.md has no line starting with 'pip install tox'"
    ):
        module.readme_commands(readme)


def test_the_nonposix_stage_blocks_every_module_windows_lacks_before_the_unit_tests_load() -> None:
    # Read, not imported: importing the plugin would block the modules in this very process.
    source = (REPO / ".ci" / "no_posix_modules.py").read_text(encoding="utf-8")
    match = re.search(r"^POSIX_ONLY = (\(.*\))$", source, re.M)
    assert match, "no_posix_modules.py has no POSIX_ONLY tuple"
    blocked = ast.literal_eval(match[1])
    assert set(blocked) == {"resource", "pty", "fcntl", "termios", "tty", "readline", "pwd", "grp"}
    command = read_tox()["testenv:nonposix"]["commands"]
    assert "-p no_posix_modules" in command
    assert "tests" in command.split()
    assert re.search(
        r'^stage(?:_bg)? nonposix .* tox .*-e nonposix "\$\{INSTALLPKG\[@\]\}"$',
        CI_RUN.read_text(encoding="utf-8"),
        re.M,
    )


def test_every_test_file_name_is_unique_across_the_suites_so_one_run_collects_them_all() -> None:
    # pytest's default import mode imports a test file by its name alone: two suites with one name
    # stop `pytest tests e2e adversarial` at collection (packages such as e2e/containers are apart).
    names = [
        path.name for folder in ("tests", "e2e", "adversarial") for path in (REPO / folder).glob("test_*.py")
    ]
    assert sorted(names) == sorted(set(names))


# -- a run under 4 minutes, the full counts every night (issue 22) ---------------------------------------

NIGHTLY_WORKFLOW = "nightly.yml"
CONFTEST = REPO / "adversarial" / "conftest.py"
RELIABILITY = REPO / "docs" / "reliability.md"
PROFILE_ENV = "CHAT_HYPOTHESIS_PROFILE"
#: Each adversarial env and the profile it runs: ci in .ci/run and the pull-request workflow, nightly in
#: the scheduled one.
ADVERSARIAL_PROFILES = {
    "adversarial": "ci",
    "adversarial-bulk": "ci",
    "adversarial-timing": "ci",
    "adversarial-full": "nightly",
}
#: The counts the issues set, which the nightly profile keeps (or raises), and where each was set.
ISSUE_COUNTS = {
    "examples": 10_000,  # issue 7: "at least 10,000 examples each" (the codec and loader properties)
    "codec_angles": 2_000,  # the codec's secondary angles, 2,000 each since issue 7 (docs/reliability.md)
    "schema_documents": 10_000,  # issue 22: "10,000 schema documents"; issue 13 asked at least 1,000
    "endings_runs": 1_000,  # issue 14's state machine: 1,000 runs of up to 30 steps
    "integrity_messages": 100_000,  # issue 7: two peers exchange 100,000 messages
    "long_message_runs": 5,  # issue 19: 1 MiB to a slow reader "many times" (a cut came 2 runs of 3)
    "dialogue_shapes": 8,  # issue 19's dialogue files of any shape: all eight of the bounds test
    "flood_dialogues": 6,  # issue 14: another client's p99 under a hostile flood (every served dialogue)
}
LOAD_COUNTS = {"SLOW_PEERS": 1_000, "FLOOD_MESSAGES": 100_000, "DISCONNECTS": 1_000}  # issue 7


def tox_labels() -> dict[str, list[str]]:
    """tox.ini's labels: name -> the envs `tox -m NAME` runs."""
    labels = {}
    for line in read_tox()["tox"]["labels"].splitlines():
        if line.strip():
            name, _, envs = line.partition("=")
            labels[name.strip()] = split_list(envs)
    return labels


def env_list_pythons() -> list[str]:
    """The Pythons of tox.ini's env_list, oldest first."""
    found = (python_of(env) for env in split_list(read_tox()["tox"]["env_list"]))
    return sorted((version for version in found if version), key=lambda v: tuple(map(int, v.split("."))))


def py_env(version: str) -> str:
    """tox's env name for a Python version (3.10 -> py310)."""
    return "py" + version.replace(".", "")


def pytest_m_expressions(commands: str) -> list[str]:
    """The -m expressions of the pytest commands of a tox env, in order."""
    return re.findall(r'^\s*pytest .*?-m "([^"]+)"', commands, re.M)


def test_every_change_runs_every_check_and_each_python_is_tested_on_every_change_or_every_night() -> None:
    labels = tox_labels()
    ci, checks, nightly = labels["ci"], labels["checks"], labels["nightly"]
    assert not set(ci) & set(checks)
    env_list = split_list(read_tox()["tox"]["env_list"])
    assert [env for env in checks if not python_of(env)] == [env for env in env_list if not python_of(env)]
    # The nonposix stage runs the unit tests on its basepython.
    nonposix = read_tox()["testenv:nonposix"]["basepython"].removeprefix("python")
    per_change = {python_of(env.removesuffix("-unit").removesuffix("-e2e")) for env in [*ci, *checks]}
    per_change |= {nonposix}
    for version in env_list_pythons():
        assert version in per_change or py_env(version) in nightly, f"Python {version} goes untested"


def test_ci_run_runs_the_checks_label_in_the_readme_stage_or_else_in_the_tox_stage() -> None:
    # The README's test command is plain `tox` (env_list); in the readme stage's container, Debian's
    # Python 3.11 is the only one, so it runs the label checks: the static checks and py311.
    test_command = _ci_script("readme_commands").readme_commands()[1].split("#")[0]
    assert test_command.split() == ["pip", "install", "tox", "&&", "tox"]
    checks = tox_labels()["checks"]
    assert [python_of(env) for env in checks if python_of(env)] == ["3.11"]
    script = CI_RUN.read_text(encoding="utf-8")
    assert 'TOX_LABELS=(ci)\ncase " $STAGES " in *" readme "*) ;; *) TOX_LABELS+=(checks) ;; esac\n' in script
    assert re.search(r'^stage_bg tox .* tox .*-m "\$\{TOX_LABELS\[@\]\}" ', script, re.M)


def test_every_change_runs_the_e2e_suite_on_the_newest_python_and_the_unit_tests_on_the_oldest() -> None:
    ci = tox_labels()["ci"]
    pythons = env_list_pythons()
    assert {py_env(pythons[-1]), py_env(pythons[-1]) + "-e2e"} & set(ci)
    assert read_tox()["testenv:nonposix"]["basepython"] == f"python{pythons[0]}"


def test_a_unit_env_runs_the_unit_tests_an_e2e_env_the_e2e_tests_and_a_full_env_both() -> None:
    commands = read_tox()["testenv"]["commands"]
    unit = re.findall(r"^\s*unit: (pytest .*)$", commands, re.M)
    e2e = re.findall(r"^\s*e2e: (pytest .*)$", commands, re.M)
    full = re.findall(r"^\s*!unit-!e2e: (pytest .*)$", commands, re.M)
    assert len(unit) == len(e2e) == len(full) == 1, commands
    assert unit[0].split()[:2] == ["pytest", "tests"]
    assert "e2e" not in unit[0].split()
    assert e2e[0].split()[:2] == ["pytest", "e2e"]
    assert "tests" not in e2e[0].split()
    assert full[0].split()[:3] == ["pytest", "tests", "e2e"]
    assert e2e[0].split()[2:] == full[0].split()[3:]  # the same selection of the e2e suite


def test_the_nightly_label_runs_every_python_in_full_and_the_adversarial_suite_at_full_counts() -> None:
    nightly = tox_labels()["nightly"]
    assert sorted(nightly) == sorted([*map(py_env, env_list_pythons()), "adversarial-full"])


def test_ci_run_runs_the_adversarial_passes_and_the_timing_pass_last_and_alone() -> None:
    script = CI_RUN.read_text(encoding="utf-8")
    bulk = re.search(r"^adversarial_bulk\(\) \{\n(.*?)^\}", script, re.M | re.S)
    assert bulk, ".ci/run defines adversarial_bulk, the adversarial stage"
    assert re.search(r"^\s*tox .*-e adversarial-bulk ", bulk[1], re.M)
    assert re.search(r"^stage_bg adversarial .*\n?.*adversarial_bulk ", script, re.M)
    stages = re.findall(r"^(stage|stage_bg|join_stage|require) (\S+)", script, re.M)
    assert stages[-1] == ("stage", "timing"), f"the last stage is {stages[-1]}: the timing pass runs last"
    assert re.search(r"^stage timing .* tox .*-e adversarial-timing ", script, re.M)
    started = [name for kind, name in stages if kind == "stage_bg"]
    joined = [name for kind, name in stages if kind == "join_stage" and name != '"$name"']
    for loop in re.findall(r"^for name in (.*); do\n\s*join_stage", script, re.M):
        joined += loop.split()
    assert sorted(joined) == sorted(started), "every background stage ends before the timing pass"


def test_ci_run_and_the_workflows_install_tox_with_tox_uv() -> None:
    assert "--constraint .github/requirements-ci.txt tox tox-uv" in CI_RUN.read_text(encoding="utf-8")
    for name, script in workflow_runs():
        for line in script.splitlines():
            if re.search(r"pip install .* tox\b", line):
                assert "tox-uv" in line.split(), f"{name}: `{line.strip()}` installs tox without tox-uv"


def test_the_adversarial_envs_run_the_two_passes_that_the_conftest_names() -> None:
    tree = ast.parse(CONFTEST.read_text(encoding="utf-8"))
    passes = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PASSES" for t in node.targets)
    )
    tox = read_tox()
    assert pytest_m_expressions(tox["testenv:adversarial-bulk"]["commands"]) == [passes[0]]
    assert pytest_m_expressions(tox["testenv:adversarial-timing"]["commands"]) == [passes[1]]
    both = "{[testenv:adversarial-bulk]commands}\n{[testenv:adversarial-timing]commands}"
    assert tox["testenv:adversarial"]["commands"].strip() == both
    assert tox["testenv:adversarial-full"]["commands"].strip() == "{[testenv:adversarial]commands}"


@pytest.mark.parametrize(("env", "profile"), ADVERSARIAL_PROFILES.items())
def test_each_adversarial_env_runs_its_profile(env: str, profile: str) -> None:
    tox = read_tox()
    set_env = tox[f"testenv:{env}"]["set_env"]
    while set_env.strip().startswith("{[testenv:"):  # a reference to another env's set_env
        set_env = tox[set_env.strip()[2:].split("]")[0]]["set_env"]
    assert re.search(rf"^\s*{PROFILE_ENV} = {profile}$", set_env, re.M), f"[testenv:{env}] set_env: {set_env}"
    assert profile in profiles.PROFILES


def test_the_nightly_profile_keeps_the_counts_the_issues_set() -> None:
    nightly = asdict(profiles.PROFILES["nightly"])
    assert nightly.keys() == ISSUE_COUNTS.keys(), "a new size: say here which count an issue set for it"
    for name, count in ISSUE_COUNTS.items():
        assert nightly[name] >= count, f"nightly {name}: {nightly[name]:,}, below the issues' {count:,}"
    for name, count in LOAD_COUNTS.items():
        assert getattr(profiles, name) == count


def test_every_profile_runs_the_schema_documents_issue_13_asks_and_ci_is_no_larger_than_nightly() -> None:
    nightly = asdict(profiles.PROFILES["nightly"])
    for name, sizes in profiles.PROFILES.items():
        assert sizes.schema_documents >= profiles.MIN_SCHEMA_DOCUMENTS == 1_000, name
        for size, value in asdict(sizes).items():
            assert 0 < value <= nightly[size], f"profile {name}: {size} {value:,}"
    assert profiles.DEFAULT == "ci"


def test_an_unknown_profile_is_refused_naming_the_profiles() -> None:
    with pytest.raises(
        profiles.UnknownProfile,
        match=rf"^{PROFILE_ENV}=adversarial: no such profile; use one of nightly, ci, quick$",
    ):
        profiles.active_name({PROFILE_ENV: "adversarial"})
    assert profiles.active_name({}) == profiles.active_name({PROFILE_ENV: ""}) == "ci"
    assert profiles.active_sizes({PROFILE_ENV: "nightly"}) == profiles.PROFILES["nightly"]


def test_the_reliability_page_lists_both_profiles_with_their_counts() -> None:
    rows = {
        cells[0].strip("` "): [cell.strip() for cell in cells]
        for line in RELIABILITY.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
        for cells in [line.strip("|").split("|")]
    }
    header = next(
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in RELIABILITY.read_text(encoding="utf-8").splitlines()
        if line.startswith("| size |")
    )
    for name, sizes in profiles.PROFILES.items():
        if name == "quick":
            continue  # for editing a test, never a CI run
        column = header.index(f"{name} profile")
        for size, value in asdict(sizes).items():
            assert size in rows, f"docs/reliability.md: no row for `{size}` in the table of profiles"
            assert rows[size][column] == f"{value:,}", f"docs/reliability.md: `{size}` under {name}"


def test_the_nightly_workflow_runs_on_a_schedule_and_on_demand_only() -> None:
    workflow = read_workflow(NIGHTLY_WORKFLOW)
    events: dict[str, Any] = next(value for key, value in workflow.items() if key in ("on", True))
    assert set(events) == {"schedule", "workflow_dispatch"}
    assert all(re.fullmatch(r"(\S+ ){4}\S+", entry["cron"]) for entry in events["schedule"])


def test_the_nightly_workflow_runs_every_python_of_the_test_matrix_and_the_full_counts() -> None:
    assert matrix_values(NIGHTLY_WORKFLOW, "e2e", "python") == matrix_values(TESTS_WORKFLOW, "tox", "python")
    runs = [script for name, script in workflow_runs() if name == NIGHTLY_WORKFLOW]
    assert any("tox -e adversarial-full" in script for script in runs)


def test_pull_request_workflows_run_the_ci_profile_and_never_the_full_counts() -> None:
    ran = []
    for path in workflow_files():
        workflow = read_workflow(path.name)
        events: dict[str, Any] = next((value for key, value in workflow.items() if key in ("on", True)), {})
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                ran += [
                    (path.name, "pull_request" in events, env)
                    for env in re.findall(r"tox -e (adversarial\S*)", step.get("run", ""))
                ]
    assert ("tests.yml", True, "adversarial") in ran
    assert all(env != "adversarial-full" for _, on_pull_request, env in ran if on_pull_request)
    assert ("nightly.yml", False, "adversarial-full") in ran


@pytest.mark.parametrize(
    ("workflow", "job", "env"),
    [("tests.yml", "adversarial", "adversarial"), ("nightly.yml", "adversarial-full", "adversarial-full")],
)
def test_every_adversarial_job_writes_uploads_and_summarises_both_passes_reports(
    workflow: str, job: str, env: str
) -> None:
    spec = read_workflow(workflow)["jobs"][job]
    assert spec["env"]["CHAT_JUNIT_DIR"] == "junit"
    steps = spec["steps"]
    summary = next(step["run"] for step in steps if "junit_summary.py" in step.get("run", ""))
    for report in (f"{env}-bulk.xml", f"{env}-timing.xml"):
        assert f'"$CHAT_JUNIT_DIR"/{report}' in summary
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary
    uploads = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads[0]["with"]["path"] == "${{ env.CHAT_JUNIT_DIR }}"
    assert uploads[0].get("if") == "${{ !cancelled() }}"
