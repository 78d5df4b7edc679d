"""Values → text, as `write` (readable back) and `display` (for people).

Printing runs on an explicit work stack, so a list nested 100,000 deep prints without Python
recursion.  Circular structure is written with datum labels (`#0=(1 . #0#)`), as R7RS asks of
`write` and `display`, so printing never hangs; `write-shared` labels all shared structure and
`write-simple` none.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .datum import Char, MultipleValues, MutableString, Nil, Pair, Symbol

CHAR_WRITE_NAMES = {7: "alarm", 8: "backspace", 127: "delete", 27: "escape", 10: "newline",
                    0: "null", 13: "return", 32: "space", 9: "tab"}
_STRING_WRITE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r",
                         "\a": "\\a", "\b": "\\b", "\0": "\\x0;"}


def number_to_string(value, radix: int = 10) -> str:
    if value.__class__ is float:
        if math.isnan(value):
            return "+nan.0"
        if math.isinf(value):
            return "+inf.0" if value > 0 else "-inf.0"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # Python writes 5e-324; a Scheme decimal keeps its point (5.0e-324), as R7RS's suite asks
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
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


# A symbol is written bare when R7RS's reader would read the same text back as that symbol:
# no delimiter, bar, backslash or '#' in it, not '.', and not the start of a number (R7RS's
# numbers include `+i` and `+inf.0`, which nablisp's reader only refuses).
_BARE_SYMBOL = re.compile(r"[^\s()\[\]\";'`,|\\#]+")
_NUMBER_START = re.compile(r"[+-]?\.?[0-9]|[+-]i$|[+-](?:inf|nan)\.0", re.I)
_SYMBOL_ESCAPES = {"|": "\\|", "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                   "\r": "\\r"}


def _write_symbol(name: str) -> str:
    if (_BARE_SYMBOL.fullmatch(name) and name != "." and not _NUMBER_START.match(name)
            and name.isprintable()):
        return name
    escaped = "".join(_SYMBOL_ESCAPES.get(c) or (c if c.isprintable() or c == " " else f"\\x{ord(c):x};")
                      for c in name)
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
    if cls is MultipleValues:
        # only reaches a printer through a mistake (a single-value context given several), so
        # the text says what it is rather than pretending to be one datum
        return "#<values" + "".join(" " + to_string(item, write) for item in value) + ">"
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
    """ids of containers that close a cycle (each needs a datum label): the targets of the
    back edges of a depth-first walk.  Every cycle holds a back edge, so labelling their
    targets cuts every cycle, and the printer, which unfolds the rest, terminates."""
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


def _shared_nodes(root) -> set[int]:
    """ids of containers reached more than once: what `write-shared` labels."""
    seen: set[int] = set()
    labelled: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node.__class__ is not Pair and node.__class__ is not list:
            continue
        key = id(node)
        if key in seen:
            labelled.add(key)
            continue
        seen.add(key)
        stack.extend(_children(node))
    return labelled


class CircularDatumError(ValueError):
    """`write-simple` was asked to print circular structure, which it can print only forever."""


def to_string(value, write: bool = True, labels: str = "cycles", limit: int | None = None) -> str:
    """The text of ``value``: written (readable back) or displayed.  ``labels`` says which
    containers get datum labels: those on a cycle ("cycles", R7RS's `write` and `display`),
    every shared one ("shared", `write-shared`) or none ("none", `write-simple`, which raises
    CircularDatumError rather than print a cycle forever).  With ``limit`` the text stops after
    that many characters, ending in "..." (an error message abbreviates a huge value)."""
    if labels == "shared":
        labelled = _shared_nodes(value)
    else:
        labelled = _cyclic_nodes(value)
        if labels == "none" and labelled:
            raise CircularDatumError("the datum is circular")
    labels_given: dict[int, int] = {}
    out: list[str] = []
    stack: list = [value]
    text_marker = _Text
    checked = 0
    while stack:
        if limit is not None and len(out) > checked + 16:
            # summed every few pieces only: the text stays short, so this costs little
            checked = len(out)
            if sum(map(len, out)) > limit:
                break
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
            if key in labels_given:
                out.append(f"#{labels_given[key]}#")
                continue
            labels_given[key] = len(labels_given)
            out.append(f"#{labels_given[key]}=")
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
    text = "".join(out)
    if limit is not None and len(text) > limit:
        return text[:max(limit - 3, 0)] + "..."
    return text


class _Text:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_SPACE = _Text(" ")


def write_string(value) -> str:
    return to_string(value, write=True)


def abbreviated_write_string(value, limit: int) -> str:
    """``write`` of ``value``, cut to ``limit`` characters ending in "..." when longer."""
    return to_string(value, write=True, limit=limit)


def display_string(value) -> str:
    return to_string(value, write=False)


def write_shared_string(value) -> str:
    return to_string(value, write=True, labels="shared")


def write_simple_string(value) -> str:
    return to_string(value, write=True, labels="none")
