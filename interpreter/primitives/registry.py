"""How a Python function becomes a nablisp primitive.

`define("car")` names the function the way error messages should name it: Python's own
arity errors then read `car() takes 1 positional argument…`, which errors.py rewords.
"""

from __future__ import annotations

BUILTINS: dict[str, object] = {}
TAIL_BUILDERS: set[str] = set()   # primitives that return a TailCall for compiled code to finish


def name_function(function, name: str):
    function.__name__ = name
    function.__qualname__ = name
    code = function.__code__
    try:
        function.__code__ = code.replace(co_name=name, co_qualname=name)
    except TypeError:       # Python 3.10: no co_qualname
        function.__code__ = code.replace(co_name=name)
    return function


def define(*names: str, tail_builder: bool = False):
    """Register the decorated function under each of ``names`` (the first names it)."""
    def register(function):
        name_function(function, names[0])
        for name in names:
            BUILTINS[name] = function
            if tail_builder:
                TAIL_BUILDERS.add(name)
        return function
    return register
