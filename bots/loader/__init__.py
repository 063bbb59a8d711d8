"""Reading dialogue files: bytes, then YAML nodes, then the validated model, every problem with its place.

Loading never builds Python objects from YAML tags and never follows aliases
(:mod:`bots.loader.compose`); every node is checked against the format and the model
is built from the nodes directly (:mod:`bots.loader.sections` reads each top-level
section, :mod:`bots.loader.build` the parts they are made of, :mod:`bots.loader.nodes`
typed values), so every error carries the file:line:col of the node at fault. All
problems of a file are collected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from bots.loader.compose import compose
from bots.loader.problems import DialogueError, DialogueWarning, Problem, Relayed
from bots.loader.sections import FORMAT_VERSION, DialogueBuilder
from bots.model import Dialogue, Where

MAX_DIALOGUE_BYTES = 1 << 20  # a large hand-written dialogue is tens of KiB; 10,000 generated
# rules fit in well under this, and it bounds what a hostile file costs to parse


def read_dialogue_text(path: str) -> str:
    """Read a dialogue file as text, refusing oversize and non-UTF-8 files."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DIALOGUE_BYTES + 1)
    except OSError as exc:
        raise DialogueError(
            [Problem(Where(path, 1, 1), f"cannot read the dialogue file: {exc.strerror or exc}")]
        ) from None
    if len(data) > MAX_DIALOGUE_BYTES:
        raise DialogueError(
            [
                Problem(
                    Where(path, 1, 1),
                    f"file is over the {MAX_DIALOGUE_BYTES // 1024} KiB limit for dialogue files; "
                    "split it or trim it",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DialogueError(
            [Problem(Where(path, line, col), "not UTF-8 text: save the file as UTF-8")]
        ) from None


def load_dialogue(path: str | os.PathLike[str]) -> Dialogue:
    """Load and validate a dialogue file; raise :class:`DialogueError` listing every problem."""
    name = os.fspath(path)
    return parse_dialogue(read_dialogue_text(name), name)


def parse_dialogue(text: str, path: str = "<dialogue>") -> Dialogue:
    """Validate dialogue *text* (named *path* in messages) and build the model."""
    return _parse(text, path)[0]


def _parse(text: str, path: str) -> tuple[Dialogue, list[DialogueWarning]]:
    """The dialogue and its warnings (see :func:`parse_dialogue`)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_DIALOGUE_BYTES:
        raise DialogueError(
            [Problem(Where(path, 1, 1), f"dialogue is over the {MAX_DIALOGUE_BYTES // 1024} KiB limit")]
        )
    root = compose(text, path)
    builder = DialogueBuilder(path, source=text)
    dialogue = builder.build(root)
    if builder.problems or dialogue is None:
        found = _in_order(path, builder.problems)
        raise DialogueError(found or [Problem(Where(path, 1, 1), "invalid dialogue")])
    return dialogue, [DialogueWarning(w.where, w.message) for w in _in_order(path, builder.warnings)]


def _in_order(path: str, problems: Sequence[Problem]) -> list[Problem]:
    """This file's problems first, by place; then each included file's, in the order read."""
    files = list(dict.fromkeys([path, *(p.where.file for p in problems)]))
    unique = dict.fromkeys(problems)  # an included rule's example is checked twice
    return sorted(unique, key=lambda p: (files.index(p.where.file), p.where.line, p.where.col))


def check_dialogue_files(paths: Sequence[str]) -> Iterator[tuple[str, list[Problem]]]:
    """For each path, every problem found (an empty list when the file is valid).

    A valid file's warnings come as :class:`DialogueWarning` problems: they do not make it invalid.
    """
    for path in paths:
        try:
            _dialogue, warnings = _parse(read_dialogue_text(path), path)
        except DialogueError as exc:
            yield path, exc.problems
        else:
            yield path, list(warnings)


__all__ = [
    "FORMAT_VERSION",
    "MAX_DIALOGUE_BYTES",
    "DialogueError",
    "DialogueWarning",
    "Problem",
    "Relayed",
    "check_dialogue_files",
    "load_dialogue",
    "parse_dialogue",
    "read_dialogue_text",
]
