"""Coverage data files: one per process, written whole, combined when reported (coverage.py's parallel mode).

``--coverage DATAFILE`` never appends to a shared file: each process writes its own
``DATAFILE.<host>.<pid>.<random>``, once, through a temporary file renamed into place,
so any number of processes (pytest-xdist workers, a server per test, several machines
sharing a folder) record at once without a lock and without ever leaving half a file.
The report reads DATAFILE itself when it exists and every such part beside it, and
combines them: the union of what was used, the sum of the chats.

The file is JSON::

    {"chat-bot coverage": 1,
     "dialogues": {"/real/path/d.yaml": {"chats": 3,
                                          "files": {"/real/path/d.yaml": "<sha256 of the file>"},
                                          "used": ["rule /real/path/d.yaml:22:5", ...]}}}

``files`` holds the digest of each file of the dialogue (its includes too) as it was when
the chats ran: the report warns when a file changed since, because the places it names
may then point elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import tempfile
from collections.abc import Iterable

from chat.display import quoted
from chat.errors import ChatError
from chat.status import ExitStatus

FORMAT_KEY = "chat-bot coverage"
FORMAT_VERSION = 1
#: The name of one process's part beside DATAFILE: host, process id, random (as coverage.py names them).
PART = re.compile(r"\.[A-Za-z0-9_-]+\.\d+\.[0-9a-f]{6}")
RANDOM_BYTES = 3  # six hex digits: two processes of one host and pid (pid reuse) never share a name
MAX_DATA_BYTES = 64 << 20  # a data file lists keys of at most 20,000 alternatives per dialogue:
# a few MB at most; the bound keeps a wrong file given by mistake (a disk image) from filling memory


class CoverageDataError(ChatError):
    """A data file that cannot be read or written, or no data where the command line says."""

    status = ExitStatus.USAGE


class DialogueData:
    """What the chats on one dialogue used, in one process or combined."""

    __slots__ = ("chats", "files", "used")

    def __init__(self, files: dict[str, str], chats: int = 0, used: Iterable[str] = ()) -> None:
        #: Each file of the dialogue (real path) and its digest when the chats ran.
        self.files = files
        #: Conversations that ran on it.
        self.chats = chats
        #: Keys of the items used (bots.coverage.items).
        self.used = set(used)


class CoverageData:
    """Dialogues by the real path of their file."""

    __slots__ = ("changed", "dialogues")

    def __init__(self) -> None:
        self.dialogues: dict[str, DialogueData] = {}
        #: Files whose digest differs between parts: the dialogue changed between runs.
        self.changed: set[str] = set()

    def merge(self, path: str, other: DialogueData) -> None:
        """Add what *other* recorded for the dialogue at *path*."""
        mine = self.dialogues.get(path)
        if mine is None:
            self.dialogues[path] = DialogueData(dict(other.files), other.chats, other.used)
            return
        for file, digest in other.files.items():
            if mine.files.setdefault(file, digest) != digest:
                self.changed.add(file)
        mine.chats += other.chats
        mine.used |= other.used

    def to_json(self) -> str:
        dialogues = {
            path: {"chats": d.chats, "files": d.files, "used": sorted(d.used)}
            for path, d in sorted(self.dialogues.items())
        }
        return json.dumps({FORMAT_KEY: FORMAT_VERSION, "dialogues": dialogues}, indent=1, ensure_ascii=False)


def digest(path: str) -> str:
    """The SHA-256 of a file's bytes ("" when it cannot be read: the report says so)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return ""


def part_name(datafile: str) -> str:
    """This process's own data file beside *datafile*: ``DATAFILE.<host>.<pid>.<random>``."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()) or "host"
    return f"{datafile}.{host}.{os.getpid()}.{secrets.token_hex(RANDOM_BYTES)}"


def check_writable(datafile: str) -> None:
    """Refuse at start a DATAFILE whose folder is missing, rather than lose the data at the end."""
    folder = os.path.dirname(os.path.abspath(datafile))
    if not os.path.isdir(folder):
        raise CoverageDataError(f"--coverage {datafile}: the folder {folder} does not exist: create it first")
    if os.path.isdir(datafile):
        raise CoverageDataError(
            f"--coverage {datafile}: that is a folder: name a file (its parts go beside it)"
        )


def write(path: str, data: CoverageData) -> None:
    """Write *data* to *path* whole: a temporary file in the same folder, renamed into place."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".chat-coverage-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data.to_json())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise CoverageDataError(f"cannot write coverage data to {path}: {exc.strerror or exc}") from None


def read(path: str) -> CoverageData:
    """One data file; a :class:`CoverageDataError` naming the file and what is wrong with it."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_DATA_BYTES + 1)
    except OSError as exc:
        raise CoverageDataError(f"cannot read coverage data {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_DATA_BYTES:
        raise CoverageDataError(f"{path}: over {MAX_DATA_BYTES >> 20} MiB: not a chat-bot coverage data file")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CoverageDataError(f"{path}: not a chat-bot coverage data file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get(FORMAT_KEY) != FORMAT_VERSION:
        raise CoverageDataError(
            f"{path}: not a chat-bot coverage data file of version {FORMAT_VERSION}: "
            f"write it with chat-bot --coverage {path}"
        )
    data = CoverageData()
    dialogues = document.get("dialogues")
    if not isinstance(dialogues, dict):
        raise CoverageDataError(f"{path}: 'dialogues' is not a mapping: the file is damaged")
    for name, entry in dialogues.items():
        data.merge(name, _dialogue(path, name, entry))
    return data


def _dialogue(path: str, name: str, entry: object) -> DialogueData:
    damaged = CoverageDataError(f"{path}: the entry of {quoted(name)} is damaged: write the data again")
    if not isinstance(entry, dict):
        raise damaged
    files, chats, used = entry.get("files"), entry.get("chats"), entry.get("used")
    if not (
        isinstance(files, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        and isinstance(chats, int)
        and not isinstance(chats, bool)
        and chats >= 0
        and isinstance(used, list)
        and all(isinstance(k, str) for k in used)
    ):
        raise damaged
    return DialogueData(dict(files), chats, used)


def find(datafile: str) -> list[str]:
    """DATAFILE itself when it is a file, and every process's part beside it, sorted."""
    folder = os.path.dirname(datafile) or "."
    base = os.path.basename(datafile)
    found = [datafile] if os.path.isfile(datafile) else []
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    found.extend(
        os.path.join(os.path.dirname(datafile), name)
        for name in sorted(names)
        if name.startswith(base + ".") and PART.fullmatch(name[len(base) :])
    )
    return found


def combine(datafiles: Iterable[str]) -> tuple[CoverageData, list[str]]:
    """Every data file of each DATAFILE named, combined; and the files read."""
    combined = CoverageData()
    read_files: list[str] = []
    for datafile in datafiles:
        if os.path.isdir(datafile):
            raise CoverageDataError(
                f"{datafile} is a folder: name the data file given to --coverage (its parts are read with it)"
            )
        parts = find(datafile)
        if not parts:
            raise CoverageDataError(
                f"no coverage data at {datafile} (nor {datafile}.*): "
                f"run chat-bot with --coverage {datafile} first"
            )
        for part in parts:
            data = read(part)
            for name, entry in data.dialogues.items():
                combined.merge(name, entry)
            combined.changed |= data.changed
            read_files.append(part)
    return combined, read_files


__all__ = [
    "CoverageData",
    "CoverageDataError",
    "DialogueData",
    "check_writable",
    "combine",
    "digest",
    "find",
    "part_name",
    "read",
    "write",
]
