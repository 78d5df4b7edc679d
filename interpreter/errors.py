"""The one family of errors a nablisp user sees, and the translation of Python failures into it.

A running program raises Python exceptions; at the boundary (the CLI, the REPL, `guard`, the
embedding API) every one of them becomes a `SchemeError` carrying a message, the span of the
form being evaluated and a short Scheme backtrace.  The span and the backtrace are read off the
Python traceback: generated code gives each Scheme form its own line number, an index into the
interpreter's table of spans (see compile.py).
"""

from __future__ import annotations

import re

from ..ad.tags import DifferentiationError
from ..lang.datum import Span
from ..lang.printer import abbreviated_write_string, write_string

GENERATED_FILE = "<nablisp>"
BACKTRACE_LIMIT = 8
# How much of one value an error message shows (Racket's error-print-width is about as wide):
# `(+ 1 (iota 100000))` should say what went wrong in a line or two, not in 589 KB.
ERROR_VALUE_WIDTH = 250


class ErrorObject:
    """What `error` makes and `guard` catches: a message and a list of irritants."""

    __slots__ = ("message", "irritants", "kind")

    def __init__(self, message: str, irritants: tuple = (), kind: str = "error"):
        self.message = message
        self.irritants = irritants
        self.kind = kind   # "error", "file" (file-error?), "read" (read-error?)

    def describe(self) -> str:
        """The message and the irritants, every huge value in them abbreviated."""
        message = abbreviate_values(self.message)
        if not self.irritants:
            return message
        return message + " " + " ".join(abbreviated_write_string(irritant, ERROR_VALUE_WIDTH)
                                        for irritant in self.irritants)

    def scheme_repr(self, write: bool) -> str:
        return f"#<error {write_string(self.describe())}>"


class NablispError(Exception):
    """Every error nablisp reports: a message, where it happened and how the program got there."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, backtrace: list | None = None,
                 abbreviated: bool = False):
        if not abbreviated:
            message = abbreviate_values(message)
        super().__init__(message)
        self.message = message
        self.span = span
        self.backtrace = backtrace or []

    def located(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        return f"{where}{self.kind}: {self.message}"

    def __str__(self) -> str:
        return self.located()

    def backtrace_text(self) -> str:
        return "\n".join(f"  in {name} at {span}" if span else f"  in {name}"
                         for name, span in self.backtrace)


def abbreviate_values(message: str, width: int = ERROR_VALUE_WIDTH) -> str:
    """``message`` with every written value in it longer than ``width`` cut to ``width``
    characters ending in "...".  Messages are made with the values already written into them, so
    a value is found as a bracketed group or a string literal of the text (brackets inside
    strings and character literals do not count)."""
    if len(message) <= width:
        return message
    pieces = []
    start = 0       # of the text not yet copied
    index = 0
    while True:
        found = _GROUP_START.search(message, index)
        if found is None:
            break
        index = found.start()
        end = _group_end(message, index)
        if end - index > width:
            pieces.append(message[start:index])
            pieces.append(message[index:index + width - 3] + "...")
            start = end
        index = max(end, index + 1)
    pieces.append(message[start:])
    return "".join(pieces)


_GROUP_START = re.compile(r'[(\["]|#\(')
_GROUP_TOKEN = re.compile(r'\\.|#\\.|[()\[\]"]', re.S)    # an escape, a character literal, a bracket, a quote


def _group_end(text: str, start: int) -> int:
    """The index just past the bracketed group or string literal that begins at ``start`` (the
    end of ``text`` when it is not closed)."""
    depth = 0
    in_string = False
    for token in _GROUP_TOKEN.finditer(text, start):
        char = token.group()
        if in_string:
            if char == '"':
                in_string = False
                if depth == 0:
                    return token.end()
        elif char == '"':
            in_string = True
        elif len(char) > 1:
            continue                # #\( is a character, \" an escaped quote
        elif char in "([":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                return token.end()
    return len(text)


class SchemeReadError(NablispError):
    """Malformed text: raised before anything of the file runs."""

    kind = "read error"


class SchemeSyntaxError(NablispError):
    """A well-formed datum that is not a valid program (`(if)`, `(lambda (1) x)`)."""

    kind = "syntax error"


class SchemeError(NablispError):
    """A run-time error.  ``payload`` is the raised Scheme object (an ErrorObject for `error`)."""

    # Raised by a custom derivative rule while a partial is recorded on a tape, it waits for the
    # backward pass, as a singular point of a built-in rule does (ad/lift.py, deferrable).
    deferrable = True

    def __init__(self, payload, span: Span | None = None, backtrace: list | None = None,
                 continuable: bool = False):
        self.payload = payload
        self.continuable = continuable
        super().__init__(describe_payload(payload), span, backtrace, abbreviated=True)


class SchemeDifferentiationError(SchemeError):
    """A derivative that cannot be taken: a singular point, an operator used on the wrong kind
    of function or argument."""


class InternalError(NablispError):
    """A bug in nablisp itself, reported as such instead of a Python traceback."""

    kind = "internal error"


class ResourceLimitExceeded(BaseException):
    """A step or time limit ran out: stops the program whatever handlers it installed (a
    BaseException, like SchemeExit), and becomes a NablispError at the interpreter's boundary."""


class ResourceLimitError(NablispError):
    kind = "error"


class SchemeExit(BaseException):
    """`(exit n)`: unwinds to the front end, which exits with ``code``.  A BaseException, so that
    no handler for errors (`guard`, `with-exception-handler`) stops it."""

    def __init__(self, code: int, emergency: bool = False):
        super().__init__(code)
        self.code = code
        self.emergency = emergency    # `emergency-exit`: no dynamic-wind `after` runs on the way


class ContinuationInvoked(BaseException):
    """An escaping continuation was called: unwinds to the `call/cc` that made it (a
    BaseException for the same reason as SchemeExit)."""

    def __init__(self, continuation, values):
        super().__init__()
        self.continuation = continuation
        self.values = values


def describe_payload(payload) -> str:
    if isinstance(payload, ErrorObject):
        return payload.describe()
    return "uncaught exception: " + abbreviated_write_string(payload, ERROR_VALUE_WIDTH)


def fail(message: str, *irritants):
    """Raise a run-time error from a primitive; the message names the primitive."""
    raise SchemeError(ErrorObject(message, irritants))


# ---------------------------------------------------------------------------------------------
# Python's messages about calls, in Scheme's words.

_ARITY_PATTERNS = [
    (re.compile(r"^(.*)\(\) takes (\d+) positional arguments? but (\d+) (?:was|were) given$"),
     lambda m: f"{m[1]}: expected {m[2]} argument{'s' if m[2] != '1' else ''}, got {m[3]}"),
    (re.compile(r"^(.*)\(\) takes from (\d+) to (\d+) positional arguments but (\d+) were given$"),
     lambda m: f"{m[1]}: expected {m[2]} to {m[3]} arguments, got {m[4]}"),
    (re.compile(r"^(.*)\(\) missing (\d+) required positional arguments?.*$"),
     lambda m: f"{m[1]}: too few arguments ({m[2]} missing)"),
    (re.compile(r"^(.*)\(\) takes no arguments \((\d+) given\)$"),
     lambda m: f"{m[1]}: expected no arguments, got {m[2]}"),
    (re.compile(r"^(.*)\(\) got an unexpected keyword argument.*$"),
     lambda m: f"{m[1]}: wrong arguments"),
    (re.compile(r"^'(\w+)' object is not callable$"),
     lambda m: f"not a procedure: {_python_type_phrase(m[1])} cannot be applied"),
]


def _python_type_phrase(type_name: str) -> str:
    return {"int": "an integer", "float": "a real number", "Fraction": "a rational", "str": "a string",
            "bool": "a boolean", "Symbol": "a symbol", "Pair": "a pair", "NilType": "the empty list",
            "list": "a vector", "Char": "a character", "NoneType": "the unspecified value",
            "Record": "a record", "Promise": "a promise", "ErrorObject": "an error object",
            "EofObject": "the eof object", "RecordType": "a record type",
            "Environment": "an environment", "Dual": "a number", "Tracked": "a number",
            "MutableString": "a string", "Parameter": "a parameter", "Continuation": "a continuation",
            }.get(type_name, f"a {type_name}")


def procedure_name(python_name: str) -> str:
    """The Scheme name of a procedure from its Python (qualified) name: compiled procedures
    are named `name λN` inside the functions that create them."""
    name = python_name.rsplit(".<locals>.", 1)[-1]
    return re.sub(r" λ\d+$", "", name)


def call_error_message(message: str) -> str | None:
    """The Scheme reading of a TypeError raised by a call in generated code, or None."""
    for pattern, render in _ARITY_PATTERNS:
        match = pattern.match(message)
        if match:
            text = render(match)
            head, sep, rest = text.partition(": ")
            return procedure_name(head) + sep + rest if sep and "(" not in head else text
    return None


_UNBOUND_GLOBAL = re.compile(r"^name '(.*)' is not defined$")
_UNASSIGNED_LOCAL = re.compile(r"^(?:cannot access (?:local|free) variable|(?:local|free) variable) "
                               r"'(.*?)(?: \d+)?' (?:where it is not associated|referenced before)")


def unbound_global_name(error: BaseException) -> str | None:
    """The global name (library prefix and all) a NameError of compiled code is about, or None."""
    if not isinstance(error, NameError):
        return None
    match = _UNBOUND_GLOBAL.match(str(error))
    return match[1] if match else None


def python_error_message(error: BaseException) -> str | None:
    """What a Python exception raised by compiled code means in Scheme's words (None: unknown)."""
    text = str(error)
    if isinstance(error, DifferentiationError):
        return text
    if isinstance(error, RecursionError):
        return "recursion too deep (the program nests calls deeper than the stack allows)"
    if isinstance(error, NameError):
        match = _UNASSIGNED_LOCAL.match(text)
        if match:
            return f"{match[1]}: variable used before its definition"
        match = _UNBOUND_GLOBAL.match(text)
        if match:
            from .libraries import display_name
            # the message stops at a NUL in the name; `name` holds all of it
            return f"unbound variable: {display_name(getattr(error, 'name', None) or match[1])}"
        return None
    if isinstance(error, TypeError):
        return call_error_message(text)
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, OverflowError):
        return "numeric overflow: " + text
    if isinstance(error, MemoryError):
        return "out of memory"
    return None


def condition_of(error: BaseException):
    """The Scheme object a handler (`guard`, `with-exception-handler`) receives for ``error``."""
    if isinstance(error, SchemeError):
        return error.payload
    if isinstance(error, NablispError):
        return ErrorObject(error.message)
    return ErrorObject(python_error_message(error) or f"{type(error).__name__}: {error}")
