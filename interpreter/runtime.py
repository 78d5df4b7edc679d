"""Run-time support that compiled code and primitives share: tail calls, procedure application,
and the values that are neither data nor numbers (promises, parameters, records, continuations).

Proper tail calls.  A compiled procedure returns a `TailCall` instead of making a call in tail
position (a self call becomes a loop instead); whoever receives a value from a Scheme procedure
(a non-tail call site, or `apply_procedure`) runs the chain of tail calls in a loop.  So a chain
of tail calls of any length needs one Python frame.
"""

from __future__ import annotations

from contextvars import ContextVar

from ..lang.datum import MultipleValues, is_procedure, make_list
from ..lang.printer import write_string
from .errors import ContinuationInvoked, SchemeExit, fail


class TailCall:
    """A call left for the caller to make: ``proc(*args)``; ``site`` is the line number (span
    index) of the call, for error positions.  Made by ``tail_call`` (no __init__: ad/tags.py
    says why), once per tail call that is not a loop."""

    __slots__ = ("proc", "args", "site")


def tail_call(proc, args, site) -> TailCall:
    call = TailCall()
    call.proc = proc
    call.args = args
    call.site = site
    return call


def run_tail(result):
    """Finish a chain of tail calls; ``result`` may be a plain value."""
    while result.__class__ is TailCall:
        result = result.proc(*result.args)
    return result


def apply_procedure(proc, args):
    """Apply a Scheme procedure from Python and return its value (never a TailCall)."""
    result = proc(*args)
    while result.__class__ is TailCall:
        result = result.proc(*result.args)
    return result


def resolving(proc):
    """A procedure that never returns a TailCall: stored where compiled code calls without check."""
    def procedure(*args):
        result = proc(*args)
        while result.__class__ is TailCall:
            result = result.proc(*result.args)
        return result
    procedure.__name__ = getattr(proc, "__name__", "procedure")
    procedure.__qualname__ = procedure.__name__
    procedure.__doc__ = getattr(proc, "__doc__", None)
    procedure.scheme_wrapped = proc
    return procedure


def arity(proc):
    """(least, most) numbers of arguments a procedure takes — most None for a rest list — or
    None when that cannot be known (a procedure that is not Python code)."""
    proc = getattr(proc, "scheme_wrapped", proc)
    code = getattr(proc, "__code__", None)
    if code is None:
        return None
    positional = code.co_argcount
    defaults = getattr(proc, "__defaults__", None) or ()
    rest = bool(code.co_flags & 0x04)       # CO_VARARGS
    return positional - len(defaults), None if rest else positional


def check_procedure(who: str, value):
    if not is_procedure(value):
        fail(f"{who}: expected a procedure, got {write_string(value)}")
    return value


def values_of(result) -> tuple:
    return tuple(result) if result.__class__ is MultipleValues else (result,)


# ---------------------------------------------------------------------------------------------

class Continuation:
    """An escaping continuation: calling it unwinds to the `call/cc` that made it."""

    __slots__ = ("active", "__weakref__")
    __name__ = "continuation"

    def __init__(self):
        self.active = True

    def __call__(self, *values):
        if not self.active:
            fail("continuation: called after its call/cc returned (nablisp continuations "
                 "are escape-only)")
        raise ContinuationInvoked(self, values)

    def scheme_repr(self, write: bool) -> str:
        return "#<continuation>"


def call_with_current_continuation(proc):
    check_procedure("call-with-current-continuation", proc)
    k = Continuation()
    try:
        return apply_procedure(proc, (k,))
    except ContinuationInvoked as escape:
        if escape.continuation is not k:
            raise
        values = escape.values
        return values[0] if len(values) == 1 else MultipleValues(values)
    finally:
        k.active = False


class Parameter:
    """A parameter object (`make-parameter`): a procedure of no arguments returning its value.
    Given one argument it sets its value (through the converter) as Racket's and chibi's do; in
    a `parameterize`, until that ends."""

    __slots__ = ("value", "converter", "shared_name")
    __name__ = "parameter"

    def __init__(self, value, converter=None, shared_name: str | None = None):
        self.converter = converter
        self.value = apply_procedure(converter, (value,)) if converter is not None else value
        # the current ports are one parameter for every interpreter of the process, so no
        # program may set them for good, only parameterize them for a while
        self.shared_name = shared_name

    def __call__(self, *args):
        if args:
            if self.shared_name is not None:
                fail(f"{self.shared_name}: expected no arguments, got {len(args)} (parameterize "
                     f"changes the current port for a while)")
            if len(args) > 1:
                fail(f"parameter: expected no arguments (to get its value) or one (to set it), "
                     f"got {len(args)}")
            self.value = apply_procedure(self.converter, args) if self.converter is not None else args[0]
            return None
        return self.value

    def scheme_repr(self, write: bool) -> str:
        return "#<parameter>"


def parameterize(parameters, values, body):
    saved = []
    params = list(parameters)
    new_values = list(values)
    for param, value in zip(params, new_values):
        if not isinstance(param, Parameter):
            fail(f"parameterize: expected a parameter, got {write_string(param)}")
        converted = apply_procedure(param.converter, (value,)) if param.converter is not None else value
        saved.append((param, converted))
    old = [(param, param.value) for param, _ in saved]
    try:
        for param, value in saved:
            param.value = value
        return apply_procedure(body, ())
    except Exception as error:
        deliver_in_place(error)
        raise
    finally:
        for param, value in old:
            param.value = value


class Promise:
    """`delay`, `delay-force` and `make-promise`, with R7RS's iterative forcing (no stack growth
    for a chain of delay-force).  The state lives in a box that forcing shares between a
    delay-force promise and the promise its body returned, as R7RS's reference implementation
    does: a promise forced by way of another is forced once, not once per way."""

    __slots__ = ("box",)

    def __init__(self, done: bool, value):
        # [done, value]: the result, or a thunk that yields a value or another promise
        self.box = [done, value]

    def scheme_repr(self, write: bool) -> str:
        return "#<promise>"


def make_promise(value):
    return value if isinstance(value, Promise) else Promise(True, value)


def force(promise):
    if not isinstance(promise, Promise):
        return promise
    box = promise.box
    while not box[0]:
        inner = apply_procedure(box[1], ())
        box = promise.box
        if box[0]:                        # forced meanwhile, by the thunk itself (reentrantly)
            break
        if isinstance(inner, Promise):
            box[0], box[1] = inner.box
            inner.box = box
        else:
            box[0], box[1] = True, inner
    return box[1]


def lazy_promise(thunk):          # delay-force
    return Promise(False, thunk)


def eager_delay(thunk):           # delay: the thunk's value is wrapped so that force stops there
    return Promise(False, lambda: Promise(True, apply_procedure(thunk, ())))


class RecordType:
    __slots__ = ("name", "fields")

    def __init__(self, name: str, fields: tuple):
        self.name = name
        self.fields = fields

    def scheme_repr(self, write: bool) -> str:
        return f"#<record-type {self.name}>"


class Record:
    __slots__ = ("rtype", "values")

    def __init__(self, rtype: RecordType, values: list):
        self.rtype = rtype
        self.values = values

    def scheme_repr(self, write: bool) -> str:
        parts = " ".join(f"{name.name}={write_string(value)}" for name, value in zip(self.rtype.fields, self.values))
        return f"#<{self.rtype.name}{' ' if parts else ''}{parts}>"


def record_constructor(rtype: RecordType, field_names):
    indexes = [rtype.fields.index(name) for name in field_names]
    count = len(rtype.fields)

    def construct(*args):
        if len(args) != len(indexes):
            fail(f"{constructor_name}: expected {len(indexes)} arguments, got {len(args)}")
        values = [False] * count
        for index, value in zip(indexes, args):
            values[index] = value
        return Record(rtype, values)

    constructor_name = f"make-{rtype.name}"
    construct.__name__ = construct.__qualname__ = constructor_name
    return construct


def record_predicate(rtype: RecordType):
    def predicate(value):
        return value.__class__ is Record and value.rtype is rtype
    predicate.__name__ = predicate.__qualname__ = f"{rtype.name}?"
    return predicate


def record_accessor(rtype: RecordType, field, name: str):
    index = rtype.fields.index(field)

    def access(record):
        if record.__class__ is not Record or record.rtype is not rtype:
            fail(f"{name}: expected a {rtype.name} record, got {write_string(record)}")
        return record.values[index]
    access.__name__ = access.__qualname__ = name
    return access


def record_modifier(rtype: RecordType, field, name: str):
    index = rtype.fields.index(field)

    def modify(record, value):
        if record.__class__ is not Record or record.rtype is not rtype:
            fail(f"{name}: expected a {rtype.name} record, got {write_string(record)}")
        record.values[index] = value
    modify.__name__ = modify.__qualname__ = name
    return modify


def make_case_lambda(arities, *procedures):
    """``arities`` holds (required count, has rest) for each clause, in order."""
    clauses = list(zip(arities, procedures))

    def case_lambda(*args):
        n = len(args)
        for (required, has_rest), proc in clauses:
            if n == required or (has_rest and n >= required):
                return proc(*args)
        fail(f"case-lambda: no clause accepts {n} argument{'s' if n != 1 else ''}")
    case_lambda.__name__ = case_lambda.__qualname__ = getattr(procedures[0], "__name__", "case-lambda") if procedures else "case-lambda"
    return case_lambda


def rest_list(args: tuple):
    return make_list(args)


# ---------------------------------------------------------------------------------------------
# Exceptions (R7RS §6.11): `guard`.


NO_CLAUSE_MATCHED = object()


GUARD = object()    # on the handler stack: a guard, which raise-continuable reaches by unwinding


def guard_body(body, handler, to_condition, handlers: list):
    """`guard`: run ``body``; on a raise, ``handler`` gets the condition and returns
    NO_CLAUSE_MATCHED when none of its clauses applies, and the raise goes on.  While ``body``
    runs the guard stands on ``handlers``, so that a raise-continuable inside reaches it before
    the handlers of with-exception-handler calls outside it."""
    depth = len(handlers)
    handlers.append(GUARD)
    try:
        return apply_procedure(body, ())
    except BrokenPipeError:
        raise   # the reader of our output went away: not an error of the program
    except Exception as error:
        del handlers[depth:]                # the clauses run with the guard's outer handlers
        condition = to_condition(error)
        result = apply_procedure(handler, (condition,))
        if result is NO_CLAUSE_MATCHED:
            rewind(error)
            raise
        return result
    finally:
        del handlers[depth:]


# The handler of the innermost with-exception-handler, for an error of the system: set for the
# extent of each with-exception-handler call (per interpreter, whose handlers it reads).
HANDLER_IN_PLACE: ContextVar = ContextVar("nablisp handler in place", default=None)


def deliver_in_place(error: Exception):
    """An error of the system (a primitive's, or a raise a guard passed on) is leaving a
    dynamic-wind or a parameterize: the current handler sees it here, in the dynamic
    environment of the error, before the unwinding changes it (R7RS 6.11), as `raise` calls
    it.  Where no dynamic-wind or parameterize lies between, nothing the handler could see has
    changed, and with-exception-handler calls it itself once the error reaches it."""
    deliver = HANDLER_IN_PLACE.get()
    if deliver is not None:
        deliver(error)


def sheltered(handlers: list, procedure, args):
    """Apply procedure with a guard on top of ``handlers``: its errors come back to the caller
    as exceptions before any handler of the program sees them — a plot's undefined point, or
    a rule's partial that waits on a tape for a backward pass that may never need it."""
    depth = len(handlers)
    handlers.append(GUARD)
    try:
        return apply_procedure(procedure, args)
    finally:
        del handlers[depth:]


def note_unwound(error: BaseException, before, after):
    """Remember on a raise leaving a `dynamic-wind` that it left it, innermost first."""
    try:
        error.scheme_unwound.append((before, after))
    except AttributeError:
        try:
            error.scheme_unwound = [(before, after)]
        except AttributeError:      # an exception type that takes no attributes: nothing to redo
            pass


def rewind(error: BaseException):
    """A guard none of whose clauses applies re-raises "in the dynamic environment of the
    original call to raise" (R7RS 4.2.7): it re-enters the dynamic-winds the raise left and
    leaves them again on the way out.  With escape-only continuations the raise point itself
    cannot be resumed, but every before and after thunk runs as R7RS's reference guard runs it,
    and the handlers outside the guard see the raise between them, back inside those winds."""
    unwound = getattr(error, "scheme_unwound", ())
    if not unwound:
        return
    for before, _ in reversed(unwound):
        apply_procedure(before, ())
    try:
        deliver_in_place(error)
    except BaseException as leaving:
        if not (isinstance(leaving, SchemeExit) and leaving.emergency):
            for _, after in unwound:
                apply_procedure(after, ())
        raise
    for _, after in unwound:
        apply_procedure(after, ())


