"""The README's two commands, exactly as a new user copies them: install-and-run, then test.

    python3 .ci/readme_commands.py      # prints the two command lines, in order

.ci/readme-in-container.sh runs what this prints, unchanged, in a fresh container (a .ci/run stage), so the
README's promise that these two commands work on a fresh machine is tested as written. A command is the
first README line that starts with its prefix; a trailing `# comment` stays, since the shell ignores it.
tests/test_ci_config.py fails as soon as the README loses one of them.
"""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
#: How each command begins: a virtual environment, the package installed into it and a program run; then
#: tox installed and run (the project's test command).
PREFIXES = ("python3 -m venv ", "pip install tox ")


class CommandMissing(Exception):
    """The README no longer has one of the commands."""


def readme_commands(readme: Path = README) -> list[str]:
    """The first line of *readme* that starts with each prefix, in the order of PREFIXES."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    commands = []
    for prefix in PREFIXES:
        found = next((line.strip() for line in lines if line.startswith(prefix)), None)
        if found is None:
            raise CommandMissing(
                f"{readme.name} has no line starting with {prefix.strip()!r}: "
                "restore the command or update PREFIXES in .ci/readme_commands.py"
            )
        commands.append(found)
    return commands


if __name__ == "__main__":
    try:
        print(*readme_commands(), sep="\n")
    except CommandMissing as exc:
        sys.exit(f"readme_commands: {exc}")
