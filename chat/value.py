"""A base for small immutable records, cheaper to import and to build than dataclasses.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``), and
building each class with it runs generated code: together about a third of the start-up
time of ``chat-bot --check``, and part of ``chat-client --help`` through the codec's events.
These records are plain classes with ``__slots__``; the fields named in ``__match_args__``
give equality, hashing and the dataclass-style repr. They are immutable by convention:
nothing assigns to a record after building it.
"""

from __future__ import annotations


class Value:
    """Equality, hash and repr from the fields named in ``__match_args__``."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__match_args__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, Value)
            return self._fields() == other._fields()
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.__class__, self._fields()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{type(self).__name__}({shown})"
