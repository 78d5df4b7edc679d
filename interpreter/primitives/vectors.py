"""Vectors (R7RS §6.8): Python lists."""

from __future__ import annotations

from ...ad.tags import plain
from ...lang.datum import make_list
from ...lang.printer import write_string
from ..limits import reserve_items
from ..errors import fail
from ..runtime import apply_procedure
from .lists import check_list
from .numbers import check_index
from .registry import define


def check_vector(who: str, value) -> list:
    if value.__class__ is list:
        return value
    fail(f"{who}: expected a vector, got {write_string(value)}")


def _range(who, vector, start, end):
    length = len(vector)
    start, end = plain(start), length if end is None else plain(end)
    if start.__class__ is not int or end.__class__ is not int or not 0 <= start <= end <= length:
        fail(f"{who}: range [{write_string(start)}, {write_string(end)}) is out of bounds for length {length}")
    return start, end


@define("vector?")
def vector_p(x):
    return x.__class__ is list


@define("make-vector")
def make_vector(k, fill=None):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"make-vector: expected a non-negative exact integer, got {write_string(k)}")
    reserve_items(k, "make-vector")
    return [fill] * k


@define("vector")
def vector(*items):
    return list(items)


@define("vector-length")
def vector_length(v):
    return len(check_vector("vector-length", v))


@define("vector-ref")
def vector_ref(v, k):
    if v.__class__ is list and k.__class__ is int and 0 <= k < len(v):
        return v[k]
    check_vector("vector-ref", v)
    return v[check_index("vector-ref", k, len(v))]


@define("vector-set!")
def vector_set(v, k, value):
    check_vector("vector-set!", v)
    v[check_index("vector-set!", k, len(v))] = value


@define("vector->list")
def vector_to_list(v, start=0, end=None):
    check_vector("vector->list", v)
    start, end = _range("vector->list", v, start, end)
    return make_list(v[start:end])


@define("list->vector")
def list_to_vector(items):
    return check_list("list->vector", items)


@define("vector-fill!")
def vector_fill(v, fill, start=0, end=None):
    check_vector("vector-fill!", v)
    start, end = _range("vector-fill!", v, start, end)
    for index in range(start, end):
        v[index] = fill


@define("vector-copy")
def vector_copy(v, start=0, end=None):
    check_vector("vector-copy", v)
    start, end = _range("vector-copy", v, start, end)
    return v[start:end]


@define("vector-copy!")
def vector_copy_bang(to, at, source, start=0, end=None):
    check_vector("vector-copy!", to)
    check_vector("vector-copy!", source)
    start, end = _range("vector-copy!", source, start, end)
    at = plain(at)
    if at.__class__ is not int or not 0 <= at <= len(to) - (end - start):
        fail(f"vector-copy!: destination index {write_string(at)} leaves too little room")
    to[at:at + end - start] = source[start:end]


@define("vector-append")
def vector_append(*vectors):
    result = []
    for v in vectors:
        result.extend(check_vector("vector-append", v))
    return result


@define("vector-map")
def vector_map(proc, v, *more):
    vectors = [check_vector("vector-map", x) for x in (v,) + more]
    return [apply_procedure(proc, items) for items in zip(*vectors)]


@define("vector-for-each")
def vector_for_each(proc, v, *more):
    vectors = [check_vector("vector-for-each", x) for x in (v,) + more]
    for items in zip(*vectors):
        apply_procedure(proc, items)
