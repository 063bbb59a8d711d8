"""bots.coverage.html: each dialogue file's YAML, every item's lines marked used, partly used or unused."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from bots.coverage import html
from bots.coverage.collect import Collector
from bots.coverage.data import CoverageData, DialogueData
from bots.coverage.report import Report
from bots.engine import Conversation
from bots.model import Dialogue


def test_a_node_spans_its_lines_and_a_block_ends_before_the_next_one_its_comments_left_out() -> None:
    text = textwrap.dedent(
        """\
        rules:
          - contains: a
            reply: b
            # a comment about the next rule

          - {exact: c, reply: d}
        fallback:
          from: [x, y]
        """
    )
    found = html.spans(text)
    assert found[(2, 5)] == (2, 3)  # the first rule: its two lines, not the comment or the blank line
    assert found[(6, 5)] == (6, 6)  # a rule in flow style: one line
    assert found[(7, 1)] == (7, 8)  # a key with its value
    assert found[(8, 3)] == (8, 8)


def test_a_file_that_is_not_yaml_has_no_spans() -> None:
    assert html.spans("rules: [") == {}


def page(desk: Dialogue, tmp_path: Path, *messages: str) -> str:
    collector = Collector(str(tmp_path / "cov"))
    chat = Conversation(desk, delays=False, observer=collector.observer(desk))
    chat.start(0.0, dialling=False)
    for n, message in enumerate(messages, start=1):
        chat.receive(message, float(n))
    data = CoverageData()
    for path, entry in collector.data().dialogues.items():
        data.merge(path, entry)
    pages = html.write(Report(data, ["cov"]), str(tmp_path / "html"))
    assert Path(pages[0]).name == "index.html"
    return (tmp_path / "html" / html.page_name(desk.path)).read_text(encoding="utf-8")


def classes(text: str) -> dict[int, str]:
    return {int(n): c for c, n in re.findall(r'<tr class="(\w+)" id="L(\d+)">', text)}


def test_each_line_takes_the_mark_of_the_innermost_item_over_it(desk: Dialogue, tmp_path: Path) -> None:
    text = page(desk, tmp_path, "my mouse is broken", "hmm", "a cuppa")
    marks = classes(text)
    assert [marks[n] for n in (6, 7, 8)] == ["partial"] * 3  # rule 1: the printer never came up
    assert [marks[n] for n in (9, 10)] == ["used"] * 2  # the redirect, followed
    assert [marks[n] for n in (11, 12, 13)] == ["unused"] * 3  # rule 3 and its memory
    assert marks[15] == "used"  # the topic's own line: entered
    assert marks[16] == "plain"  # its `rules:` key is no item
    assert [marks[n] for n in (17, 18, 19)] == ["unused"] * 3
    assert marks[20] == "used"  # the topic's fallback
    assert marks[21] == "unused"  # the dialogue's fallback
    assert [marks[n] for n in (1, 2, 3, 4, 5)] == ["plain"] * 5


def test_an_item_not_fully_used_says_what_it_missed_on_its_first_line(desk: Dialogue, tmp_path: Path) -> None:
    text = page(desk, tmp_path, "my mouse is broken", "hmm", "a cuppa")
    row = re.search(r'<tr class="partial" id="L6">.*?</tr>', text)
    assert row is not None
    assert (
        '<td class="note"><details><summary>1 of 2 alternatives never used</summary>'
        "&#x27;printer is broken&#x27;</details></td>"
    ) in row.group(0)
    assert re.search(r'id="L11">.*?<td class="note">never used</td>', text)
    assert '<td class="src">    reply: off and on again</td>' in text  # the YAML, escaped, as written


def test_the_index_lists_every_file_with_its_figures(desk: Dialogue, tmp_path: Path) -> None:
    page(desk, tmp_path, "a cuppa")
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert "<p>3 of 14 items used, 21.4%</p>" in index
    assert f'<a href="{html.page_name(str(tmp_path / "common.yaml"))}">' in index
    assert "<td>1</td><td>1</td><td>100.0%</td>" in index  # common.yaml: its one rule, answering "tea"


def test_two_files_whose_names_make_one_page_name_get_a_page_each(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a_b").mkdir()
    paths = [tmp_path / "a" / "b_c.yaml", tmp_path / "a_b" / "c.yaml"]
    data = CoverageData()
    for number, path in enumerate(paths):
        path.write_text(f"version: 1\nrules:\n  - exact: hi\n    reply: hello {number}\n", encoding="utf-8")
        data.merge(str(path.resolve()), DialogueData({}, 1, []))
    pages = html.write(Report(data, ["cov"]), str(tmp_path / "html"))
    assert len(set(pages)) == 3
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    for page in pages[1:]:
        assert f'<a href="{Path(page).name}">' in index
        assert "hello" in Path(page).read_text(encoding="utf-8")
