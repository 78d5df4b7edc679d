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


@define("pair?", signature="(pair? obj)",
        doc="Whether obj is a pair (a cons cell); the empty list is not one.")
def pair_p(x):
    return x.__class__ is Pair


@define("null?", signature="(null? obj)",
        doc="Whether obj is the empty list ().")
def null_p(x):
    return x is Nil


@define("list?", signature="(list? obj)",
        doc="Whether obj is a proper list: () or pairs ending in () (neither improper nor circular).")
def list_p(x):
    return list_to_python(x) is not None


@define("cons", signature="(cons obj1 obj2)",
        doc="A new pair whose car is obj1 and whose cdr is obj2.")
def cons(a, b):
    return make_pair(a, b)


@define("car", signature="(car pair)",
        doc="The first part (car) of pair: the first element of a list.")
def car(p):
    if p.__class__ is Pair:
        return p.car
    fail(f"car: expected a pair, got {write_string(p)}")


@define("cdr", signature="(cdr pair)",
        doc="The second part (cdr) of pair: the rest of a list after its first element.")
def cdr(p):
    if p.__class__ is Pair:
        return p.cdr
    fail(f"cdr: expected a pair, got {write_string(p)}")


@define("set-car!", signature="(set-car! pair obj)",
        doc="Store obj as the car of pair.")
def set_car(p, value):
    check_pair("set-car!", p).car = value


@define("set-cdr!", signature="(set-cdr! pair obj)",
        doc="Store obj as the cdr of pair.")
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
    composition = "pair"
    for step in reversed(path):
        composition = f"(c{step}r {composition})"
    define(name, signature=f"({name} pair)", doc=f"{composition}: the part of a pair structure that "
           f"the letters between c and r pick, a for car and d for cdr, the last letter first.")(cxr)


for _path in ["aa", "ad", "da", "dd", "aaa", "aad", "ada", "add", "daa", "dad", "dda", "ddd",
              "aaaa", "aaad", "aada", "aadd", "adaa", "adad", "adda", "addd",
              "daaa", "daad", "dada", "dadd", "ddaa", "ddad", "ddda", "dddd"]:
    _make_cxr(_path)


@define("list", signature="(list obj …)",
        doc="A new list of the arguments.")
def list_(*items):
    result = Nil
    for item in reversed(items):
        result = make_pair(item, result)
    return result


@define("cons*", "list*", signature="(cons* obj … tail)",
        doc="The objects consed in front of tail: (cons* 1 2 '(3)) is (1 2 3), (cons* 1 2) is (1 . 2). "
            "list* is the same procedure.")
def cons_star(first, *rest):
    items = (first,) + rest
    return make_list(items[:-1], items[-1])


@define("make-list", signature="(make-list k [fill])",
        doc="A new list of k elements, each fill (unspecified when not given).")
def make_list_(count, fill=None):
    count = plain(count)
    if count.__class__ is not int or count < 0:
        fail(f"make-list: expected a non-negative exact integer, got {write_string(count)}")
    reserve_items(count, "make-list", PAIR_BYTES)
    result = Nil
    for _ in range(count):
        result = make_pair(fill, result)
    return result


@define("length", signature="(length list)",
        doc="The number of elements of the proper list list; an improper or circular list is an error.")
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


@define("append", signature="(append list … obj)",
        doc="A list of the elements of every list in turn, ending in the last argument (shared, not "
            "copied); (append) is ().")
def append(*lists):
    if not lists:
        return Nil
    result = lists[-1]
    for index in range(len(lists) - 2, -1, -1):
        items = check_list("append", lists[index])
        for item in reversed(items):
            result = make_pair(item, result)
    return result


@define("append!", signature="(append! list … obj)",
        doc="The same as append: nablisp does not reuse the pairs of its arguments.")
def append_bang(*lists):
    return append(*lists)


@define("reverse", signature="(reverse list)",
        doc="A new list of the elements of list in reverse order.")
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


@define("list-tail", signature="(list-tail list k)",
        doc="The list after its first k elements (shared with list).")
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


@define("list-ref", signature="(list-ref list k)",
        doc="The element of list at index k, counting from 0.")
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


@define("list-set!", signature="(list-set! list k obj)",
        doc="Store obj as the element of list at index k.")
def list_set(items, k, value):
    node = list_tail(items, k)
    if node.__class__ is not Pair:
        fail(f"list-set!: index {k} out of range")
    node.car = value


@define("list-copy", signature="(list-copy obj)",
        doc="A copy of the pairs along the cdrs of obj (an improper tail is kept); anything else is "
            "returned as it is.")
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


define("memq", signature="(memq obj list)",
       doc="The first sublist of list whose car is obj by eq?, or #f.")(_member("memq", eq))
define("memv", signature="(memv obj list)",
       doc="The first sublist of list whose car is obj by eqv? (numbers compared under perturbations), "
           "or #f.")(_member("memv", eqv))
define("member", signature="(member obj list [compare])",
       doc="The first sublist of list whose car is equal? to obj (or satisfies (compare obj element)), "
           "or #f.")(_member("member", equal))


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


define("assq", signature="(assq obj alist)",
       doc="The first pair of the association list alist whose car is obj by eq?, or #f.")(_assoc("assq", eq))
define("assv", signature="(assv obj alist)",
       doc="The first pair of the association list alist whose car is obj by eqv?, or #f.")(_assoc("assv", eqv))
define("assoc", signature="(assoc obj alist [compare])",
       doc="The first pair of the association list alist whose car is equal? to obj (or satisfies "
           "(compare obj key)), or #f.")(_assoc("assoc", equal))


@define("last-pair", signature="(last-pair list)",
        doc="The last pair of the non-empty list list.")
def last_pair(items):
    last = check_pair("last-pair", items)
    for last in pairs("last-pair", items):
        pass
    return last


@define("flatten", signature="(flatten tree)",
        doc="The leaves of a tree of pairs, left to right, as one list: (flatten '(1 (2 (3)) 4)) is (1 "
            "2 3 4). A cycle is an error.")
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


@define("sort", signature="(sort list less?)",
        doc="A new list of the elements of list ordered by less?, a procedure of two arguments; stable "
            "(equal elements keep their order).")
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
