"""Result rows, and their two outputs: a Markdown table (stdout) and JSON (``--json FILE``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its baseline, their ratio, the target and whether it is met.

    ``met`` is ``None`` for rows that only inform (no target of their own).
    """

    name: str
    figure: float
    unit: str
    baseline: float
    ratio: float
    target: str
    met: bool | None
    details: str = ""

    def as_json(self) -> dict[str, Any]:
        """The row as a JSON object; NaN (not measured) becomes null."""
        return {
            "name": self.name,
            "figure": _finite(self.figure),
            "unit": self.unit,
            "baseline": _finite(self.baseline),
            "ratio": _finite(self.ratio),
            "target": self.target,
            "met": self.met,
            "details": self.details,
        }


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def number(value: float) -> str:
    """A figure for the table: 3 significant digits, thousands separated, '-' when not measured."""
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def markdown(rows: Sequence[Row]) -> str:
    """The Markdown table of *rows*."""
    head = "| Scenario | Figure | Baseline | Ratio | Target | Met | Details |"
    rule = "| --- | ---: | ---: | ---: | --- | :---: | --- |"
    lines = [head, rule]
    for row in rows:
        met = "-" if row.met is None else ("yes" if row.met else "**no**")
        ratio = "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}x"
        lines.append(
            f"| {row.name} | {number(row.figure)} {row.unit} | {number(row.baseline)} {row.unit} "
            f"| {ratio} | {row.target} | {met} | {row.details} |"
        )
    return "\n".join(lines)


def write_json(rows: Sequence[Row], path: Path) -> None:
    """Write one JSON object per row, as a JSON array, to *path*."""
    path.write_text(json.dumps([row.as_json() for row in rows], indent=2) + "\n", encoding="utf-8")
