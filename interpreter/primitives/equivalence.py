"""Equivalence predicates (R7RS §6.1) and booleans (§6.3)."""

from __future__ import annotations

from fractions import Fraction

from ...ad.tags import Dual, Tracked, plain
from ...lang.datum import MutableString, Pair, is_string
from ...lang.printer import write_string
from ..errors import fail
from .registry import define

_NUMBER_CLASSES = (int, float, Fraction)


# Every predicate here sees a number under its perturbations (DESIGN §2): a branch on a perturbed
# number takes the branch its primal takes, in `case`, `memv`, `assoc`, `member`, `equal?`.

@define("eq?", signature="(eq? obj1 obj2)",
        doc="Whether obj1 and obj2 are the same object; numbers and characters are compared by value "
            "(under perturbations), as eqv? does.")
def eq(a, b):
    if a is b:
        return True
    cls = a.__class__
    if cls is Dual or cls is Tracked or b.__class__ is Dual or b.__class__ is Tracked:
        return eq(plain(a), plain(b))
    # small exact integers and characters behave as immediate values
    return cls is b.__class__ and (cls is int) and a == b


@define("eqv?", signature="(eqv? obj1 obj2)",
        doc="Whether obj1 and obj2 are the same: the same object, or numbers of the same exactness and "
            "value (compared under perturbations), or equal characters.")
def eqv(a, b):
    if a is b:
        return True
    cls = a.__class__
    if cls is not b.__class__:
        if cls is Dual or cls is Tracked or b.__class__ is Dual or b.__class__ is Tracked:
            return eqv(plain(a), plain(b))
        return False
    if cls is Dual or cls is Tracked:
        return eqv(plain(a), plain(b))
    if cls is float:
        return a == b and (a != 0.0 or str(a) == str(b)) or (a != a and b != b)
    if cls is int or cls is Fraction:
        return a == b
    if cls is str:
        return a == "" and b == ""
    return False


@define("equal?", signature="(equal? obj1 obj2)",
        doc="Whether obj1 and obj2 have the same structure: pairs, vectors, strings and bytevectors "
            "compared element by element with eqv? at the leaves; works on circular structures.")
def equal(a, b):
    """Structural equality; terminates on circular structure (pairs compared once)."""
    seen: set = set()
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if eqv(x, y):
            continue
        cls = x.__class__
        if cls is not y.__class__:
            if is_string(x) and is_string(y) and str(x) == str(y):
                continue
            return False
        if cls is Pair:
            key = (id(x), id(y))
            if key in seen:
                continue
            seen.add(key)
            stack.append((x.cdr, y.cdr))
            stack.append((x.car, y.car))
        elif cls is list:
            if len(x) != len(y):
                return False
            key = (id(x), id(y))
            if key in seen:
                continue
            seen.add(key)
            stack.extend(zip(reversed(x), reversed(y)))
        elif cls is str:
            if x != y:
                return False
        elif cls is MutableString:
            if x.chars != y.chars:
                return False
        elif cls is bytearray:
            if x != y:
                return False
        else:
            return False
    return True


@define("not", signature="(not obj)",
        doc="#t when obj is #f, #f for anything else.")
def not_(x):
    return x is False


@define("boolean?", signature="(boolean? obj)",
        doc="Whether obj is #t or #f.")
def boolean_p(x):
    return x is True or x is False


@define("boolean=?", signature="(boolean=? boolean1 boolean2 boolean …)",
        doc="Whether the booleans are all #t or all #f.")
def boolean_eq(a, b, *more):
    args = (a, b) + more
    for value in args:
        if value is not True and value is not False:
            fail(f"boolean=?: expected a boolean, got {write_string(value)}")
    return all(x is args[0] for x in args)
