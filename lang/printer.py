"""Values → text, as `write` (readable back) and `display` (for people).

Printing runs on an explicit work stack, so a list nested 100,000 deep prints without Python
recursion.  Circular structure is written with datum labels (`#0=(1 . #0#)`), as R7RS asks of
`write`, so printing never hangs.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .datum import Char, MutableString, Nil, Pair, Symbol

CHAR_WRITE_NAMES = {7: "alarm", 8: "backspace", 127: "delete", 27: "escape", 10: "newline",
                    0: "null", 13: "return", 32: "space", 9: "tab"}
_STRING_WRITE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r",
                         "\a": "\\a", "\b": "\\b", "\0": "\\x0;"}
_SYMBOL_DELIMITERS = set(" \t\n\r()[]\";'`,|")


def number_to_string(value, radix: int = 10) -> str:
    if value.__class__ is float:
        if math.isnan(value):
            return "+nan.0"
        if math.isinf(value):
            return "+inf.0" if value > 0 else "-inf.0"
        text = repr(value)
        return text
    if value.__class__ is Fraction:
        return f"{_integer_to_string(value.numerator, radix)}/{_integer_to_string(value.denominator, radix)}"
    return _integer_to_string(value, radix)


def _integer_to_string(value: int, radix: int) -> str:
    if radix == 10:
        return str(value)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if value == 0:
        return "0"
    sign, value, out = ("-" if value < 0 else ""), abs(value), []
    while value:
        value, digit = divmod(value, radix)
        out.append(digits[digit])
    return sign + "".join(reversed(out))


def _write_symbol(name: str) -> str:
    from .reader import ReadError, Span, parse_atom

    needs_bars = not name or name == "." or any(c in _SYMBOL_DELIMITERS or not c.isprintable() for c in name)
    if not needs_bars:
        try:
            needs_bars = parse_atom(name, Span("", 0, 0)) is not Symbol(name)
        except ReadError:
            needs_bars = True
    if not needs_bars:
        return name
    escaped = "".join("\\|" if c == "|" else "\\\\" if c == "\\" else
                      c if c.isprintable() else f"\\x{ord(c):x};" for c in name)
    return f"|{escaped}|"


def _write_string(text: str) -> str:
    return '"' + "".join(_STRING_WRITE_ESCAPES.get(c, c) if c in _STRING_WRITE_ESCAPES or c.isprintable()
                         else f"\\x{ord(c):x};" for c in text) + '"'


def _write_char(char: Char) -> str:
    code = char.code
    if code in CHAR_WRITE_NAMES:
        return "#\\" + CHAR_WRITE_NAMES[code]
    text = chr(code)
    return "#\\" + text if text.isprintable() else f"#\\x{code:x}"


def atom_to_string(value, write: bool) -> str:
    """The text of a value that holds no other values."""
    cls = value.__class__
    if cls is bool:
        return "#t" if value else "#f"
    if cls in (int, float, Fraction):
        return number_to_string(value)
    if cls is str:
        return _write_string(value) if write else value
    if cls is MutableString:
        return _write_string(str(value)) if write else str(value)
    if cls is Symbol:
        return _write_symbol(value.name) if write else value.name
    if cls is Char:
        return _write_char(value) if write else chr(value.code)
    if value is Nil:
        return "()"
    if cls is bytearray:
        return "#u8(" + " ".join(map(str, value)) + ")"
    if value is None:
        return "#<unspecified>"
    custom = getattr(value, "scheme_repr", None)
    if custom is not None:
        return custom(write)
    if callable(value):
        name = getattr(value, "__name__", None) or "anonymous"
        # compiled procedures are named `name λN` to keep Python's names unique
        return f"#<procedure {re.sub(r' λ[0-9]+$', '', name)}>"
    return f"#<{type(value).__name__}>"


def _children(value):
    return (value.car, value.cdr) if value.__class__ is Pair else value


def _cyclic_nodes(root) -> set[int]:
    """ids of the containers that lie on a cycle (each needs a datum label)."""
    if root.__class__ is not Pair and root.__class__ is not list:
        return set()
    on_path: set[int] = set()
    finished: set[int] = set()
    labelled: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            finished.add(key)
            continue
        if key in finished:
            continue
        if key in on_path:
            labelled.add(key)
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if child.__class__ is Pair or child.__class__ is list:
                ckey = id(child)
                if ckey in on_path:
                    labelled.add(ckey)
                elif ckey not in finished:
                    stack.append((child, False))
    return labelled


def to_string(value, write: bool = True) -> str:
    labelled = _cyclic_nodes(value)
    labels: dict[int, int] = {}
    out: list[str] = []
    stack: list = [value]
    text_marker = _Text
    while stack:
        item = stack.pop()
        if item.__class__ is text_marker:
            out.append(item.text)
            continue
        cls = item.__class__
        if cls is not Pair and cls is not list:
            out.append(atom_to_string(item, write))
            continue
        key = id(item)
        if key in labelled:
            if key in labels:
                out.append(f"#{labels[key]}#")
                continue
            labels[key] = len(labels)
            out.append(f"#{labels[key]}=")
        if cls is list:
            out.append("#(")
            pending = [_Text(")")]
            for index in range(len(item) - 1, -1, -1):
                pending.append(item[index])
                if index:
                    pending.append(_SPACE)
            stack.extend(pending)
        else:
            out.append("(")
            elements = [item.car]
            node = item.cdr
            while node.__class__ is Pair and id(node) not in labelled:
                elements.append(node.car)
                node = node.cdr
            pending = [_Text(")")]
            if node is not Nil:
                pending.append(node)
                pending.append(_Text(" . "))
            for index in range(len(elements) - 1, -1, -1):
                pending.append(elements[index])
                if index:
                    pending.append(_SPACE)
            stack.extend(pending)
    return "".join(out)


class _Text:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_SPACE = _Text(" ")


def write_string(value) -> str:
    return to_string(value, write=True)


def display_string(value) -> str:
    return to_string(value, write=False)
