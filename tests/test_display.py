"""What the terminal shows: visible() makes a peer's controls harmless, say() flushes."""

from __future__ import annotations

import io
import sys

import pytest

from chat.classic import terminal
from chat.display import say, visible


@pytest.mark.parametrize(
    "text",
    [
        "plain text",
        "héllo, ça va? Grüße",
        "你好 世界 こんにちは 안녕하세요",
        "שלום עולם مرحبا",
        "emoji 🎉👍🏽 👩‍💻 🇫🇷",
        "",
    ],
)
def test_printable_text_is_shown_unchanged(text: str) -> None:
    assert visible(text) == text


def test_tabs_stay_tabs() -> None:
    assert visible("a\tb") == "a\tb"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", r"\x1b[2J"),  # clear screen
        ("\x1b]0;owned\x07", r"\x1b]0;owned\x07"),  # window title, bell
        ("red\x1b[31m!", r"red\x1b[31m!"),
        ("\u009b31m", r"\x9b31m"),  # C1 CSI, the one-character ESC [
        ("nul\x00", r"nul\x00"),
        ("del\x7f", r"del\x7f"),
        ("back\x08\x08xx", r"back\x08\x08xx"),
        ("line\rover", r"line\x0dover"),
        ("new\nline", r"new\x0aline"),
        ("nel\u0085", r"nel\x85"),
    ],
)
def test_control_characters_become_visible_escapes(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"])
def test_bidi_overrides_that_could_reorder_the_screen_become_visible(char: str) -> None:
    assert visible(f"abc{char}def") == f"abc\\u{ord(char):04x}def"


def test_visible_output_never_holds_a_control_character() -> None:
    every_control = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)])

    shown = visible(every_control + "\u202e")

    assert all(char == "\t" or char.isprintable() for char in shown)


def test_say_prints_one_line_and_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    class Recorder(io.StringIO):
        flushed = 0

        def flush(self) -> None:
            self.flushed += 1
            super().flush()

    out = Recorder()
    monkeypatch.setattr(sys, "stdout", out)

    say("Connected to server. Type 'exit' to quit.")

    assert out.getvalue() == "Connected to server. Type 'exit' to quit.\n"
    assert out.flushed >= 1


def test_line_editing_is_left_alone_when_stdin_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("piped\n"))
    monkeypatch.delitem(sys.modules, "readline", raising=False)

    terminal.enable_line_editing()

    assert "readline" not in sys.modules
