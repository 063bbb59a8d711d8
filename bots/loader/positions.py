"""Where a character of a scalar's value is in the file: columns inside quoted and block text.

A problem inside a text (a regex's unclosed ``(``, a condition's stray ``=``, a bad
brace) points at its character, as an editor counts: ``when: "name != '' and score =
1"`` is reported at the ``=``, not at the opening quote. YAML writes a value in five
styles, and the value is not the text as written: quotes enclose it, ``''`` is one
quote in single quotes, escapes (``\\t``, ``\\u00e9``, ``\\`` at a line's end) are one
character or none in double quotes, and line breaks fold into blanks in every style
but a literal block. :func:`value_places` decodes the written text the way YAML does,
keeping for each character of the value the place it was written at; the decoding is
checked against the value the YAML parser read, and where they differ (a construct
this module does not follow) no place is given, so a problem then points at the
start of the scalar, never at a wrong column.
"""

from __future__ import annotations

from yaml.nodes import ScalarNode

#: One character of a value and the index in the source where it was written.
Place = tuple[str, int]

_BLANKS = " \t"
#: Double-quoted escapes of one character (YAML 1.1 and 1.2), by the letter after the backslash.
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def value_places(source: str, node: ScalarNode) -> list[int] | None:
    """For each character of *node*'s value, and for its end, its index in *source*; None if unsure."""
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    if not 0 <= start <= end <= len(source):
        return None
    raw = source[start:end]
    style = node.style
    if style == '"':
        places = _flow(_double_quoted(raw, start))
    elif style == "'":
        places = _flow(_single_quoted(raw, start))
    elif style in ("|", ">"):
        places = _block(raw, start, folded=style == ">")
    else:
        places = _flow([(char, start + i, True) for i, char in enumerate(raw)])
    if places is None or "".join(char for char, _ in places) != node.value:
        return None
    after = end - 1 if style in ('"', "'") else end  # the closing quote, or just past the text
    return [index for _, index in places] + [places[-1][1] + 1 if places and style in "|>" else after]


def line_col(source: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of *source*'s character at *index*, as the YAML parser counts."""
    line_start = max(source.rfind("\n", 0, index), source.rfind("\r", 0, index)) + 1
    line = source.count("\n", 0, index) + source.count("\r", 0, index) - source.count("\r\n", 0, index) + 1
    return line, index - line_start + 1


def _single_quoted(raw: str, start: int) -> list[tuple[str, int, bool]] | None:
    """The characters between single quotes (``''`` is one quote); flags: may fold."""
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
        return None
    out: list[tuple[str, int, bool]] = []
    at = 1
    while at < len(raw) - 1:
        char = raw[at]
        if char == "'":  # '' : one quote, written at the first of the two
            out.append(("'", start + at, False))
            at += 2
            continue
        out.append((char, start + at, True))
        at += 1
    return out


def _double_quoted(raw: str, start: int) -> list[tuple[str, int, bool]] | None:
    """The characters between double quotes, escapes decoded (flags: may fold)."""
    if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
        return None
    out: list[tuple[str, int, bool]] = []
    at = 1
    stop = len(raw) - 1
    while at < stop:
        char = raw[at]
        if char != "\\":
            out.append((char, start + at, True))
            at += 1
            continue
        letter = raw[at + 1] if at + 1 < stop else ""
        if letter in _ESCAPES:
            out.append((_ESCAPES[letter], start + at, False))
            at += 2
        elif letter in _HEX_ESCAPES:
            digits = raw[at + 2 : at + 2 + _HEX_ESCAPES[letter]]
            try:
                out.append((chr(int(digits, 16)), start + at, False))
            except ValueError:
                return None
            at += 2 + len(digits)
        elif letter in "\r\n":
            # An escaped line break joins the lines with nothing between them: the blanks before
            # the backslash stay, the break and the next line's indentation go.
            at += 2 if raw[at + 1 : at + 3] != "\r\n" else 3
            while at < stop and raw[at] in _BLANKS:
                at += 1
        else:
            return None
    return out


def _flow(chars: list[tuple[str, int, bool]] | None) -> list[Place] | None:
    """Fold line breaks as YAML does in plain and quoted scalars (*chars* flagged: written, may fold).

    Blanks around a break go; one break is a space, n breaks in a row are n - 1 line feeds.
    """
    if chars is None:
        return None
    lines: list[list[tuple[str, int, bool]]] = [[]]
    breaks: list[int] = []
    after_cr = False
    for char, index, plain in chars:
        if plain and char in "\r\n":
            if char == "\n" and after_cr:  # \r\n: one break
                after_cr = False
                continue
            after_cr = char == "\r"
            lines.append([])
            breaks.append(index)
            continue
        after_cr = False
        lines[-1].append((char, index, plain))
    if len(lines) == 1:
        return [(char, index) for char, index, _ in lines[0]]
    out: list[Place] = []
    empties = 0
    for number, line in enumerate(lines):
        first, last = number == 0, number == len(lines) - 1
        begin, end = 0, len(line)
        if not first:
            while begin < end and line[begin][2] and line[begin][0] in _BLANKS:
                begin += 1
        if not last:
            while end > begin and line[end - 1][2] and line[end - 1][0] in _BLANKS:
                end -= 1
        kept = line[begin:end]
        if not first and not last and not kept:
            empties += 1
            continue
        if not first:
            if empties:
                out.extend(("\n", breaks[number - 1 - empties + n]) for n in range(empties))
            else:
                out.append((" ", breaks[number - 1]))
            empties = 0
        out.extend((char, index) for char, index, _ in kept)
    return out


def _block(raw: str, start: int, *, folded: bool) -> list[Place] | None:
    """A literal (``|``) or folded (``>``) block's lines, indentation removed, chomped as its header says."""
    header_end = raw.find("\n")
    if header_end < 0:
        return None
    header = raw[:header_end].split("#", 1)[0].strip()
    indicators = header[1:]
    chomp = "+" if "+" in indicators else "-" if "-" in indicators else ""
    digits = "".join(c for c in indicators if c.isdigit())
    body_start = header_end + 1
    lines: list[tuple[int, str]] = []  # (index in raw where the line starts, the line)
    at = body_start
    while at < len(raw):
        stop = raw.find("\n", at)
        stop = len(raw) if stop < 0 else stop
        lines.append((at, raw[at:stop].rstrip("\r")))
        at = stop + 1
    if digits:
        indent = int(digits)
    else:
        filled = [line for _, line in lines if line.strip()]
        if not filled:
            return None
        indent = len(filled[0]) - len(filled[0].lstrip(" "))
    while lines and not lines[-1][1].strip() and len(lines[-1][1]) < indent:
        lines.pop()  # the lines after the block (the next key's indentation) are not in it
    out: list[Place] = []
    content = [(begin + indent, line[indent:]) for begin, line in lines]
    previous_plain = False
    for number, (begin, text) in enumerate(content):
        if number:
            line_feed = begin - indent - 1
            plain = bool(text) and text[0] not in _BLANKS
            if folded and previous_plain and plain and content[number - 1][1]:
                out.append((" ", start + line_feed))
            else:
                out.append(("\n", start + line_feed))
        out.extend((char, start + begin + i) for i, char in enumerate(text))
        previous_plain = bool(text) and text[0] not in _BLANKS
    if folded:
        return None if "\n\n" in "".join(c for c, _ in out) else _chomp(out, chomp, start + len(raw))
    return _chomp(out, chomp, start + len(raw))


def _chomp(places: list[Place], chomp: str, end: int) -> list[Place]:
    """Trailing line breaks as the block's header says: strip (-), clip (one), keep (+)."""
    while places and places[-1][0] == "\n" and chomp != "+":
        places.pop()
    if chomp != "-" and places:
        places.append(("\n", min(places[-1][1] + 1, end)))
    return places
