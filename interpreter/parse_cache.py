"""The start-up cache: the parse of the standard library's files, kept in the user's cache directory.

Reading is most of the start-up time, so the datums of each library file are stored — as JSON,
data only: whoever can write to the cache directory can make nablisp read wrong data (then it
reads the file itself), never run code.  Every entry is checked on the way in; anything not
exactly the shape written here makes the entry be ignored.

    datum      JSON
    string     string            boolean  true / false      integer, real   number (±inf, nan too)
    symbol     ["y", name]       char     ["c", code]       exact ratio     ["q", numerator, denominator]
    ()         ["n"]             vector   ["v", [datum…]]   bytevector      ["b", [byte…]]
    pairs      ["l", [car…], cdr, [span…]]   one entry for a whole chain of pairs, each with its
                                             span: [file number, line, column] or null
"""

from __future__ import annotations

import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path

from ..lang.datum import Char, Nil, Pair, Span, Symbol, make_pair
from ..lang.reader import read_all

FORMAT = 1


class _Unsupported(Exception):
    """A datum the cache does not store (shared structure, an unusual type): read the file."""


def read_cached(source: str, filename: str) -> list:
    """``read_all`` of a library file, through the cache (any failure of the cache just means
    reading the file)."""
    from .. import __version__
    key = hashlib.sha256(f"{__version__}\0{filename}\0{source}".encode()).hexdigest()[:24]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    cache = Path(base) / "nablisp" / f"{key}.json"
    try:
        with open(cache, "r", encoding="utf-8") as handle:
            return decode(json.load(handle), key)
    except Exception:       # missing, unreadable or not what we wrote: read the file instead
        pass
    data = read_all(source, filename)
    try:
        text = json.dumps(encode(data, key), separators=(",", ":"))
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, cache)
    except Exception:
        pass
    return data


# -- writing -------------------------------------------------------------------------------------

def encode(data: list, key: str) -> dict:
    files: dict[str, int] = {}
    seen: set[int] = set()

    def span(where):
        if where is None:
            return None
        number = files.setdefault(where.file, len(files))
        return [number, where.line, where.column]

    def datum(x):
        cls = x.__class__
        if cls is str or cls is bool or cls is int or cls is float:
            return x
        if cls is Symbol:
            return ["y", x.name]
        if cls is Char:
            return ["c", x.code]
        if cls is Fraction:
            return ["q", x.numerator, x.denominator]
        if x is Nil:
            return ["n"]
        if cls is list or cls is bytearray or cls is Pair:
            if id(x) in seen:
                raise _Unsupported("shared structure")
            seen.add(id(x))
        if cls is list:
            return ["v", [datum(item) for item in x]]
        if cls is bytearray:
            return ["b", list(x)]
        if cls is Pair:
            cars, spans = [], []
            while x.__class__ is Pair:
                if id(x) in seen and cars:
                    raise _Unsupported("shared structure")
                seen.add(id(x))
                cars.append(datum(x.car))
                spans.append(span(x.span))
                x = x.cdr
            return ["l", cars, datum(x), spans]
        raise _Unsupported(cls.__name__)

    # the span of a form is its first pair's own (null: the same object)
    forms = [[datum(x), None if x.__class__ is Pair and where is x.span else span(where)] for x, where in data]
    return {"format": FORMAT, "key": key, "files": list(files), "forms": forms}


# -- reading -------------------------------------------------------------------------------------

def decode(stored, key: str) -> list:
    """The datums of a cache entry; ValueError when it is not exactly what `encode` writes."""
    if not (isinstance(stored, dict) and stored.get("format") == FORMAT and stored.get("key") == key):
        raise ValueError("not an entry of this cache")
    files = stored.get("files")
    forms = stored.get("forms")
    if not (isinstance(files, list) and all(isinstance(name, str) for name in files) and isinstance(forms, list)):
        raise ValueError("malformed entry")

    def span(where):
        if where is None:
            return None
        if not (isinstance(where, list) and len(where) == 3 and all(type(n) is int for n in where)
                and 0 <= where[0] < len(files)):
            raise ValueError("malformed span")
        return Span(files[where[0]], where[1], where[2])

    def datum(x):
        cls = x.__class__
        if cls is str or cls is bool or cls is int or cls is float:
            return x
        if cls is not list or not x or x[0].__class__ is not str:
            raise ValueError("malformed datum")
        tag, arguments = x[0], x[1:]
        if tag == "y" and len(arguments) == 1 and type(arguments[0]) is str:
            return Symbol(arguments[0])
        if tag == "c" and len(arguments) == 1 and type(arguments[0]) is int and 0 <= arguments[0] <= 0x10FFFF:
            return Char(arguments[0])
        if tag == "q" and len(arguments) == 2 and all(type(n) is int for n in arguments) and arguments[1] > 1:
            return Fraction(arguments[0], arguments[1])
        if tag == "n" and not arguments:
            return Nil
        if tag == "v" and len(arguments) == 1 and type(arguments[0]) is list:
            return [datum(item) for item in arguments[0]]
        if tag == "b" and len(arguments) == 1 and type(arguments[0]) is list and \
                all(type(n) is int and 0 <= n < 256 for n in arguments[0]):
            return bytearray(arguments[0])
        if tag == "l" and len(arguments) == 3 and type(arguments[0]) is list and type(arguments[2]) is list \
                and len(arguments[0]) == len(arguments[2]) and arguments[0]:
            result = datum(arguments[1])
            for car, where in zip(reversed(arguments[0]), reversed(arguments[2])):
                result = make_pair(datum(car), result, span(where))
            return result
        raise ValueError("malformed datum")

    data = []
    for form in forms:
        if not (isinstance(form, list) and len(form) == 2):
            raise ValueError("malformed form")
        x = datum(form[0])
        data.append((x, x.span if form[1] is None and x.__class__ is Pair else span(form[1])))
    return data
