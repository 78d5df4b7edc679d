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


@define("vector?", signature="(vector? obj)",
        doc="Whether obj is a vector.")
def vector_p(x):
    return x.__class__ is list


@define("make-vector", signature="(make-vector k [fill])",
        doc="A new vector of k elements, each fill (unspecified when not given).")
def make_vector(k, fill=None):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"make-vector: expected a non-negative exact integer, got {write_string(k)}")
    reserve_items(k, "make-vector")
    return [fill] * k


@define("vector", signature="(vector obj …)",
        doc="A new vector of the arguments.")
def vector(*items):
    return list(items)


@define("vector-length", signature="(vector-length vector)",
        doc="The number of elements of vector.")
def vector_length(v):
    return len(check_vector("vector-length", v))


@define("vector-ref", signature="(vector-ref vector k)",
        doc="The element of vector at index k, counting from 0.")
def vector_ref(v, k):
    if v.__class__ is list and k.__class__ is int and 0 <= k < len(v):
        return v[k]
    check_vector("vector-ref", v)
    return v[check_index("vector-ref", k, len(v))]


@define("vector-set!", signature="(vector-set! vector k obj)",
        doc="Store obj at index k of vector.")
def vector_set(v, k, value):
    check_vector("vector-set!", v)
    v[check_index("vector-set!", k, len(v))] = value


@define("vector->list", signature="(vector->list vector [start [end]])",
        doc="A list of the elements of vector from start to end.")
def vector_to_list(v, start=0, end=None):
    check_vector("vector->list", v)
    start, end = _range("vector->list", v, start, end)
    return make_list(v[start:end])


@define("list->vector", signature="(list->vector list)",
        doc="A new vector of the elements of list.")
def list_to_vector(items):
    return check_list("list->vector", items)


@define("vector-fill!", signature="(vector-fill! vector fill [start [end]])",
        doc="Store fill at every index of vector from start to end (all of it by default).")
def vector_fill(v, fill, start=0, end=None):
    check_vector("vector-fill!", v)
    start, end = _range("vector-fill!", v, start, end)
    for index in range(start, end):
        v[index] = fill


@define("vector-copy", signature="(vector-copy vector [start [end]])",
        doc="A new vector of the elements of vector from start to end.")
def vector_copy(v, start=0, end=None):
    check_vector("vector-copy", v)
    start, end = _range("vector-copy", v, start, end)
    return v[start:end]


@define("vector-copy!", signature="(vector-copy! to at from [start [end]])",
        doc="Copy the elements of from between start and end into the vector to, from index at on.")
def vector_copy_bang(to, at, source, start=0, end=None):
    check_vector("vector-copy!", to)
    check_vector("vector-copy!", source)
    start, end = _range("vector-copy!", source, start, end)
    at = plain(at)
    if at.__class__ is not int or not 0 <= at <= len(to) - (end - start):
        fail(f"vector-copy!: destination index {write_string(at)} leaves too little room")
    to[at:at + end - start] = source[start:end]


@define("vector-append", signature="(vector-append vector …)",
        doc="A new vector of the elements of every vector in turn.")
def vector_append(*vectors):
    result = []
    for v in vectors:
        result.extend(check_vector("vector-append", v))
    return result


@define("vector-map", signature="(vector-map proc vector1 vector …)",
        doc="A new vector of (proc element …) for the elements at each index of the vectors, until the "
            "shortest ends.")
def vector_map(proc, v, *more):
    vectors = [check_vector("vector-map", x) for x in (v,) + more]
    return [apply_procedure(proc, items) for items in zip(*vectors)]


@define("vector-for-each", signature="(vector-for-each proc vector1 vector …)",
        doc="Call proc on the elements at each index of the vectors in turn, for effect, until the "
            "shortest ends.")
def vector_for_each(proc, v, *more):
    vectors = [check_vector("vector-for-each", x) for x in (v,) + more]
    for items in zip(*vectors):
        apply_procedure(proc, items)
