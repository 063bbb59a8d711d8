"""Property-based tests of dialogue coverage's data files (bots/coverage/data.py): what is written reads
back the same, and any file given by mistake is read or refused in one line naming it, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.coverage import data

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

# Each example writes and reads a file: fewer than the profile's 10,000.
FEW = settings(
    max_examples=min(2_000, settings().max_examples),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
entries = st.builds(
    data.DialogueData,
    st.dictionaries(keys, st.text(alphabet="0123456789abcdef", max_size=8), max_size=3),
    st.integers(0, 10**6),
    st.lists(keys, max_size=5),
)


@FEW
@given(st.dictionaries(keys, entries, max_size=4))
def test_what_is_written_reads_back_the_same(tmp_path: Path, dialogues: dict[str, data.DialogueData]) -> None:
    written = data.CoverageData()
    for path, entry in dialogues.items():
        written.merge(path, entry)
    data.write(str(tmp_path / "cov"), written)
    back = data.read(str(tmp_path / "cov"))
    assert {k: (d.files, d.chats, d.used) for k, d in back.dialogues.items()} == {
        k: (d.files, d.chats, d.used) for k, d in dialogues.items()
    }


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=12,
)


@FEW
@given(
    st.one_of(
        st.binary(max_size=200),
        documents.map(lambda doc: json.dumps({"chat-bot coverage": 1, "dialogues": doc}).encode()),
        documents.map(
            lambda doc: json.dumps({"chat-bot coverage": 1, "dialogues": {"/d.yaml": doc}}).encode()
        ),
    )
)
def test_any_file_is_read_as_data_or_refused_in_one_line_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cov"
    path.write_bytes(content)
    try:
        data.read(str(path))
    except data.CoverageDataError as exc:
        message = str(exc)
    else:
        return
    assert message.startswith(str(path))
    assert "\n" not in message
