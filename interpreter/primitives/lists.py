"""Pairs and lists (R7RS §6.4).  Every walk over a list is a loop: lists can be millions long."""

from __future__ import annotations

from functools import cmp_to_key

from ...ad.tags import plain
from ...lang.datum import Nil, Pair, list_to_python, make_list, make_pair
from ...lang.printer import write_string
from ..limits import PAIR_BYTES, reserve_items
from ..errors import fail
from ..runtime import apply_procedure, check_procedure
from .equivalence import eq, equal, eqv
from .numbers import num_gt, num_lt
from .registry import define


def check_pair(who: str, value) -> Pair:
    if value.__class__ is Pair:
        return value
    fail(f"{who}: expected a pair, got {write_string(value)}")


def circular(who: str):
    fail(f"{who}: expected a proper list, got a circular list")


def pairs(who: str, items):
    """Each pair of the list ``items`` in turn.  Walking a circular list is an error, found by
    Brent's method (one comparison a step), where the walk would never end."""
    node = items
    mark = None
    steps, limit = 0, 1
    while node.__class__ is Pair:
        yield node
        node = node.cdr
        if node is mark:
            circular(who)
        steps += 1
        if steps == limit:
            mark, steps, limit = node, 0, limit * 2


def check_list(who: str, value) -> list:
    items = list_to_python(value)
    if items is None:
        fail(f"{who}: expected a proper list, got {write_string(value)}")
    return items


@define("pair?")
def pair_p(x):
    return x.__class__ is Pair


@define("null?")
def null_p(x):
    return x is Nil


@define("list?")
def list_p(x):
    return list_to_python(x) is not None


@define("cons")
def cons(a, b):
    return make_pair(a, b)


@define("car")
def car(p):
    if p.__class__ is Pair:
        return p.car
    fail(f"car: expected a pair, got {write_string(p)}")


@define("cdr")
def cdr(p):
    if p.__class__ is Pair:
        return p.cdr
    fail(f"cdr: expected a pair, got {write_string(p)}")


@define("set-car!")
def set_car(p, value):
    check_pair("set-car!", p).car = value


@define("set-cdr!")
def set_cdr(p, value):
    check_pair("set-cdr!", p).cdr = value


def _make_cxr(path: str):
    name = f"c{path}r"

    def cxr(value):
        original = value
        for step in reversed(path):
            if value.__class__ is not Pair:
                fail(f"{name}: expected a pair structure with {name}, got {write_string(original)}")
            value = value.car if step == "a" else value.cdr
        return value
    define(name)(cxr)


for _path in ["aa", "ad", "da", "dd", "aaa", "aad", "ada", "add", "daa", "dad", "dda", "ddd",
              "aaaa", "aaad", "aada", "aadd", "adaa", "adad", "adda", "addd",
              "daaa", "daad", "dada", "dadd", "ddaa", "ddad", "ddda", "dddd"]:
    _make_cxr(_path)


@define("list")
def list_(*items):
    result = Nil
    for item in reversed(items):
        result = make_pair(item, result)
    return result


@define("cons*", "list*")
def cons_star(first, *rest):
    items = (first,) + rest
    return make_list(items[:-1], items[-1])


@define("make-list")
def make_list_(count, fill=None):
    count = plain(count)
    if count.__class__ is not int or count < 0:
        fail(f"make-list: expected a non-negative exact integer, got {write_string(count)}")
    reserve_items(count, "make-list", PAIR_BYTES)
    result = Nil
    for _ in range(count):
        result = make_pair(fill, result)
    return result


@define("length")
def length(items):
    n = 0
    node = items
    slow = items
    while node.__class__ is Pair:
        node = node.cdr
        n += 1
        if n % 2 == 0:
            slow = slow.cdr
            if slow is node and node.__class__ is Pair:
                fail("length: expected a proper list, got a circular list")
    if node is not Nil:
        fail(f"length: expected a proper list, got {write_string(items)}")
    return n


@define("append")
def append(*lists):
    if not lists:
        return Nil
    result = lists[-1]
    for index in range(len(lists) - 2, -1, -1):
        items = check_list("append", lists[index])
        for item in reversed(items):
            result = make_pair(item, result)
    return result


@define("append!")
def append_bang(*lists):
    return append(*lists)


@define("reverse")
def reverse(items):
    result = Nil
    node = items
    mark, steps, limit = None, 0, 1         # pairs() written out: reverse is a hot loop
    while node.__class__ is Pair:
        result = make_pair(node.car, result)
        node = node.cdr
        if node is mark:
            circular("reverse")
        steps += 1
        if steps == limit:
            mark, steps, limit = node, 0, limit * 2
    if node is not Nil:
        fail(f"reverse: expected a proper list, got {write_string(items)}")
    return result


@define("list-tail")
def list_tail(items, k):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"list-tail: expected a non-negative exact integer, got {write_string(k)}")
    node = items
    for _ in range(k):
        if node.__class__ is not Pair:
            fail(f"list-tail: index {k} is past the end of the list")
        node = node.cdr
    return node


@define("list-ref")
def list_ref(items, k):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"list-ref: expected a non-negative exact integer index, got {write_string(k)}")
    node = items
    for _ in range(k):
        if node.__class__ is not Pair:
            break
        node = node.cdr
    if node.__class__ is not Pair:
        fail(f"list-ref: index {k} out of range for {write_string(items)}")
    return node.car


@define("list-set!")
def list_set(items, k, value):
    node = list_tail(items, k)
    if node.__class__ is not Pair:
        fail(f"list-set!: index {k} out of range")
    node.car = value


@define("list-copy")
def list_copy(items):
    if items.__class__ is not Pair:
        return items
    values = []
    for pair in pairs("list-copy", items):
        values.append(pair.car)
        tail = pair.cdr
    return make_list(values, tail)


def _member(who, same):
    def member(x, items, predicate=None):
        if predicate is not None:
            check_procedure(who, predicate)
        node = items
        mark, steps, limit = None, 0, 1     # pairs() written out, as in reverse
        while node.__class__ is Pair:
            if (apply_procedure(predicate, (x, node.car)) is not False) if predicate is not None else same(x, node.car):
                return node
            node = node.cdr
            if node is mark:
                circular(who)
            steps += 1
            if steps == limit:
                mark, steps, limit = node, 0, limit * 2
        return False
    return member


define("memq")(_member("memq", eq))
define("memv")(_member("memv", eqv))
define("member")(_member("member", equal))


def _assoc(who, same):
    def assoc(x, items, predicate=None):
        if predicate is not None:
            check_procedure(who, predicate)
        for node in pairs(who, items):
            entry = node.car
            if entry.__class__ is not Pair:
                fail(f"{who}: expected a list of pairs, found {write_string(entry)}")
            if (apply_procedure(predicate, (x, entry.car)) is not False) if predicate is not None else same(x, entry.car):
                return entry
        return False
    return assoc


define("assq")(_assoc("assq", eq))
define("assv")(_assoc("assv", eqv))
define("assoc")(_assoc("assoc", equal))


@define("last-pair")
def last_pair(items):
    last = check_pair("last-pair", items)
    for last in pairs("last-pair", items):
        pass
    return last


@define("flatten")
def flatten(value):
    """(flatten x): the leaves of the tree of pairs x, left to right, in constant Python stack;
    a cycle (a pair reachable from itself through cars and cdrs) is an error.  Shared pairs are
    flattened each time they are met."""
    out = []
    on_path: set = set()        # ids of the pairs whose car or cdr is being flattened
    stack = [value]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is tuple:        # the pair (item[0]) is done
            on_path.discard(item[0])
        elif cls is Pair:
            key = id(item)
            if key in on_path:
                fail("flatten: expected a tree of pairs, got a circular structure")
            on_path.add(key)
            stack.append((key,))
            stack.append(item.cdr)
            stack.append(item.car)
        elif item is not Nil:
            out.append(item)
    return make_list(out)


@define("sort")
def sort(items, less):
    """(sort list less?): a new list, ordered stably by ``less?``.  Python's sort (a merge sort
    too, run in C) calls ``less?`` about as often as a merge sort in Scheme would, without
    interpreting the merging; numbers ordered by the primitive < or > are compared directly."""
    values = check_list("sort", items)
    check_procedure("sort", less)
    if (less is num_lt or less is num_gt) and \
            all((value.__class__ is float or value.__class__ is int) and value == value for value in values):
        values.sort(reverse=less is num_gt)
    else:
        # list.sort asks only whether a < b: the "compare" function answers that, and 0 otherwise
        values.sort(key=cmp_to_key(lambda a, b: -1 if apply_procedure(less, (a, b)) is not False else 0))
    return make_list(values)
