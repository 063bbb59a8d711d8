"""``python -m bench``: run the benchmark and print a Markdown table."""

from bench.cli import run

run()
