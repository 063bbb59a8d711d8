"""The HTML report (``--coverage-report ... --html DIR``): each dialogue file's YAML, its items marked.

``DIR/index.html`` lists the dialogues with their figures; each file of them (an included
file too) gets a page showing its YAML line by line, every line of an item coloured by
what the chats did with it: used (green), partly used (yellow: a rule that answered, but
some of its alternatives, its redirect or its remembered reply never did), never used
(red). The innermost item decides a line's colour (a topic's rules over the topic), and
the first line of an item not fully used says what was missed, in a column before the YAML.
One self-contained page per file: no script, no style sheet to fetch.
"""

from __future__ import annotations

import html
import os
import re

import yaml

from bots.coverage import items
from bots.coverage.report import Report, percent, shown_path, shown_percent

USED = "used"
PARTIAL = "partial"
UNUSED = "unused"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; }
h1 { font-size: 1.3em; }
table.source { border-collapse: collapse; font-family: ui-monospace, monospace; font-size: 13px; }
table.source td { padding: 0 0.6em; vertical-align: top; white-space: pre; }
td.n { color: #777; text-align: right; user-select: none; }
table.source td.note { font: 12px system-ui, sans-serif; white-space: normal; width: 19em; min-width: 19em; }
tr.used td.src { background: #d7f5d7; }
tr.partial td.src { background: #fdf2c4; }
tr.unused td.src { background: #fbd3d3; }
tr.unused td.note { color: #a40000; }
tr.partial td.note { color: #7a5b00; }
span.key { display: inline-block; padding: 0 0.5em; margin-right: 0.5em; }
table.summary { border-collapse: collapse; }
table.summary td, table.summary th { padding: 0.2em 0.8em; text-align: right; }
table.summary td:first-child, table.summary th:first-child { text-align: left; }
"""


def spans(text: str) -> dict[tuple[int, int], tuple[int, int]]:
    """Every node's first and last line (1-based), by the line and column (1-based) where it starts.

    A mapping key maps to the lines of the key and its value. A block node's end mark is
    where the next one starts: its last line is the one before, blank and comment lines
    at its end left out.
    """
    lines = text.splitlines()
    found: dict[tuple[int, int], tuple[int, int]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return found

    def last_line(node: yaml.Node) -> int:
        end = node.end_mark
        line = end.line + 1
        if end.line >= len(lines) or not lines[end.line][: end.column].strip():
            line -= 1  # the end mark is where the next node starts, at the head of its line
        start = node.start_mark.line + 1
        while line > start and (not lines[line - 1].strip() or lines[line - 1].lstrip().startswith("#")):
            line -= 1
        return max(line, start)

    def walk(node: yaml.Node) -> None:
        start = (node.start_mark.line + 1, node.start_mark.column + 1)
        found.setdefault(start, (start[0], last_line(node)))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                place = (key.start_mark.line + 1, key.start_mark.column + 1)
                # A block mapping starts where its first key does: the mapping's span wins there.
                found.setdefault(place, (place[0], last_line(value)))
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for child in node.value:
                walk(child)

    if root is not None:
        walk(root)
    return found


def _status(item: items.Item, used: set[str], children: dict[str, list[items.Item]]) -> str:
    if item.key not in used:
        return UNUSED
    if any(child.key not in used for child in children.get(item.key, ())):
        return PARTIAL
    return USED


def _note(item: items.Item, status: str, used: set[str], children: dict[str, list[items.Item]]) -> str:
    """What an item not fully used missed, as HTML: a rule's unused alternatives folded under their count."""
    if status == UNUSED:
        return "never used"
    missed = [child for child in children.get(item.key, ()) if child.key not in used]
    alternatives = [c.label.split(": ", 1)[1] for c in missed if c.kind == items.ALTERNATIVE]
    parts = []
    if alternatives:
        total = sum(c.kind == items.ALTERNATIVE for c in children[item.key])
        parts.append(
            f"<details><summary>{len(alternatives)} of {total} alternatives never used</summary>"
            f"{html.escape(', '.join(alternatives))}</details>"
        )
    parts.extend(f"its {c.kind} never used" for c in missed if c.kind != items.ALTERNATIVE)
    return "<br>".join(parts)


def file_page(path: str, file_items: list[items.Item], used: set[str], title: str) -> str:
    """The page of one dialogue file: its YAML, each item's lines marked."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        text = f"# cannot read {path}: {exc}"
    lines = text.splitlines()
    where = spans(text)
    children: dict[str, list[items.Item]] = {}
    for item in file_items:
        if item.parent is not None:
            children.setdefault(item.parent, []).append(item)
    # Per line: the innermost item over it (the shortest span), and the note of an item starting there.
    owner: dict[int, tuple[int, str]] = {}
    notes: dict[int, list[str]] = {}
    for item in file_items:
        if item.parent is not None:
            continue  # an alternative, redirect or memory shows through its rule
        first, last = where.get((item.line, item.col), (item.line, item.line))
        if item.kind == items.TOPIC:
            last = first  # the topic's name; its rules and fallback are items of their own
        status = _status(item, used, children)
        for line in range(first, last + 1):
            if line not in owner or owner[line][0] >= last - first:
                owner[line] = (last - first, status)
        if status != USED:
            notes.setdefault(first, []).append(_note(item, status, used, children))
    rows = []
    for number, source in enumerate(lines, start=1):
        status = owner.get(number, (0, "plain"))[1]
        note = "<br>".join(notes.get(number, []))
        rows.append(
            f'<tr class="{status}" id="L{number}"><td class="n">{number}</td><td class="note">{note}</td>'
            f'<td class="src">{html.escape(source) or " "}</td></tr>'
        )
    count = sum(1 for item in file_items if item.key in used)
    figures = f"{count} of {len(file_items)} items used, {shown_percent(percent(count, len(file_items)))}"
    legend = (
        '<p><span class="key" style="background:#d7f5d7">used</span>'
        '<span class="key" style="background:#fdf2c4">partly used</span>'
        '<span class="key" style="background:#fbd3d3">never used</span></p>'
    )
    return _page(
        title,
        f'<h1>{html.escape(title)}</h1><p>{figures} &middot; <a href="index.html">all files</a></p>{legend}'
        f'<table class="source">{"".join(rows)}</table>',
    )


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def page_name(path: str) -> str:
    """The page of a dialogue file: its shown path with every other character made safe."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", shown_path(path)) + ".html"


def write(report: Report, folder: str) -> list[str]:
    """Write the index and one page per dialogue file into *folder* (made if missing); the pages' paths."""
    os.makedirs(folder, exist_ok=True)
    by_file: dict[str, dict[str, items.Item]] = {}
    used: set[str] = set()
    for dialogue in report.dialogues:
        used |= dialogue.used
        for item in dialogue.items:
            by_file.setdefault(item.file, {})[item.key] = item
    # One page per file; two paths that make the same name (a/b_c.yaml, a_b/c.yaml) get -2, -3...
    names: dict[str, str] = {}
    taken = {"index.html"}
    for file in sorted(by_file):
        name = stem = page_name(file).removesuffix(".html")
        count = 1
        while f"{name}.html" in taken:
            count += 1
            name = f"{stem}-{count}"
        names[file] = f"{name}.html"
        taken.add(names[file])
    written = []
    for file, keyed in sorted(by_file.items()):
        page = os.path.join(folder, names[file])
        with open(page, "w", encoding="utf-8") as handle:
            handle.write(file_page(file, list(keyed.values()), used, shown_path(file)))
        written.append(page)
    rows = []
    for file, keyed in sorted(by_file.items()):
        count = sum(1 for key in keyed if key in used)
        rows.append(
            f'<tr><td><a href="{names[file]}">{html.escape(shown_path(file))}</a></td>'
            f"<td>{count}</td><td>{len(keyed)}</td><td>{shown_percent(percent(count, len(keyed)))}</td></tr>"
        )
    total_used, total = report.total
    index = _page(
        "Dialogue coverage",
        "<h1>Dialogue coverage</h1>"
        f"<p>{total_used} of {total} items used, {shown_percent(report.percent)}</p>"
        '<table class="summary"><tr><th>file</th><th>used</th><th>items</th><th>cover</th></tr>'
        f"{''.join(rows)}</table>",
    )
    with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(index)
    return [os.path.join(folder, "index.html"), *written]


__all__ = ["PARTIAL", "UNUSED", "USED", "file_page", "page_name", "spans", "write"]
