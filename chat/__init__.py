"""chat: the classic two-person terminal chat over TCP, on a robust line protocol.

The foundation every program of the distribution shares:

* :mod:`chat.protocol`: the sans-IO codec (bytes in, events out, bytes to send back);
* :mod:`chat.errors` and :mod:`chat.status`: the few error classes and the one exit-status enum;
* :mod:`chat.program`: the programs' edge (shared options; errors become one line and a status);
* :mod:`chat.net`, :mod:`chat.display`, :mod:`chat.value`: addresses and socket errors, safe display, records.

:mod:`chat.classic` holds the classic programs, chat-server and chat-client.
"""

__version__ = "1.0.0"

__all__ = ["__version__"]
