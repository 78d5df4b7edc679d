"""The data a nablisp program is made of, and that it computes with.

Numbers are Python ``int`` / ``fractions.Fraction`` / ``float``; strings are ``str``; booleans
are ``bool``; vectors are Python ``list``; the unspecified value is ``None``.  Everything else
that Python has no exact counterpart for is defined here.
"""

from __future__ import annotations


def is_procedure(value) -> bool:
    """Procedures are Python callables (compiled lambdas, primitives, derivative operators'
    results); a class is callable too, but is not a procedure of the language."""
    return callable(value) and not isinstance(value, type)


class Span:
    """Where a datum was read: file name, 1-based line and 1-based column."""

    __slots__ = ("file", "line", "column")

    def __init__(self, file: str, line: int, column: int):
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def __repr__(self) -> str:
        return f"Span({self.file!r}, {self.line}, {self.column})"


class Symbol:
    """An interned symbol: two symbols with the same name are the same object, so `eq?` is `is`."""

    __slots__ = ("name", "__weakref__")
    _table: dict[str, "Symbol"] = {}

    def __new__(cls, name: str) -> "Symbol":
        symbol = cls._table.get(name)
        if symbol is None:
            symbol = object.__new__(cls)
            symbol.name = name
            cls._table[name] = symbol
        return symbol

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"

    def __reduce__(self):
        return (Symbol, (self.name,))


_gensym_counter = 0


def gensym(prefix: str = "g") -> Symbol:
    """A symbol no reader can produce (its name holds a space), for names the system invents."""
    global _gensym_counter
    _gensym_counter += 1
    symbol = object.__new__(Symbol)
    symbol.name = f"{prefix} {_gensym_counter}"
    return symbol


class NilType:
    """The empty list.  A singleton, distinct from ``False`` and from ``None``."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Nil"

    def __bool__(self) -> bool:
        # Scheme's '() is a true value; only #f is false.  Guard against accidental Python truthiness.
        return True

    def __iter__(self):
        return iter(())

    def __reduce__(self):
        return (NilType, ())


Nil = NilType()


class Pair:
    """A cons cell.  ``span`` is where the reader found it, or ``None`` for pairs made at run time.
    Made by ``make_pair`` (no __init__: ad/tags.py says why)."""

    __slots__ = ("car", "cdr", "span")

    def __iter__(self):
        """Iterate over the elements of a proper list (stops at the first non-pair tail)."""
        node = self
        while node.__class__ is Pair:
            yield node.car
            node = node.cdr

    def __repr__(self) -> str:
        from .printer import write_string

        return write_string(self)


class MutableString:
    """A string that `string-set!`, `string-fill!` and `string-copy!` may change: what
    `make-string`, `string`, `string-copy` and `list->string` make.  Literals and the other
    strings are Python `str`, immutable as R7RS allows literals to be."""

    __slots__ = ("chars",)

    def __init__(self, text: str):
        self.chars = list(text)

    def __str__(self) -> str:
        return "".join(self.chars)

    def __repr__(self) -> str:
        return f"MutableString({str(self)!r})"


def is_string(value) -> bool:
    return value.__class__ is str or value.__class__ is MutableString


class Char:
    """A character, interned by code point so that `eq?` works on characters."""

    __slots__ = ("code",)
    _table: dict[int, "Char"] = {}

    def __new__(cls, code: int) -> "Char":
        char = cls._table.get(code)
        if char is None:
            char = object.__new__(cls)
            char.code = code
            cls._table[code] = char
        return char

    @property
    def text(self) -> str:
        return chr(self.code)

    def __repr__(self) -> str:
        return f"Char({chr(self.code)!r})"

    def __reduce__(self):
        return (Char, (self.code,))


class EofObject:
    __slots__ = ()

    def __repr__(self) -> str:
        return "#<eof>"

    def scheme_repr(self, write: bool) -> str:
        return "#<eof>"


EOF = EofObject()


class DefaultObject:
    """What an optional argument holds when the caller left it out."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "#<default>"


DEFAULT = DefaultObject()


class UnsupportedNumber:
    """A complex-number literal in program text.  nablisp has no complex numbers, but a program
    may still mention one where it never runs (a `cond-expand` branch for implementations that
    have them, as R7RS test suites do), so the reader keeps it and evaluating it is the error."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def scheme_repr(self, write: bool) -> str:
        return self.text


class MultipleValues(tuple):
    """The result of `(values a b …)` with other than one value."""

    __slots__ = ()


def make_pair(car, cdr, span: Span | None = None) -> Pair:
    pair = Pair()
    pair.car = car
    pair.cdr = cdr
    pair.span = span
    return pair


def make_list(items, tail=Nil):
    """A Scheme list of the Python iterable ``items`` (built from the end, so no recursion)."""
    result = tail
    for item in reversed(items if items.__class__ is list else list(items)):
        pair = Pair()             # make_pair, written out
        pair.car = item
        pair.cdr = result
        pair.span = None
        result = pair
    return result


def list_to_python(value) -> list | None:
    """The elements of a proper list, or None when ``value`` is not one (improper or circular)."""
    items = []
    slow = node = value
    while node.__class__ is Pair:
        items.append(node.car)
        node = node.cdr
        if len(items) % 2 == 0:
            slow = slow.cdr
            if slow is node and node.__class__ is Pair:
                return None
    return items if node is Nil else None
