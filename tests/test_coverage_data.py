"""bots.coverage.data: parallel data files, found beside DATAFILE and combined; a bad file is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.coverage import data


def part(folder: Path, name: str, dialogues: dict[str, data.DialogueData]) -> Path:
    written = data.CoverageData()
    for path, entry in dialogues.items():
        written.merge(path, entry)
    data.write(str(folder / name), written)
    return folder / name


def test_find_takes_datafile_and_its_parts_and_nothing_else_beside_it(tmp_path: Path) -> None:
    for name in [
        "cov",
        "cov.vm.4371.e10659",
        "cov.ci-runner-7.12.00ab9f",
        "cov.vm.4371.e1065",  # five hex digits: not a part
        "cov.vm.x.e10659",  # no pid
        "cov.html",
        "covx.vm.1.abcdef",
        ".chat-coverage-1234",
    ]:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    found = [Path(p).name for p in data.find(str(tmp_path / "cov"))]
    assert found == ["cov", "cov.ci-runner-7.12.00ab9f", "cov.vm.4371.e10659"]


def test_parts_combine_into_the_union_of_what_was_used_and_the_sum_of_the_chats(tmp_path: Path) -> None:
    one = part(
        tmp_path, "cov.a.1.000001", {"/d.yaml": data.DialogueData({"/d.yaml": "x"}, 2, ["rule 1", "rule 2"])}
    )
    two = part(
        tmp_path,
        "cov.a.2.000002",
        {
            "/d.yaml": data.DialogueData({"/d.yaml": "x"}, 1, ["rule 2", "rule 3"]),
            "/e.yaml": data.DialogueData({"/e.yaml": "y"}, 0, []),
        },
    )
    combined, read = data.combine([str(tmp_path / "cov")])
    assert read == [str(one), str(two)]
    assert sorted(combined.dialogues) == ["/d.yaml", "/e.yaml"]
    assert combined.dialogues["/d.yaml"].used == {"rule 1", "rule 2", "rule 3"}
    assert combined.dialogues["/d.yaml"].chats == 3
    assert combined.changed == set()


def test_a_file_whose_digest_differs_between_parts_is_noted_as_changed(tmp_path: Path) -> None:
    part(tmp_path, "cov.a.1.000001", {"/d.yaml": data.DialogueData({"/d.yaml": "x"}, 1, [])})
    part(tmp_path, "cov.a.2.000002", {"/d.yaml": data.DialogueData({"/d.yaml": "z"}, 1, [])})
    combined, _read = data.combine([str(tmp_path / "cov")])
    assert combined.changed == {"/d.yaml"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"not json",
            "{path}: not a chat-bot coverage data file (not JSON: Expecting value: line 1 column 1 (char 0))",
        ),
        (b"\xff\xfe", "{path}: not a chat-bot coverage data file (not JSON: "),
        (
            b'{"chat-bot coverage": 2, "dialogues": {}}',
            "{path}: not a chat-bot coverage data file of version 1: write it with chat-bot --coverage "
            "{path}",
        ),
        (
            b"[]",
            "{path}: not a chat-bot coverage data file of version 1: write it with chat-bot --coverage "
            "{path}",
        ),
        (
            b'{"chat-bot coverage": 1, "dialogues": []}',
            "{path}: 'dialogues' is not a mapping: the file is damaged",
        ),
        (
            b'{"chat-bot coverage": 1, "dialogues": {"/d.yaml": {"chats": -1, "files": {}, "used": []}}}',
            "{path}: the entry of '/d.yaml' is damaged: write the data again",
        ),
        (
            b'{"chat-bot coverage": 1, "dialogues": {"/d.yaml": {"chats": true, "files": {}, "used": []}}}',
            "{path}: the entry of '/d.yaml' is damaged: write the data again",
        ),
    ],
)
def test_a_file_that_is_not_coverage_data_is_refused_in_one_line_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "cov"
    path.write_bytes(content)
    with pytest.raises(data.CoverageDataError) as refused:
        data.read(str(path))
    assert str(refused.value).startswith(message.format(path=path))
    assert refused.value.status == 2


def test_no_data_at_all_names_the_option_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(data.CoverageDataError) as refused:
        data.combine([str(tmp_path / "cov")])
    assert str(refused.value) == (
        f"no coverage data at {tmp_path / 'cov'} (nor {tmp_path / 'cov'}.*): "
        f"run chat-bot with --coverage {tmp_path / 'cov'} first"
    )


def test_a_write_into_a_folder_that_is_gone_is_one_line_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(data.CoverageDataError) as refused:
        data.write(str(tmp_path / "gone" / "cov.a.1.000001"), data.CoverageData())
    assert str(refused.value) == (
        f"cannot write coverage data to {tmp_path / 'gone' / 'cov.a.1.000001'}: No such file or directory"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_given_as_data_is_refused_naming_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(data.CoverageDataError) as refused:
        data.combine([str(tmp_path)])
    assert str(refused.value) == (
        f"{tmp_path} is a folder: name the data file given to --coverage (its parts are read with it)"
    )
