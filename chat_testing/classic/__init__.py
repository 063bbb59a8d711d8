"""The seed's classic server.py and client.py, kept exactly (only HOST and PORT come from argv).

They are the reference peers of the classic wire style: bare messages without a
newline, one ``recv(1024)`` per turn. Run them with ``python -m chat_testing.classic.server
HOST PORT`` and ``python -m chat_testing.classic.client HOST PORT``, or through
:meth:`chat_testing.Programs.classic_server` and :meth:`~chat_testing.Programs.classic_client`.
"""

from pathlib import Path

#: The seed's server.py: ``python SERVER HOST PORT`` (port 0 picks a free one; the listening line shows it).
SERVER = Path(__file__).resolve().parent / "server.py"
#: The seed's client.py: ``python CLIENT HOST PORT``.
CLIENT = Path(__file__).resolve().parent / "client.py"
