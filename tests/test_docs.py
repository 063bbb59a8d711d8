"""The docs agree with the code and with themselves: the exit status table, the MkDocs nav, the README.

`mkdocs build --strict` (tox -e docs) catches broken links inside docs/; these tests catch what it
cannot: a status added to chat.status but not to the docs, a page left out of the nav (MkDocs only
warns about it), and a README that outgrew its role as the front door or lost its set-up commands.
They need no tool but PyYAML, so they run with the unit tests everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from chat.status import MEANINGS, ExitStatus

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
MKDOCS_YML = REPO / "mkdocs.yml"
README = REPO / "README.md"
EXIT_STATUS_PAGE = DOCS / "exit-status.md"

#: The README is the front door; the reference lives in docs/ (issue 10: "about 250 lines at most").
README_MAX_LINES = 250
#: The two set-up commands, word for word: the README promises they work on a fresh machine.
SETUP_COMMANDS = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && chat-bot --try",
    "pip install tox && tox",
)
#: A Markdown link's target: [text](target).
LINK = re.compile(r"\]\(([^)\s]+)\)")


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The cells of each body row of the first table whose header row starts with ``header``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:  # skip the header and its --- separator
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def nav_pages(nav: object) -> list[str]:
    """Every page file named anywhere in an mkdocs nav (sections nest)."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return []


def heading_anchors(page: Path) -> set[str]:
    """The anchors MkDocs makes for a page's headings: lower case, punctuation dropped, blanks to dashes."""
    anchors = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


def mkdocs_nav() -> list[str]:
    config = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    return nav_pages(config["nav"])


def test_the_exit_status_table_lists_exactly_the_statuses_of_chat_status() -> None:
    rows = table_rows(EXIT_STATUS_PAGE.read_text(encoding="utf-8"), "| status | name | meaning |")
    documented = [(int(status), name.strip("`"), meaning) for status, name, meaning, *_ in rows]
    assert documented == [(int(status), status.name, MEANINGS[status]) for status in ExitStatus]


def test_every_exit_status_has_its_meaning_in_chat_status() -> None:
    assert set(MEANINGS) == set(ExitStatus)


def test_every_docs_page_is_in_the_mkdocs_nav() -> None:
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    assert sorted(mkdocs_nav()) == pages


def test_the_mkdocs_nav_names_each_page_once() -> None:
    nav = mkdocs_nav()
    assert len(nav) == len(set(nav))


def test_the_readme_is_a_front_door_of_at_most_250_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES


def test_the_readme_gives_the_two_setup_commands_word_for_word() -> None:
    readme = README.read_text(encoding="utf-8")
    for command in SETUP_COMMANDS:
        assert command in readme


def test_every_link_from_the_readme_into_docs_reaches_a_page_and_its_heading() -> None:
    broken = []
    for target in LINK.findall(README.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        page = REPO / path
        if not page.is_file() or (anchor and anchor not in heading_anchors(page)):
            broken.append(target)
    assert broken == []
