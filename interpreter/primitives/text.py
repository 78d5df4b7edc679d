"""Symbols (§6.5), characters (§6.6) and strings (§6.7).

Strings are Python `str` — literals and most results, immutable — or `MutableString`, which
`make-string`, `string`, `string-copy` and `list->string` make and `string-set!`,
`string-fill!` and `string-copy!` change.  Every procedure reads both.
"""

from __future__ import annotations

import unicodedata

from ...ad.tags import plain
from ...lang.datum import Char, MutableString, Nil, Pair, Symbol, gensym, make_list
from ...lang.printer import write_string
from ..limits import reserve_items
from ..errors import fail
from ..runtime import apply_procedure, check_procedure
from .lists import check_list
from .registry import define


def check_string(who: str, value) -> str:
    """The text of a string argument (of either kind)."""
    if value.__class__ is str:
        return value
    if value.__class__ is MutableString:
        return str(value)
    fail(f"{who}: expected a string, got {write_string(value)}")


def check_mutable(who: str, value) -> MutableString:
    if value.__class__ is MutableString:
        return value
    if value.__class__ is str:
        fail(f"{who}: {write_string(value)} is immutable (a literal or a result that is not a fresh "
             "string); make one with string-copy")
    fail(f"{who}: expected a string, got {write_string(value)}")


def check_char(who: str, value) -> Char:
    if value.__class__ is Char:
        return value
    fail(f"{who}: expected a character, got {write_string(value)}")


def text_range(who, text, start, end):
    length = len(text)
    start, end = plain(start), length if end is None else plain(end)
    for value in (start, end):
        if value.__class__ is not int:
            fail(f"{who}: expected an exact integer index, got {write_string(value)}")
    if not 0 <= start <= end <= length:
        fail(f"{who}: range [{start}, {end}) is out of bounds for length {length}")
    return start, end


# -- symbols ------------------------------------------------------------------------------------

@define("symbol?", signature="(symbol? obj)",
        doc="Whether obj is a symbol.")
def symbol_p(x):
    return x.__class__ is Symbol


@define("symbol=?", signature="(symbol=? symbol1 symbol2 symbol …)",
        doc="Whether the symbols are all the same symbol.")
def symbol_eq(a, b, *more):
    args = (a, b) + more
    for value in args:
        if value.__class__ is not Symbol:
            fail(f"symbol=?: expected a symbol, got {write_string(value)}")
    return all(x is a for x in args)


@define("symbol->string", signature="(symbol->string symbol)",
        doc="The name of symbol as a string.")
def symbol_to_string(symbol):
    if symbol.__class__ is not Symbol:
        fail(f"symbol->string: expected a symbol, got {write_string(symbol)}")
    return symbol.name


@define("string->symbol", signature="(string->symbol string)",
        doc="The symbol whose name is string.")
def string_to_symbol(text):
    return Symbol(check_string("string->symbol", text))


@define("gensym", "generate-uninterned-symbol", signature="(gensym [prefix])",
        doc="A new uninterned symbol named after prefix (a string or symbol, g by default) and a "
            "counter: no other symbol is eq? to it, not even one string->symbol makes of its name; for "
            "macros and generated code. generate-uninterned-symbol is the same procedure.")
def gensym_(prefix="g"):
    return gensym(prefix.name if prefix.__class__ is Symbol else str(prefix))


# -- characters ---------------------------------------------------------------------------------

@define("char?", signature="(char? obj)",
        doc="Whether obj is a character.")
def char_p(x):
    return x.__class__ is Char


def _char_compare(name, key, op, meaning):
    def compare(a, b, *more):
        args = (a, b) + more
        codes = [key(check_char(name, c)) for c in args]
        return all(op(x, y) for x, y in zip(codes, codes[1:]))
    how = "by Unicode code point after case folding (ignoring case)" if "-ci" in name else "by Unicode code point"
    define(name, signature=f"({name} char1 char2 char …)",
           doc=f"Whether the characters are {meaning}, {how}.")(compare)


def _fold(c: Char) -> int:
    return ord(chr(c.code).casefold()[0])


_ORDERS = [("=?", lambda x, y: x == y, "all equal"), ("<?", lambda x, y: x < y, "strictly increasing"),
           (">?", lambda x, y: x > y, "strictly decreasing"), ("<=?", lambda x, y: x <= y, "non-decreasing"),
           (">=?", lambda x, y: x >= y, "non-increasing")]

for _name, _op, _meaning in _ORDERS:
    _char_compare("char" + _name, lambda c: c.code, _op, _meaning)
    _char_compare("char-ci" + _name, _fold, _op, _meaning)


@define("char-alphabetic?", signature="(char-alphabetic? char)",
        doc="Whether char is a letter (Unicode alphabetic).")
def char_alphabetic(c):
    return chr(check_char("char-alphabetic?", c).code).isalpha()


@define("char-numeric?", signature="(char-numeric? char)",
        doc="Whether char is a decimal digit (Unicode category Nd).")
def char_numeric(c):
    return unicodedata.category(chr(check_char("char-numeric?", c).code)) == "Nd"


@define("char-whitespace?", signature="(char-whitespace? char)",
        doc="Whether char is white space: space, tab, newline, return and the other Unicode spaces.")
def char_whitespace(c):
    return chr(check_char("char-whitespace?", c).code).isspace()


@define("char-upper-case?", signature="(char-upper-case? char)",
        doc="Whether char is an upper-case letter.")
def char_upper(c):
    return chr(check_char("char-upper-case?", c).code).isupper()


@define("char-lower-case?", signature="(char-lower-case? char)",
        doc="Whether char is a lower-case letter.")
def char_lower(c):
    return chr(check_char("char-lower-case?", c).code).islower()


@define("digit-value", signature="(digit-value char)",
        doc="The value (0 to 9) of the decimal digit char, or #f when char is not a digit.")
def digit_value(c):
    text = chr(check_char("digit-value", c).code)
    return unicodedata.digit(text) if unicodedata.category(text) == "Nd" else False


@define("char->integer", signature="(char->integer char)",
        doc="The Unicode code point of char.")
def char_to_integer(c):
    return check_char("char->integer", c).code


@define("integer->char", signature="(integer->char n)",
        doc="The character whose Unicode code point is n (a Unicode scalar value).")
def integer_to_char(n):
    n = plain(n)
    if n.__class__ is not int or not (0 <= n <= 0x10FFFF) or 0xD800 <= n <= 0xDFFF:
        fail(f"integer->char: expected a Unicode scalar value, got {write_string(n)}")
    return Char(n)


def _case_map(who, function, meaning):
    def mapped(c):
        text = function(chr(check_char(who, c).code))
        return Char(ord(text)) if len(text) == 1 else c
    define(who, signature=f"({who} char)",
           doc=f"The {meaning} of char (Unicode's simple mapping), or char itself when it has none "
               "that is one character.")(mapped)


_case_map("char-upcase", str.upper, "upper-case form")
_case_map("char-downcase", str.lower, "lower-case form")
_case_map("char-foldcase", str.casefold, "case-folded form (for comparisons that ignore case)")


# -- strings ------------------------------------------------------------------------------------

@define("string?", signature="(string? obj)",
        doc="Whether obj is a string.")
def string_p(x):
    return x.__class__ is str or x.__class__ is MutableString


@define("make-string", signature="(make-string k [char])",
        doc="A new mutable string of k characters, each char (a space when not given).")
def make_string(k, fill=None):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"make-string: expected a non-negative exact integer, got {write_string(k)}")
    char = " " if fill is None else chr(check_char("make-string", fill).code)
    reserve_items(k, "make-string", 4)
    return MutableString(char * k)


@define("string", signature="(string char …)",
        doc="A new mutable string of the characters.")
def string(*chars):
    return MutableString("".join(chr(check_char("string", c).code) for c in chars))


@define("string-length", signature="(string-length string)",
        doc="The number of characters of string.")
def string_length(text):
    if text.__class__ is MutableString:
        return len(text.chars)
    return len(check_string("string-length", text))


@define("string-ref", signature="(string-ref string k)",
        doc="The character of string at index k, counting from 0.")
def string_ref(text, k):
    chars = text.chars if text.__class__ is MutableString else check_string("string-ref", text)
    k = plain(k)
    if k.__class__ is not int or not 0 <= k < len(chars):
        fail(f"string-ref: index {write_string(k)} out of range for a string of length {len(chars)}")
    return Char(ord(chars[k]))


@define("string-set!", signature="(string-set! string k char)",
        doc="Store char at index k of the mutable string string (string literals are immutable).")
def string_set(text, k, char):
    chars = check_mutable("string-set!", text).chars
    k = plain(k)
    if k.__class__ is not int or not 0 <= k < len(chars):
        fail(f"string-set!: index {write_string(k)} out of range for a string of length {len(chars)}")
    chars[k] = chr(check_char("string-set!", char).code)


@define("string-fill!", signature="(string-fill! string char [start [end]])",
        doc="Store char at every index of string from start to end (the whole string by default).")
def string_fill(text, char, start=0, end=None):
    chars = check_mutable("string-fill!", text).chars
    start, end = text_range("string-fill!", chars, start, end)
    fill = chr(check_char("string-fill!", char).code)
    for index in range(start, end):
        chars[index] = fill


def _string_compare(name, key, op, meaning):
    def compare(a, b, *more):
        args = [key(check_string(name, s)) for s in (a, b) + more]
        return all(op(x, y) for x, y in zip(args, args[1:]))
    how = " after case folding (ignoring case)" if "-ci" in name else ""
    define(name, signature=f"({name} string1 string2 string …)",
           doc=f"Whether the strings are {meaning}, compared lexicographically by code point{how}.")(compare)


for _name, _op, _meaning in _ORDERS:
    _string_compare("string" + _name, lambda s: s, _op, _meaning)
    _string_compare("string-ci" + _name, str.casefold, _op, _meaning)


@define("string-upcase", signature="(string-upcase string)",
        doc="A new string, string in upper case.")
def string_upcase(text):
    return check_string("string-upcase", text).upper()


@define("string-downcase", signature="(string-downcase string)",
        doc="A new string, string in lower case.")
def string_downcase(text):
    return check_string("string-downcase", text).lower()


@define("string-foldcase", signature="(string-foldcase string)",
        doc="A new string, string case-folded (for comparisons that ignore case).")
def string_foldcase(text):
    return check_string("string-foldcase", text).casefold()


@define("substring", signature="(substring string start [end])",
        doc="A new string of the characters of string from index start up to (not including) end, the "
            "end by default.")
def substring(text, start, end=None):
    text = check_string("substring", text)
    start, end = text_range("substring", text, start, end)
    return text[start:end]


@define("string-append", signature="(string-append string …)",
        doc="A new string of the characters of every string in turn.")
def string_append(*texts):
    return "".join(check_string("string-append", t) for t in texts)


@define("string->list", signature="(string->list string [start [end]])",
        doc="A list of the characters of string from start to end.")
def string_to_list(text, start=0, end=None):
    text = check_string("string->list", text)
    start, end = text_range("string->list", text, start, end)
    return make_list(Char(ord(c)) for c in text[start:end])


@define("list->string", signature="(list->string list)",
        doc="A new string of the characters of list.")
def list_to_string(chars):
    return MutableString("".join(chr(check_char("list->string", c).code)
                                 for c in check_list("list->string", chars)))


@define("string-copy", signature="(string-copy string [start [end]])",
        doc="A new mutable string of the characters of string from start to end.")
def string_copy(text, start=0, end=None):
    text = check_string("string-copy", text)
    start, end = text_range("string-copy", text, start, end)
    return MutableString(text[start:end])


@define("string-copy!", signature="(string-copy! to at from [start [end]])",
        doc="Copy the characters of from between start and end into the mutable string to, from index "
            "at on.")
def string_copy_bang(to, at, source, start=0, end=None):
    chars = check_mutable("string-copy!", to).chars
    text = check_string("string-copy!", source)
    start, end = text_range("string-copy!", text, start, end)
    at = plain(at)
    if at.__class__ is not int or not 0 <= at <= len(chars) - (end - start):
        fail(f"string-copy!: destination index {write_string(at)} leaves too little room")
    chars[at:at + end - start] = list(text[start:end])


@define("string->vector", signature="(string->vector string [start [end]])",
        doc="A vector of the characters of string from start to end.")
def string_to_vector(text, start=0, end=None):
    text = check_string("string->vector", text)
    start, end = text_range("string->vector", text, start, end)
    return [Char(ord(c)) for c in text[start:end]]


@define("vector->string", signature="(vector->string vector [start [end]])",
        doc="A new string of the characters in vector from start to end.")
def vector_to_string(vector, start=0, end=None):
    if vector.__class__ is not list:
        fail(f"vector->string: expected a vector, got {write_string(vector)}")
    start, end = plain(start), len(vector) if end is None else plain(end)
    if start.__class__ is not int or end.__class__ is not int or not 0 <= start <= end <= len(vector):
        fail("vector->string: range out of bounds")
    return "".join(chr(check_char("vector->string", c).code) for c in vector[start:end])


def _strings_as_lists(who, texts):
    return [check_string(who, t) for t in texts]


@define("string-map", signature="(string-map proc string1 string …)",
        doc="A new string of (proc char …) for the characters at each index of the strings, until the "
            "shortest ends.")
def string_map(proc, text, *more):
    texts = _strings_as_lists("string-map", (text,) + more)
    out = []
    for chars in zip(*texts):
        result = apply_procedure(proc, tuple(Char(ord(c)) for c in chars))
        out.append(chr(check_char("string-map", result).code))
    return "".join(out)


@define("string-for-each", signature="(string-for-each proc string1 string …)",
        doc="Call proc on the characters at each index of the strings in turn, for effect, until the "
            "shortest ends.")
def string_for_each(proc, text, *more):
    texts = _strings_as_lists("string-for-each", (text,) + more)
    for chars in zip(*texts):
        apply_procedure(proc, tuple(Char(ord(c)) for c in chars))


@define("string-index", signature="(string-index string pred)",
        doc="The index of the first character of string that satisfies pred, or #f.")
def string_index(text, predicate):
    text = check_string("string-index", text)
    check_procedure("string-index", predicate)
    for index, c in enumerate(text):
        if apply_procedure(predicate, (Char(ord(c)),)) is not False:
            return index
    return False


@define("string-contains", signature="(string-contains string pattern)",
        doc="The index where pattern first occurs in string, or #f.")
def string_contains(text, pattern):
    index = check_string("string-contains", text).find(check_string("string-contains", pattern))
    return False if index < 0 else index


@define("string-join", signature="(string-join list [separator])",
        doc="The strings of list joined into one, with separator (a space by default) between them.")
def string_join(texts, separator=" "):
    return check_string("string-join", separator).join(
        check_string("string-join", t) for t in check_list("string-join", texts))


@define("string-split", signature="(string-split string [separator])",
        doc="A list of the parts of string between occurrences of separator (a string or character); "
            "without one, the words of string between runs of white space.")
def string_split(text, separator=None):
    text = check_string("string-split", text)
    if separator is None:
        return make_list(text.split())
    sep = chr(check_char("string-split", separator).code) if separator.__class__ is Char else check_string("string-split", separator)
    return make_list(text.split(sep))


@define("string-null?", signature="(string-null? string)",
        doc="Whether string is empty.")
def string_null(text):
    return check_string("string-null?", text) == ""


__all__ = ["check_string", "check_char", "Nil", "Pair"]
