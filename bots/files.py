"""Dialogue files by name, and the roles that only read them: ``--check`` and ``--print-schema``.

``--script`` and ``--check`` take the same names: a file, or the name of a dialogue
shipped in bots/dialogues/ (``quiz`` or ``quiz.yaml``, as ``chat-bot --list`` shows
them). Kept out of :mod:`bots.cli` so that the roles that read files stay small and
quick to import: ``chat-bot --check`` runs in editors and CI (docs/benchmark.md,
scenario 4: under 150 ms).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bots.loader import DialogueError, DialogueWarning, Problem, Relayed, check_dialogue_files
from bots.model import Where
from chat.display import say
from chat.errors import ChatError
from chat.status import ExitStatus

DEFAULT_DIALOGUE = "default.yaml"  # in bots/dialogues/, shipped in the package
DIALOGUE_SUFFIX = ".yaml"
#: What a name that is neither a file nor a bundled dialogue gets, from --script and --check alike.
NO_SUCH_DIALOGUE = "no such file, and no bundled dialogue of that name: chat-bot --list names them"


class CheckFailed(ChatError):
    """--check found problems (each already printed as file:line:col: message)."""

    status = ExitStatus.INVALID_DIALOGUE


def bundled_dialogue_path(name: str = DEFAULT_DIALOGUE) -> str:
    """Path of a dialogue shipped in bots/dialogues/."""
    from importlib import resources

    return str(resources.files("bots").joinpath("dialogues").joinpath(name))


def bundled_dialogues() -> list[str]:
    """Paths of every dialogue shipped in bots/dialogues/, sorted by name."""
    folder = bundled_dialogue_path("")
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(DIALOGUE_SUFFIX))


def script_path(script: str | None) -> str:
    """A dialogue named on the command line: a file, or a bundled dialogue's name (no path separator)."""
    if script is None:
        return bundled_dialogue_path()
    if os.path.exists(script) or os.sep in script or (os.altsep and os.altsep in script):
        return script
    name = script if script.endswith(DIALOGUE_SUFFIX) else script + DIALOGUE_SUFFIX
    bundled = bundled_dialogue_path(name)
    if not os.path.isfile(bundled):
        raise DialogueError([Problem(Where(script, 1, 1), NO_SUCH_DIALOGUE)])
    return bundled


def print_schema() -> int:
    """--print-schema: the dialogue format's JSON Schema, for editors and validators."""
    from importlib import resources

    sys.stdout.write(resources.files("bots").joinpath("schema.json").read_text(encoding="utf-8"))
    return int(ExitStatus.SUCCESS)


def _checked(names: Sequence[str]) -> list[tuple[str, list[Problem]]]:
    """Each named dialogue (a file or a bundled name, as --script takes) and its problems."""
    found: list[tuple[str, list[Problem]]] = []
    for name in names:
        try:
            path = script_path(name)
        except DialogueError as exc:
            found.append((name, exc.problems))
            continue
        found.extend(check_dialogue_files([path]))
    return found


def check(names: Sequence[str]) -> int:
    """--check: print every problem as file:line:col: message (stdout); exit 0 only when all are valid.

    A problem of an included file is printed at each include line on its way too (a
    :class:`~bots.loader.Relayed` copy, so an editor jumps to either), and counted once.
    """
    bad_files = problems = 0
    for path, found in _checked(names):
        errors = [p for p in found if not isinstance(p, DialogueWarning)]  # warnings: the file is valid
        for problem in found:
            say(str(problem))
        if not errors:
            say(f"{path}: ok")
            continue
        bad_files += 1
        problems += sum(not isinstance(p, Relayed) for p in errors)
    if problems:
        noun = "problem" if problems == 1 else "problems"
        raise CheckFailed(f"{problems} {noun} in {bad_files} of {len(names)} dialogue file(s)")
    return int(ExitStatus.SUCCESS)
