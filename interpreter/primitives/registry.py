"""How a Python function becomes a nablisp primitive, with its documentation.

`define("car")` names the function the way error messages should name it: Python's own
arity errors then read `car() takes 1 positional argument…`, which errors.py rewords.

A primitive's documentation is declared where it is defined, `define("car", signature="(car
pair)", doc="…")`, so that it cannot drift into a list of its own; interpreter/documentation.py
reads it from here.
"""

from __future__ import annotations

BUILTINS: dict[str, object] = {}
TAIL_BUILDERS: set[str] = set()   # primitives that return a TailCall for compiled code to finish
DOCUMENTATION: dict[str, tuple[str, str]] = {}   # name → (signature, paragraph)
ALIASES: dict[str, str] = {}      # another name → the name it is documented under


def name_function(function, name: str):
    function.__name__ = name
    function.__qualname__ = name
    code = function.__code__
    try:
        function.__code__ = code.replace(co_name=name, co_qualname=name)
    except TypeError:       # Python 3.10: no co_qualname
        function.__code__ = code.replace(co_name=name)
    return function


def document(name: str, signature: str, doc: str, aliases=()):
    """Record what ``name`` takes (``signature``: one or more forms such as `(atan y [x])`, where
    `[…]` is optional and `…` repeats) and what it does (one paragraph)."""
    if not signature.startswith("(") or not doc:
        raise ValueError(f"documentation of {name}: a signature in parentheses and a paragraph")
    DOCUMENTATION[name] = (signature, doc)
    for alias in aliases:
        ALIASES[alias] = name


def define(*names: str, tail_builder: bool = False, signature: str | None = None, doc: str | None = None):
    """Register the decorated function under each of ``names`` (the first names it; the others
    are aliases, documented with it)."""
    def register(function):
        name_function(function, names[0])
        for name in names:
            BUILTINS[name] = function
            if tail_builder:
                TAIL_BUILDERS.add(name)
        if doc is not None:
            document(names[0], signature or "", doc, names[1:])
        return function
    return register
