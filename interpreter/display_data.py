"""What a value looks like to a front end that can show more than text: a MIME bundle.

Every value has its text/plain form, the text the REPL prints.  A picture adds its SVG; a
matrix (a list or vector of rows of numbers, all of one length: a Hessian, a Jacobian) adds an
HTML table.  The kernel sends the bundle as Jupyter display data; the front end picks the
richest form it can show.
"""

from __future__ import annotations

from html import escape

from ..ad.tags import is_number
from ..lang.datum import Nil, Pair
from ..lang.printer import write_string
from .pictures import Picture

LARGEST_TABLE = 60      # rows or columns; a bigger matrix is clearer as text than as a table


NOTEBOOK_WIDTH = 80     # the REPL's width where it is not a terminal; a notebook shows the same


def value_text(value) -> str:
    """The text the REPL shows for ``value``, pretty-printed as it does: the one place the
    kernel's text/plain comes from."""
    from ..lang.pretty import pretty_string
    return pretty_string(value, NOTEBOOK_WIDTH)


def display_data(value) -> dict:
    if value.__class__ is Picture:
        return {"text/plain": value.scheme_repr(True), "image/svg+xml": value.svg}
    bundle = {"text/plain": value_text(value)}
    rows = matrix_rows(value)
    if rows is not None:
        bundle["text/html"] = matrix_html(rows)
    return bundle


def _items(x) -> list | None:
    if x.__class__ is list:
        return x
    if x.__class__ is Pair:
        items = []
        while x.__class__ is Pair:
            items.append(x.car)
            if len(items) > LARGEST_TABLE:
                return None
            x = x.cdr
        return items if x is Nil else None
    return None


def matrix_rows(value) -> list[list] | None:
    """The rows of ``value`` when it is a matrix of numbers, else None."""
    rows = _items(value)
    if not rows or len(rows) > LARGEST_TABLE:
        return None
    table = []
    for row in rows:
        cells = _items(row)
        if not cells or len(cells) > LARGEST_TABLE or not all(is_number(c) for c in cells):
            return None
        table.append(cells)
    if any(len(row) != len(table[0]) for row in table):
        return None
    return table


def matrix_html(rows) -> str:
    body = "".join("<tr>" + "".join(f'<td style="text-align:right">{escape(write_string(c))}</td>'
                                    for c in row) + "</tr>" for row in rows)
    caption = f"<caption>{len(rows)} × {len(rows[0])}</caption>"
    return f'<table class="nablisp-matrix">{caption}{body}</table>'
