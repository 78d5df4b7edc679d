"""Control (R7RS §6.10): procedures, application, mapping, continuations, values, promises,
parameters; and the error procedures of §6.11 that need no interpreter state."""

from __future__ import annotations

from ...lang.datum import MultipleValues, Nil, Pair, is_string, list_to_python, make_list
from ...lang.printer import write_string
from .. import runtime
from ..errors import ErrorObject, SchemeError, SchemeExit, fail
from ..runtime import TailCall, apply_procedure, check_procedure, is_procedure, tail_call, values_of
from .registry import define


@define("procedure?", signature="(procedure? obj)",
        doc="Whether obj is a procedure: a built-in, a lambda, a continuation, a parameter, or what a "
            "derivative operator returns.")
def procedure_p(x):
    return is_procedure(x)


@define("procedure-documentation", signature="(procedure-documentation proc)",
        doc="The documentation string of proc, or #f when it has none: for a procedure written in "
            "nablisp, the string first in its body (define (f x) \"What f does.\" body …); for a "
            "built-in, its paragraph of the reference (what ,doc shows). As in Guile.")
def procedure_documentation(proc):
    from ..documentation import procedure_documentation as documentation_of
    check_procedure("procedure-documentation", proc)
    text = documentation_of(proc)
    return False if text is None else text


@define("apply", tail_builder=True, signature="(apply proc obj … list)",
        doc="Call proc with the objs followed by the elements of list as its arguments; a call in tail "
            "position.")
def apply(proc, *args):
    check_procedure("apply", proc)
    if not args:
        fail("apply: expected a procedure and a list of arguments, got no list")
    *fixed, last = args
    spread = list_to_python(last)
    if spread is None:
        fail(f"apply: the last argument must be a proper list, got {write_string(last)}")
    return tail_call(proc, tuple(fixed) + tuple(spread), 0)


def _lockstep(who, lists):
    """Tuples of the lists' elements, position by position, until the shortest list ends
    (R7RS; an improper tail ends a list too).  Circular lists are fine while one list ends;
    when all are circular, an error."""
    nodes = _check_lists(who, lists)
    lengths = [length for length in map(_length_or_none, nodes) if length is not None]
    if not lengths:
        fail(f"{who}: every list is circular, so the lists never end")
    shortest = min(lengths)
    columns = []
    for node in nodes:
        column = []
        for _ in range(shortest):
            column.append(node.car)
            node = node.cdr
        columns.append(column)
    return list(zip(*columns))


def _length_or_none(node):
    """The number of pairs along the cdrs of ``node``, or None when they go round in a circle
    (Brent's method: one comparison a step)."""
    count = 0
    mark, steps, limit = None, 0, 1
    while node.__class__ is Pair:
        node = node.cdr
        count += 1
        if node is mark:
            return None
        steps += 1
        if steps == limit:
            mark, steps, limit = node, 0, limit * 2
    return count


def _check_lists(who, lists) -> list:
    for node in lists:
        if node is not Nil and node.__class__ is not Pair:
            fail(f"{who}: expected a list, got {write_string(node)}")
    return list(lists)


def _one_list(who, items):
    """The elements of the list ``items``: an error for an improper or circular one."""
    values = list_to_python(items)
    if values is None:
        fail(f"{who}: expected a proper list, got {write_string(items)}")
    return values


@define("map", signature="(map proc list1 list …)",
        doc="A list of (proc element …) for the elements at each position of the lists, until the "
            "shortest ends.")
def map_(proc, items, *more):
    check_procedure("map", proc)
    if not more:
        out = []
        node = items
        mark, steps, limit = None, 0, 1     # Brent's check for a circular list
        while node.__class__ is Pair:
            result = proc(node.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            out.append(result)
            node = node.cdr
            if node is mark:
                _one_list("map", items)
            steps += 1
            if steps == limit:
                mark, steps, limit = node, 0, limit * 2
        if node is not Nil:
            fail(f"map: expected a list, got {write_string(items)}")
        return make_list(out)
    if len(more) == 1:
        # two lists, as in vector arithmetic: walked side by side, without copies
        out = []
        node, other = _check_lists("map", (items, more[0]))
        mark = other_mark = None
        steps, limit = 0, 1
        while node.__class__ is Pair and other.__class__ is Pair:
            result = proc(node.car, other.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            out.append(result)
            node, other = node.cdr, other.cdr
            if node is mark or other is other_mark:
                break               # perhaps both circular: the general walk decides
            steps += 1
            if steps == limit:
                mark, other_mark, steps, limit = node, other, 0, limit * 2
        else:
            return make_list(out)
        return make_list(out + [apply_procedure(proc, row) for row in _lockstep("map", (node, other))])
    return make_list([apply_procedure(proc, row) for row in _lockstep("map", (items,) + more)])


@define("for-each", signature="(for-each proc list1 list …)",
        doc="Call proc on the elements at each position of the lists in turn, for effect, until the "
            "shortest ends.")
def for_each(proc, items, *more):
    check_procedure("for-each", proc)
    if not more:
        node = items
        mark, steps, limit = None, 0, 1
        while node.__class__ is Pair:
            result = proc(node.car)
            while result.__class__ is TailCall:
                result = result.proc(*result.args)
            node = node.cdr
            if node is mark:
                _one_list("for-each", items)
            steps += 1
            if steps == limit:
                mark, steps, limit = node, 0, limit * 2
        if node is not Nil:
            fail(f"for-each: expected a list, got {write_string(items)}")
        return None
    for row in _lockstep("for-each", (items,) + more):
        apply_procedure(proc, row)


@define("call-with-current-continuation", "call/cc", signature="(call-with-current-continuation proc)",
        doc="Call proc with the current continuation k, a procedure that returns its arguments from "
            "this call when called. nablisp's continuations escape only: k works while the call is in "
            "progress. call/cc is the same procedure.")
def call_cc(proc):
    return runtime.call_with_current_continuation(proc)


@define("call-with-escape-continuation", "call/ec", signature="(call-with-escape-continuation proc)",
        doc="Call proc with an escape procedure k: calling k while the call is in progress returns k's "
            "arguments from it. call/ec is the same procedure.")
def call_ec(proc):
    return runtime.call_with_current_continuation(proc)


@define("values", signature="(values obj …)",
        doc="Return the objs as multiple values, which call-with-values, let-values or receive take "
            "apart; the REPL prints each.")
def values(*args):
    return args[0] if len(args) == 1 else MultipleValues(args)


@define("call-with-values", tail_builder=True, signature="(call-with-values producer consumer)",
        doc="Call consumer with the values that calling producer (with no arguments) returns.")
def call_with_values(producer, consumer):
    check_procedure("call-with-values", producer)
    check_procedure("call-with-values", consumer)
    return tail_call(consumer, values_of(apply_procedure(producer, ())), 0)


@define("dynamic-wind", signature="(dynamic-wind before thunk after)",
        doc="Call before, then thunk, then after, and return thunk's values; after runs too when thunk "
            "is left by an error or a continuation.")
def dynamic_wind(before, thunk, after):
    for proc in (before, thunk, after):
        check_procedure("dynamic-wind", proc)
    apply_procedure(before, ())
    try:
        result = apply_procedure(thunk, ())
    except SchemeExit as request:
        if not request.emergency:
            apply_procedure(after, ())
        raise
    except BaseException as error:
        if isinstance(error, Exception):
            try:
                runtime.deliver_in_place(error)
            except SchemeExit as request:       # the handler exited, or escaped, or raised
                if not request.emergency:
                    apply_procedure(after, ())
                raise
            except BaseException as leaving:
                apply_procedure(after, ())
                runtime.note_unwound(leaving, before, after)
                raise
        apply_procedure(after, ())
        runtime.note_unwound(error, before, after)
        raise
    apply_procedure(after, ())
    return result


@define("force", signature="(force promise)",
        doc="The value of promise (made by delay, delay-force or make-promise), computed the first "
            "time it is forced and remembered; anything that is not a promise is returned as it is.")
def force(promise):
    return runtime.force(promise)


@define("make-promise", signature="(make-promise obj)",
        doc="A promise whose value is obj (obj itself when it is a promise).")
def make_promise(value):
    return runtime.make_promise(value)


@define("promise?", signature="(promise? obj)",
        doc="Whether obj is a promise.")
def promise_p(x):
    return isinstance(x, runtime.Promise)


@define("make-parameter", signature="(make-parameter value [converter])",
        doc="A parameter object: a procedure of no arguments that returns its value, which "
            "parameterize changes for the extent of its body. converter, when given, is applied to value "
            "and to every value parameterize gives. Called with one argument, as in Racket and chibi, "
            "the parameter is set to it (converted), within a parameterize until that ends.")
def make_parameter(value, converter=None):
    if converter is not None:
        check_procedure("make-parameter", converter)
    return runtime.Parameter(value, converter)


@define("error-object?", signature="(error-object? obj)",
        doc="Whether obj is an error object: what error raises, and what guard receives for an error "
            "of the system (a wrong argument, a file that cannot be opened).")
def error_object_p(x):
    return isinstance(x, ErrorObject)


@define("error-object-message", signature="(error-object-message error-object)",
        doc="The message of error-object.")
def error_object_message(x):
    if not isinstance(x, ErrorObject):
        fail(f"error-object-message: expected an error object, got {write_string(x)}")
    return x.message


@define("error-object-irritants", signature="(error-object-irritants error-object)",
        doc="The list of irritants of error-object.")
def error_object_irritants(x):
    if not isinstance(x, ErrorObject):
        fail(f"error-object-irritants: expected an error object, got {write_string(x)}")
    return make_list(x.irritants)


@define("read-error?", signature="(read-error? obj)",
        doc="Whether obj is an error object raised by read for bad syntax.")
def read_error_p(x):
    return isinstance(x, ErrorObject) and x.kind == "read"


@define("file-error?", signature="(file-error? obj)",
        doc="Whether obj is an error object raised because a file could not be opened, read, written "
            "or deleted.")
def file_error_p(x):
    return isinstance(x, ErrorObject) and x.kind == "file"


@define("void", signature="(void obj …)",
        doc="Nothing: the unspecified value, whatever the arguments; the REPL prints nothing for it.")
def void(*args):
    return None
