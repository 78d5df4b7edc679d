"""Values → text laid out for a person at a terminal: what the REPL prints (and `,pp`).

`write` stays R7RS's one line; this module only decides where that text may break.  A value
whose written form fits in the width is written as is.  Otherwise a matrix — a list of at least
two lists of numbers, all of one length — gets one row a line, its columns aligned (a Hessian
should look like one); a list of atoms is filled, as many elements a line as fit; any other list
or vector puts each element on a line of its own, under the first.

Breaking stops at a fixed depth (deeper parts are written on one line), so the layout's Python
recursion is bounded by that constant, never by the data; the length of a list is walked by a
loop.  Circular data is written with its datum labels, on one line.
"""

from __future__ import annotations

from fractions import Fraction

from .datum import Nil, Pair
from .printer import _cyclic_nodes, atom_to_string, write_string

MAX_BREAK_DEPTH = 24
_NUMBER_CLASSES = (int, float, Fraction)


def pretty_string(value, width: int = 80, matrix_rows: bool = False) -> str:
    """The written form of ``value`` laid out within ``width`` columns where it can be.  With
    ``matrix_rows`` a matrix is laid out as rows even when it would fit on one line."""
    if not _is_container(value) or _cyclic_nodes(value):
        return write_string(value)
    return "\n".join(_Layout(width, matrix_rows).lines(value, 0, 0, 0))


def _is_container(value) -> bool:
    return value.__class__ is Pair or value.__class__ is list


def _elements(value):
    """(elements, tail, opening bracket) of a list or vector; tail is Nil for a proper list."""
    if value.__class__ is list:
        return value, Nil, "#("
    items = []
    node = value
    while node.__class__ is Pair:
        items.append(node.car)
        node = node.cdr
    return items, node, "("


def matrix_rows_of(value):
    """The rows of ``value`` (lists of plain numbers) when it is a matrix, else None."""
    if value.__class__ is not Pair:
        return None
    rows, tail, _ = _elements(value)
    if tail is not Nil or len(rows) < 2:
        return None
    width = None
    result = []
    for row in rows:
        if row.__class__ is not Pair:
            return None
        cells, row_tail, _ = _elements(row)
        if row_tail is not Nil or (width is not None and len(cells) != width):
            return None
        if not all(cell.__class__ in _NUMBER_CLASSES for cell in cells):
            return None
        width = len(cells)
        result.append(cells)
    return result


def _flat_within(value, limit: int) -> str | None:
    """The one-line written form of ``value`` (known to hold no cycle) if it is at most
    ``limit`` characters long, else None — found without writing the rest of a huge value, so
    that asking at every level of a deep value whether it fits stays cheap."""
    out: list[str] = []
    length = 0
    stack = [value]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is _Mark:
            text = item.text
        elif cls is Pair or cls is list:
            if cls is Pair:
                elements = [item.car]
                node = item.cdr
                while node.__class__ is Pair:
                    elements.append(node.car)
                    node = node.cdr
                text = "("
            else:
                elements, node, text = item, Nil, "#("
            pending = [_CLOSE]
            if node is not Nil:
                pending.extend((node, _DOT))
            for index in range(len(elements) - 1, -1, -1):
                pending.append(elements[index])
                if index:
                    pending.append(_SPACE)
            stack.extend(pending)
        else:
            text = atom_to_string(item, True)
        length += len(text)
        if length > limit:
            return None
        out.append(text)
    return "".join(out)


class _Mark:
    """Text the flat writer puts between elements (told apart from a string value)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_CLOSE, _DOT, _SPACE = _Mark(")"), _Mark(" . "), _Mark(" ")


class _Layout:
    def __init__(self, width: int, matrix_rows: bool):
        self.width = width
        self.matrix_rows = matrix_rows

    def lines(self, value, column: int, closers: int, depth: int) -> list[str]:
        """The lines of ``value`` printed from ``column`` and followed by ``closers`` closing
        brackets; every line after the first starts with its indentation."""
        if not _is_container(value) or depth >= MAX_BREAK_DEPTH:
            return [write_string(value)]
        flat = _flat_within(value, self.width - column - closers)
        rows = matrix_rows_of(value) if self.matrix_rows or flat is None else None
        if rows is not None:
            return self.matrix(rows, column)
        if flat is not None:
            return [flat]
        items, tail, opening = _elements(value)
        if not items:
            return [write_string(value)]
        inner = column + len(opening)
        if tail is Nil and not any(_is_container(item) for item in items):
            return self.fill([write_string(item) for item in items], opening, inner, closers)
        lines: list[str] = []
        last = len(items) - 1
        for index, item in enumerate(items):
            end = closers + 1 if index == last and tail is Nil else 0
            item_lines = self.lines(item, inner, end, depth + 1)
            if index == 0:
                item_lines[0] = opening + item_lines[0]
            else:
                item_lines[0] = " " * inner + item_lines[0]
            lines.extend(item_lines)
        if tail is not Nil:
            lines.append(" " * inner + ". " + write_string(tail))
        lines[-1] += ")"
        return lines

    def fill(self, texts: list[str], opening: str, inner: int, closers: int) -> list[str]:
        lines = []
        current = opening + texts[0]
        current_column = inner + len(texts[0])
        last = len(texts) - 1
        for index in range(1, len(texts)):
            text = texts[index]
            end = closers + 1 if index == last else 0
            if current_column + 1 + len(text) + end <= self.width:
                current += " " + text
                current_column += 1 + len(text)
            else:
                lines.append(current)
                current = " " * inner + text
                current_column = inner + len(text)
        lines.append(current + ")")
        return lines

    @staticmethod
    def matrix(rows: list, column: int) -> list[str]:
        texts = [[write_string(cell) for cell in row] for row in rows]
        widths = [max(len(row[j]) for row in texts) for j in range(len(texts[0]))]
        lines = ["(" + " ".join(cell.rjust(w) for cell, w in zip(row, widths)) + ")" for row in texts]
        lines[0] = "(" + lines[0]
        for index in range(1, len(lines)):
            lines[index] = " " * (column + 1) + lines[index]
        lines[-1] += ")"
        return lines
