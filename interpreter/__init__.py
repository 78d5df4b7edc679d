"""The nablisp interpreter: expander, compiler, runtime, primitives and front ends."""

from ..lang.datum import Char, MultipleValues, Pair, Symbol
from .collector import settle_collector
from .embedding import Procedure
from .errors import (InternalError, NablispError, SchemeDifferentiationError, SchemeError,
                     SchemeReadError, SchemeSyntaxError)
from .interpreter import Interpreter, run_with_deep_stack

__all__ = ["Interpreter", "Procedure", "NablispError", "SchemeError", "SchemeReadError",
           "SchemeSyntaxError", "SchemeDifferentiationError", "InternalError",
           "run_with_deep_stack", "settle_collector", "Symbol", "Char", "Pair", "MultipleValues"]
