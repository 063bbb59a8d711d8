"""``python -m bots.loader.generate``: write bots/schema.json and the reference tables of docs/dialogues.md.

Both are made from the format's table (:mod:`bots.loader.format`) and checked in;
``--check`` writes nothing and exits 1, naming the files, when either differs from what
the table makes (tests/test_loader_format.py runs the same comparison). Run it from a
checkout of the repository: the docs are not part of the installed package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bots.loader.reference import fill
from bots.loader.schema import schema_text

PACKAGE = Path(__file__).resolve().parent.parent
SCHEMA_FILE = PACKAGE / "schema.json"
DOCS_FILE = PACKAGE.parent / "docs" / "dialogues.md"


def generated() -> dict[Path, str]:
    """Each generated file and the text the format's table makes for it."""
    if not DOCS_FILE.is_file():
        raise SystemExit(f"generate: {DOCS_FILE} not found: run this from a checkout of the repository")
    return {
        SCHEMA_FILE: schema_text(),
        DOCS_FILE: fill(DOCS_FILE.read_text(encoding="utf-8")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bots.loader.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a file is out of date"
    )
    args = parser.parse_args(argv)
    stale = [path for path, text in generated().items() if path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path}: out of date: run python -m bots.loader.generate", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
