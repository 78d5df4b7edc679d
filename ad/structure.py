"""Arguments and results of derivative operators are numbers, or lists and vectors of them,
nested.  These walk such structures in constant Python stack, whatever their length or depth,
and stop with a clear error on a cycle (a circular list, a vector that contains itself), whose
numbers would never end."""

from __future__ import annotations

from ..lang.datum import Nil, Pair, make_list
from .tags import DifferentiationError

_NO_TAIL = object()         # a list frame whose list ended in ()
_TAIL_PENDING = object()    # a list frame waiting for its improper tail (a vector) to be mapped


def circular(who: str) -> DifferentiationError:
    return DifferentiationError(f"{who}: met a circular list (or a vector inside itself), whose "
                                "numbers never end")


def map_structure(function, value, who: str = "derivative"):
    """The same structure with ``function`` applied to every leaf (anything not a pair, the
    empty list or a vector)."""
    cls = value.__class__
    if cls is not Pair and cls is not list:
        return Nil if value is Nil else function(value)
    # One frame per container being walked: [container, mapped items, cursor (the next pair of
    # a list, the next index of a vector), and for a list Brent's cycle check — the pair to meet
    # again, steps since it was set, steps before it moves — then the mapped improper tail].
    # ``path`` holds the containers being walked: meeting one of them again inside itself is a
    # cycle through the elements, as Brent's check finds one along the cdrs.
    path = {id(value)}
    stack = [[value, [], value if cls is Pair else 0, None, 0, 1, _NO_TAIL]]
    while True:
        frame = stack[-1]
        container, items = frame[0], frame[1]
        child = None
        if container.__class__ is Pair:
            node, mark, steps, limit = frame[2], frame[3], frame[4], frame[5]
            while node.__class__ is Pair:
                item = node.car
                node = node.cdr
                if node is mark:
                    raise circular(who)
                steps += 1
                if steps == limit:
                    mark, steps, limit = node, 0, limit * 2
                kind = item.__class__
                if kind is Pair or kind is list:
                    child = item
                    break
                # a leaf, nearly always: a derivative operator's list of numbers
                items.append(Nil if item is Nil else function(item))
            frame[2], frame[3], frame[4], frame[5] = node, mark, steps, limit
            if child is None and node is not Nil and frame[6] is _NO_TAIL:
                if node.__class__ is list:
                    child = node
                    frame[6] = _TAIL_PENDING
                else:
                    frame[6] = function(node)
        else:
            index = frame[2]
            while index < len(container):
                item = container[index]
                index += 1
                kind = item.__class__
                if kind is Pair or kind is list:
                    child = item
                    break
                items.append(Nil if item is Nil else function(item))
            frame[2] = index
        if child is not None:
            key = id(child)
            if key in path:
                raise circular(who)
            path.add(key)
            stack.append([child, [], child if child.__class__ is Pair else 0, None, 0, 1, _NO_TAIL])
            continue
        # the container is done
        stack.pop()
        path.discard(id(container))
        if container.__class__ is Pair:
            result = make_list(items, Nil if frame[6] is _NO_TAIL else frame[6])
        else:
            result = items
        if not stack:
            return result
        parent = stack[-1]
        if parent[6] is _TAIL_PENDING:
            parent[6] = result
        else:
            parent[1].append(result)


def leaves(value, who: str = "derivative") -> list:
    found = []
    map_structure(found.append, value, who)
    return found


def is_structure(value) -> bool:
    return value.__class__ is Pair or value.__class__ is list or value is Nil


def same_shape(reference, other) -> bool:
    """Whether ``other`` has the structure of ``reference`` (which the caller has walked, so it is
    finite): the same pairs, vectors and empty lists, leaves where it has leaves."""
    stack = [(reference, other)]
    while stack:
        a, b = stack.pop()
        cls = a.__class__
        if cls is Pair:
            if b.__class__ is not Pair:
                return False
            stack.append((a.cdr, b.cdr))
            stack.append((a.car, b.car))
        elif cls is list:
            if b.__class__ is not list or len(a) != len(b):
                return False
            stack.extend(zip(a, b))
        elif a is Nil:
            if b is not Nil:
                return False
        elif is_structure(b):
            return False
    return True
