"""`include:` — other dialogue files read into one dialogue, every one of them bounded.

An included file is a dialogue file of its own (``chat-bot --check`` reads it alone
too), read by its own builder so that its problems carry its own file:line:col. What
it contributes to the including file is :data:`bots.loader.format.CONTRIBUTED`: its rules (after the
includer's own, in include order), its word lists, variables and reflections. The
keys that shape a conversation (greeting, fallback, script...) belong to the file
that runs it, so an included file holding one is a problem, never silently ignored.

Every problem of an included file is reported twice: at the `include:` line that
brought it in (``main.yaml:4:5: in included file 'common.yaml' (line 7, col 3): ...``)
and at its own place (``common.yaml:7:3: ...``), so an editor jumps to either.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bots.loader.bounds import Budget
from bots.loader.problems import DialogueError, Problem, Relayed
from bots.model import Where

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from bots.loader.build import Builder

MAX_INCLUDE_DEPTH = 4  # main -> topic file -> shared lists -> ... : four levels cover any sane
# layout, and a deeper chain is more likely a mistake than a design
MAX_INCLUDED_FILES = 32  # one file per topic or word list is a few dozen at most; the bound
# keeps a generated include tree from opening thousands of files at load
MAX_INCLUDED_BYTES = 1 << 20  # all included files together: the same 1 MiB as one dialogue file,
# so splitting a dialogue can never get round the size bound on what a load parses


#: Reads one included file: (its text, its path, the shared bounds) -> its builder and problems.
ReadFile = Callable[[str, str, "Includes"], "tuple[Builder | None, list[Problem]]"]


class Includes:
    """What a load has included so far: the chain being read, every file, and their size."""

    def __init__(self, root: str) -> None:
        self.root = root  # the file loaded, as it was named
        self.chain = [_identity(root)]  # the files being read, outermost first: a cycle returns to one
        # Included files stay inside the loaded file's folder: a dialogue (perhaps written by someone
        # else) cannot make the bot read, and quote in its problems, files elsewhere on the machine.
        # The bound is the loaded file's, whoever else may include it: a part that includes a file
        # above its own folder loads through its includer, and alone is refused, saying so.
        self.folder = os.path.dirname(self.chain[0])
        self.seen: set[str] = set(self.chain)  # every file read: a second include of one adds nothing
        self.files = 0
        self.bytes = 0
        self.reply_keys = 0  # the last reply key given: every file's replies draw from one count
        self.budget = Budget()  # the alternatives compiled: bounded across the files (loader.bounds)

    def include(
        self, written: str, includer: str, where: Where, read: ReadFile
    ) -> tuple[Builder | None, list[Problem]]:
        """Read the file *written* in *includer*'s `include:` at *where*.

        Returns the included file's builder (None when nothing is to be added) and the problems
        to report: the included file's own, each also reported at *where*.
        """
        if os.path.isabs(written) or written.startswith("~"):
            return None, [Problem(where, f"include path '{written}' must be relative to this file's folder")]
        path = os.path.join(os.path.dirname(includer), written)
        identity = _identity(path)
        if os.path.commonpath([self.folder, identity]) != self.folder:
            return None, [
                Problem(
                    where,
                    f"include path '{written}' leads outside the folder of the file loaded ({self.root}): "
                    "included files are in that folder or below it; a file that includes one above its "
                    "own folder is checked through the file that includes it",
                )
            ]
        if identity in self.chain:
            cycle = " -> ".join(
                os.path.basename(p) for p in [*self.chain[self.chain.index(identity) :], identity]
            )
            return None, [
                Problem(where, f"include cycle: {cycle}; a file cannot include itself, even through others")
            ]
        if identity in self.seen:
            return None, []  # already included elsewhere in this dialogue: its parts are in once
        if len(self.chain) > MAX_INCLUDE_DEPTH:
            return None, [
                Problem(
                    where,
                    f"includes nest more than {MAX_INCLUDE_DEPTH} files deep: "
                    f"include '{written}' from a file nearer the top",
                )
            ]
        if self.files >= MAX_INCLUDED_FILES:
            return None, [
                Problem(where, f"more than {MAX_INCLUDED_FILES} included files: merge some of them")
            ]
        from bots.loader import read_dialogue_text  # the package imports this module

        if not os.path.isfile(path):
            return None, [Problem(where, f"cannot read the included file '{written}': {_missing(path)}")]
        try:
            text = read_dialogue_text(path)
        except DialogueError as exc:
            return None, _reported_twice(exc.problems, path, written, where)
        self.files += 1
        self.bytes += len(text.encode("utf-8", errors="replace"))
        if self.bytes > MAX_INCLUDED_BYTES:
            return None, [
                Problem(
                    where,
                    f"included files are over {MAX_INCLUDED_BYTES // 1024} KiB together: trim or merge them",
                )
            ]
        self.seen.add(identity)
        self.chain.append(identity)
        try:
            draft, problems = read(text, path, self)
        finally:
            self.chain.pop()
        return draft, _reported_twice(problems, path, written, where)


def _missing(path: str) -> str:
    """Why *path* is no file to read: absent, or a folder, device or pipe (never opened: it could block)."""
    if os.path.exists(path):
        return "it is not a regular file"
    return f"no such file in {os.path.dirname(path) or '.'}"


def _identity(path: str) -> str:
    """One name per file, however it is reached (symbolic links, ``a/../b``)."""
    return os.path.realpath(path)


def _reported_twice(problems: list[Problem], path: str, written: str, where: Where) -> list[Problem]:
    """Each problem of the included file at the include line too; deeper files' problems as they are."""
    problems = sorted(problems, key=lambda p: (p.where.file != path, p.where.line, p.where.col))
    at_include = [
        Relayed(where, f"in included file '{written}' (line {p.where.line}, col {p.where.col}): {p.message}")
        for p in problems
        if p.where.file == path
    ]
    return at_include + problems
