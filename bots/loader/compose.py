"""Safe YAML composition: a dialogue file becomes a tree of nodes, never Python objects.

The document is *composed* into nodes by PyYAML's composer (events from LibYAML when
available), with aliases refused and nesting bounded; no constructor runs, so no
object is ever built from a tag. Every node keeps its position for problem reports.
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer
from yaml.nodes import Node
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from bots.loader.problems import DialogueError, Problem
from bots.model import Where

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from typing import Any

MAX_NESTING = 32  # the format nests five levels deep; deeper is an attack on the composer


class _SafeComposer(Composer):
    """PyYAML's composer, refusing aliases and limiting depth (its recursion is unbounded)."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        events: Any = self  # the parser half of the loader class provides the event methods
        if events.check_event(yaml.AliasEvent):
            event = events.peek_event()
            raise _Refused(
                event.start_mark,
                f"YAML alias *{event.anchor} is not allowed in a dialogue file: "
                "write the value out where it is needed",
            )
        self._depth: int = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_NESTING:
                raise _Refused(events.peek_event().start_mark, f"nested more than {MAX_NESTING} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _NodeLoader(Reader, Scanner, Parser, _SafeComposer, Resolver):
    """Reads YAML up to nodes only: no constructor, so no object is ever built."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _SafeComposer.__init__(self)
        Resolver.__init__(self)


try:  # LibYAML's C parser makes events ~10x faster; our composer still builds the nodes
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]

    class _FastNodeLoader(_SafeComposer, _CParser, Resolver):
        """As _NodeLoader, with the scanning and parsing done by LibYAML."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _SafeComposer.__init__(self)
            Resolver.__init__(self)

    _LOADER: type[_NodeLoader] | type[_FastNodeLoader] = _FastNodeLoader
except ImportError:  # pragma: no cover - PyYAML built without LibYAML
    _LOADER = _NodeLoader


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _mark_where(path: str, mark: Any) -> Where:
    if mark is None:
        return Where(path, 1, 1)
    return Where(path, int(mark.line) + 1, int(mark.column) + 1)


def compose(text: str, path: str) -> Node | None:
    loader = _LOADER(text)
    try:
        return loader.get_single_node()
    except _Refused as exc:
        raise DialogueError([Problem(_mark_where(path, exc.mark), exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark is not None and exc.problem:
            what += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise DialogueError([Problem(_mark_where(path, mark), f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:  # ReaderError: a control character in the text
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = getattr(exc, "reason", "unreadable")
        raise DialogueError(
            [Problem(Where(path, line, col), f"YAML cannot contain this character: {reason}")]
        ) from None
    finally:
        loader.dispose()
