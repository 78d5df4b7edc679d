"""The nablisp interpreter: expander, compiler, runtime, primitives and front ends."""

from .errors import (InternalError, NablispError, SchemeError, SchemeReadError,
                     SchemeSyntaxError)
from .interpreter import Interpreter, run_with_deep_stack

__all__ = ["Interpreter", "NablispError", "SchemeError", "SchemeReadError", "SchemeSyntaxError",
           "InternalError", "run_with_deep_stack"]
