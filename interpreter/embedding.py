"""Values crossing between Python and nablisp (the rules README.md documents).

    Python                          nablisp
    int, fractions.Fraction, float  exact integer, exact rational, inexact real
    bool                            boolean
    str                             string          (a mutable string comes back as a str too)
    list                            list            (a nablisp list comes back as a Python list)
    tuple                           vector          (a vector comes back as a tuple)
    None                            the unspecified value
    callable                        procedure       (a nablisp procedure comes back as a
                                                    `Procedure`, a Python callable)
    numpy array / numpy scalar      list / number   (when numpy is installed; never required)

Symbols and characters stay `Symbol` and `Char` objects; an improper or circular list stays a
`Pair`; several values come back as a `MultipleValues` (a tuple subclass).
"""

from __future__ import annotations

from fractions import Fraction

from ..ad.tags import Dual, Tracked, live_value, plain
from ..lang.datum import MultipleValues, MutableString, Nil, Pair, list_to_python, make_list
from .runtime import apply_procedure


class Procedure:
    """A nablisp procedure seen from Python: call it with Python values, get Python values."""

    __slots__ = ("interp", "procedure", "__weakref__")

    def __init__(self, interp, procedure):
        self.interp = interp
        self.procedure = procedure

    def __call__(self, *args):
        return self.interp.call(self.procedure, *args)

    @property
    def __name__(self) -> str:
        return getattr(self.procedure, "__name__", "procedure").split(" λ")[0]

    def __repr__(self) -> str:
        return f"<nablisp procedure {self.__name__}>"


def to_scheme(value):
    """A Python value as nablisp sees it."""
    cls = value.__class__
    if cls in (int, float, Fraction, bool, str) or value is None:
        return value
    if cls is list:
        return make_list(to_scheme(item) for item in value)
    if cls is tuple:
        return [to_scheme(item) for item in value]
    if cls is Procedure:
        return value.procedure
    if hasattr(value, "dtype") and hasattr(value, "tolist"):     # numpy arrays and scalars
        return to_scheme(value.tolist())
    if isinstance(value, (list, tuple)) and not isinstance(value, MultipleValues):
        return to_scheme(list(value) if isinstance(value, list) else tuple(value))
    return value


class PerturbedForPython(Exception):
    """A number being differentiated met on its way to Python code, which cannot carry it."""


def to_python(interp, value):
    """A nablisp value as Python sees it.  A number whose perturbations are all closed is the
    number it stands for; one still being differentiated cannot cross (PerturbedForPython)."""
    cls = value.__class__
    if cls in (int, float, Fraction, bool, str) or value is None:
        return value
    if cls is Dual or cls is Tracked:
        number = live_value(value)
        if number.__class__ is Dual or number.__class__ is Tracked:
            raise PerturbedForPython(plain(number))
        return number
    if value is Nil:
        return []
    if cls is Pair:
        items = list_to_python(value)
        if items is None:
            return value
        return [to_python(interp, item) for item in items]
    if cls is list:
        return tuple(to_python(interp, item) for item in value)
    if cls is MutableString:
        return str(value)
    if cls is MultipleValues:
        return MultipleValues(to_python(interp, item) for item in value)
    if callable(value) and not isinstance(value, type):
        return Procedure(interp, value)
    return value


def python_procedure(interp, name: str, function):
    """A nablisp procedure that calls the Python ``function`` with Python values."""
    from ..lang.printer import write_string
    from .errors import ErrorObject, SchemeDifferentiationError, SchemeError

    def procedure(*args):
        try:
            arguments = [to_python(interp, arg) for arg in args]
        except PerturbedForPython as number:
            raise SchemeDifferentiationError(ErrorObject(
                f"{name}: a Python procedure cannot be differentiated through (it was given "
                f"{write_string(number.args[0])}, a number being differentiated); define it with "
                f"Interpreter.define_primitive and its partial derivatives")) from None
        try:
            result = function(*arguments)
        except (SchemeError, KeyboardInterrupt):
            raise
        except Exception as error:
            raise SchemeError(ErrorObject(f"{name}: {type(error).__name__}: {error}")) from error
        return to_scheme(result)
    procedure.__name__ = procedure.__qualname__ = name
    procedure.__doc__ = getattr(function, "__doc__", None)     # what ,doc shows
    procedure.__wrapped__ = function
    return procedure


__all__ = ["Procedure", "to_scheme", "to_python", "python_procedure", "apply_procedure"]
