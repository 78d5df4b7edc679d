"""Arguments and results of derivative operators are numbers, or lists and vectors of them,
nested.  These walk such structures: along a list without recursion (lists can be long), into
elements by recursion (nesting is shallow)."""

from __future__ import annotations

from ..lang.datum import Nil, Pair, make_list


def map_structure(function, value):
    """The same structure with ``function`` applied to every leaf (anything not a pair, the
    empty list or a vector)."""
    cls = value.__class__
    if cls is Pair:
        items = []
        node = value
        while node.__class__ is Pair:
            item = node.car
            kind = item.__class__
            # a leaf, nearly always: a derivative operator's list of numbers
            items.append(map_structure(function, item) if kind is Pair or kind is list or item is Nil
                         else function(item))
            node = node.cdr
        return make_list(items, Nil if node is Nil else map_structure(function, node))
    if cls is list:
        return [map_structure(function, item) for item in value]
    if value is Nil:
        return Nil
    return function(value)


def leaves(value) -> list:
    found = []
    map_structure(found.append, value)
    return found


def is_structure(value) -> bool:
    return value.__class__ is Pair or value.__class__ is list or value is Nil
