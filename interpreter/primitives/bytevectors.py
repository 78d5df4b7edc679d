"""Bytevectors (R7RS §6.9): Python `bytearray`s, written `#u8(1 2 3)`.

A byte, an index or a count is looked at under its perturbations (a derivative with respect to
it is 0), as for vectors and strings.
"""

from __future__ import annotations

from ...ad.tags import plain
from ...lang.printer import write_string
from ..limits import reserve_items
from ..errors import fail
from .numbers import check_index
from .registry import define
from .text import check_string, text_range


def check_bytevector(who: str, value) -> bytearray:
    if value.__class__ is bytearray:
        return value
    fail(f"{who}: expected a bytevector, got {write_string(value)}")


def check_byte(who: str, value) -> int:
    byte = plain(value)
    if byte.__class__ is not int or not 0 <= byte <= 255:
        fail(f"{who}: expected a byte (an exact integer from 0 to 255), got {write_string(byte)}")
    return byte


def check_count(who: str, value) -> int:
    count = plain(value)
    if count.__class__ is not int or count < 0:
        fail(f"{who}: expected a non-negative exact integer, got {write_string(count)}")
    return count


@define("bytevector?", signature="(bytevector? obj)",
        doc="Whether obj is a bytevector.")
def bytevector_p(x):
    return x.__class__ is bytearray


@define("make-bytevector", signature="(make-bytevector k [byte])",
        doc="A new bytevector of k bytes, each byte (0 by default).")
def make_bytevector(k, byte=0):
    count = check_count("make-bytevector", k)
    reserve_items(count, "make-bytevector", 1)
    return bytearray([check_byte("make-bytevector", byte)]) * count


@define("bytevector", signature="(bytevector byte …)",
        doc="A new bytevector of the bytes (exact integers 0 to 255).")
def bytevector(*bytes_):
    return bytearray(check_byte("bytevector", byte) for byte in bytes_)


@define("bytevector-length", signature="(bytevector-length bytevector)",
        doc="The number of bytes of bytevector.")
def bytevector_length(bv):
    return len(check_bytevector("bytevector-length", bv))


@define("bytevector-u8-ref", signature="(bytevector-u8-ref bytevector k)",
        doc="The byte at index k of bytevector.")
def bytevector_u8_ref(bv, k):
    check_bytevector("bytevector-u8-ref", bv)
    return bv[check_index("bytevector-u8-ref", k, len(bv))]


@define("bytevector-u8-set!", signature="(bytevector-u8-set! bytevector k byte)",
        doc="Store byte at index k of bytevector.")
def bytevector_u8_set(bv, k, byte):
    check_bytevector("bytevector-u8-set!", bv)
    bv[check_index("bytevector-u8-set!", k, len(bv))] = check_byte("bytevector-u8-set!", byte)


@define("bytevector-copy", signature="(bytevector-copy bytevector [start [end]])",
        doc="A new bytevector of the bytes of bytevector from start to end.")
def bytevector_copy(bv, start=0, end=None):
    check_bytevector("bytevector-copy", bv)
    start, end = text_range("bytevector-copy", bv, start, end)
    return bv[start:end]


@define("bytevector-copy!", signature="(bytevector-copy! to at from [start [end]])",
        doc="Copy the bytes of from between start and end into the bytevector to, from index at on.")
def bytevector_copy_bang(to, at, source, start=0, end=None):
    check_bytevector("bytevector-copy!", to)
    check_bytevector("bytevector-copy!", source)
    start, end = text_range("bytevector-copy!", source, start, end)
    at = plain(at)
    if at.__class__ is not int or not 0 <= at <= len(to) - (end - start):
        fail(f"bytevector-copy!: destination index {write_string(at)} leaves too little room for "
             f"{end - start} bytes in a bytevector of length {len(to)}")
    to[at:at + end - start] = source[start:end]   # the slice is a copy: overlapping ranges work


@define("bytevector-append", signature="(bytevector-append bytevector …)",
        doc="A new bytevector of the bytes of every bytevector in turn.")
def bytevector_append(*bvs):
    result = bytearray()
    for bv in bvs:
        result += check_bytevector("bytevector-append", bv)
    return result


@define("utf8->string", signature="(utf8->string bytevector [start [end]])",
        doc="The string whose UTF-8 encoding is the bytes of bytevector from start to end.")
def utf8_to_string(bv, start=0, end=None):
    check_bytevector("utf8->string", bv)
    start, end = text_range("utf8->string", bv, start, end)
    try:
        return bv[start:end].decode("utf-8")
    except UnicodeDecodeError as error:
        index = start + error.start
        fail(f"utf8->string: the bytes are not UTF-8: byte {bv[index]} at index {index} {error.reason}")


@define("string->utf8", signature="(string->utf8 string [start [end]])",
        doc="A bytevector of the UTF-8 encoding of string from start to end.")
def string_to_utf8(text, start=0, end=None):
    text = check_string("string->utf8", text)
    start, end = text_range("string->utf8", text, start, end)
    try:
        return bytearray(text[start:end].encode("utf-8"))
    except UnicodeEncodeError as error:
        fail(f"string->utf8: character #x{ord(text[start + error.start]):x} at index "
             f"{start + error.start} is a surrogate, which UTF-8 cannot encode")
