"""Control (R7RS §6.10): procedures, application, mapping, continuations, values, promises,
parameters; and the error procedures of §6.11 that need no interpreter state."""

from __future__ import annotations

from ...lang.datum import MultipleValues, Nil, Pair, is_string, make_list
from ...lang.printer import write_string
from .. import runtime
from ..errors import ErrorObject, SchemeError, fail
from ..runtime import TailCall, apply_procedure, check_procedure, is_procedure, tail_call, values_of
from .registry import define


@define("procedure?")
def procedure_p(x):
    return is_procedure(x)


@define("apply", tail_builder=True)
def apply(proc, *args):
    check_procedure("apply", proc)
    if not args:
        return tail_call(proc, (), 0)
    *fixed, last = args
    node = last
    while node.__class__ is Pair:
        fixed.append(node.car)
        node = node.cdr
    if node is not Nil:
        fail(f"apply: the last argument must be a list, got {write_string(last)}")
    return tail_call(proc, tuple(fixed), 0)


def _lists(who, lists):
    """The Python lists of elements of each argument list (shortest decides, R7RS)."""
    result = []
    for items in lists:
        values = []
        node = items
        while node.__class__ is Pair:
            values.append(node.car)
            node = node.cdr
        if node is not Nil and not values and node.__class__ is not Pair:
            fail(f"{who}: expected a list, got {write_string(items)}")
        result.append(values)
    return result


@define("map")
def map_(proc, items, *more):
    check_procedure("map", proc)
    if not more:
        out = []
        node = items
        while node.__class__ is Pair:
            result = proc(node.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            out.append(result)
            node = node.cdr
        if node is not Nil:
            fail(f"map: expected a list, got {write_string(items)}")
        return make_list(out)
    if len(more) == 1:
        # two lists, as in vector arithmetic: walked side by side, without copies
        out = []
        node, other = items, more[0]
        while node.__class__ is Pair and other.__class__ is Pair:
            result = proc(node.car, other.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            out.append(result)
            node, other = node.cdr, other.cdr
        if not ((node is Nil or node.__class__ is Pair) and (other is Nil or other.__class__ is Pair)):
            _lists("map", (items, more[0]))     # reports a list that is not one, as below
        return make_list(out)
    lists = _lists("map", (items,) + more)
    return make_list([apply_procedure(proc, values) for values in zip(*lists)])


@define("for-each")
def for_each(proc, items, *more):
    check_procedure("for-each", proc)
    if not more:
        node = items
        while node.__class__ is Pair:
            result = proc(node.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            node = node.cdr
        if node is not Nil:
            fail(f"for-each: expected a list, got {write_string(items)}")
        return None
    for values in zip(*_lists("for-each", (items,) + more)):
        apply_procedure(proc, values)


@define("call-with-current-continuation", "call/cc")
def call_cc(proc):
    return runtime.call_with_current_continuation(proc)


@define("call-with-escape-continuation", "call/ec")
def call_ec(proc):
    return runtime.call_with_current_continuation(proc)


@define("values")
def values(*args):
    return args[0] if len(args) == 1 else MultipleValues(args)


@define("call-with-values", tail_builder=True)
def call_with_values(producer, consumer):
    check_procedure("call-with-values", producer)
    check_procedure("call-with-values", consumer)
    return tail_call(consumer, values_of(apply_procedure(producer, ())), 0)


@define("dynamic-wind")
def dynamic_wind(before, thunk, after):
    for proc in (before, thunk, after):
        check_procedure("dynamic-wind", proc)
    apply_procedure(before, ())
    try:
        return apply_procedure(thunk, ())
    finally:
        apply_procedure(after, ())


@define("force")
def force(promise):
    return runtime.force(promise)


@define("make-promise")
def make_promise(value):
    return runtime.make_promise(value)


@define("promise?")
def promise_p(x):
    return isinstance(x, runtime.Promise)


@define("make-parameter")
def make_parameter(value, converter=None):
    if converter is not None:
        check_procedure("make-parameter", converter)
    return runtime.Parameter(value, converter)


@define("error")
def error(message, *irritants):
    text = str(message) if is_string(message) else write_string(message)
    raise SchemeError(ErrorObject(text, irritants))


@define("error-object?")
def error_object_p(x):
    return isinstance(x, ErrorObject)


@define("error-object-message")
def error_object_message(x):
    if not isinstance(x, ErrorObject):
        fail(f"error-object-message: expected an error object, got {write_string(x)}")
    return x.message


@define("error-object-irritants")
def error_object_irritants(x):
    if not isinstance(x, ErrorObject):
        fail(f"error-object-irritants: expected an error object, got {write_string(x)}")
    return make_list(x.irritants)


@define("read-error?")
def read_error_p(x):
    return isinstance(x, ErrorObject) and x.kind == "read"


@define("file-error?")
def file_error_p(x):
    return isinstance(x, ErrorObject) and x.kind == "file"


@define("void")
def void(*args):
    return None
