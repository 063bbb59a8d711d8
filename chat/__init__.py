"""chat: the classic two-person terminal chat over TCP, on a robust line protocol."""

__version__ = "1.0.0"
