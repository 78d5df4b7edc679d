"""Binary input and output (R7RS §6.13): bytes from and to bytevector ports and binary file
ports.  The current ports are textual, so these procedures need a port argument in practice."""

from __future__ import annotations

from ...lang.datum import EOF
from ...lang.printer import write_string
from ..errors import fail
from .bytevectors import check_byte, check_bytevector, check_count
from .ports import CURRENT_INPUT, CURRENT_OUTPUT, BinaryInputPort, BinaryOutputPort, check_open
from .registry import define
from .text import text_range


def binary_input(port, who) -> BinaryInputPort:
    if port is None:
        port = CURRENT_INPUT.value
    if port.__class__ is not BinaryInputPort:
        fail(f"{who}: expected a binary input port, got {write_string(port)}")
    return check_open(port, who)


def binary_output(port, who) -> BinaryOutputPort:
    if port is None:
        port = CURRENT_OUTPUT.value
    if port.__class__ is not BinaryOutputPort:
        fail(f"{who}: expected a binary output port, got {write_string(port)}")
    return check_open(port, who)


@define("open-input-bytevector", signature="(open-input-bytevector bytevector)",
        doc="A binary input port that reads the bytes of bytevector.")
def open_input_bytevector(bv):
    # a copy: what the port delivers does not change when the bytevector does later
    return BinaryInputPort(bytes(check_bytevector("open-input-bytevector", bv)))


@define("open-output-bytevector", signature="(open-output-bytevector)",
        doc="A new binary output port that collects the bytes written to it, for "
            "get-output-bytevector.")
def open_output_bytevector():
    return BinaryOutputPort()


@define("get-output-bytevector", signature="(get-output-bytevector port)",
        doc="A bytevector of the bytes written so far to port, an output bytevector port.")
def get_output_bytevector(port):
    if port.__class__ is not BinaryOutputPort or port.stream is not None:
        fail(f"get-output-bytevector: expected a bytevector output port, got {write_string(port)}")
    return bytearray(port.data)


@define("read-u8", signature="(read-u8 [port])",
        doc="The next byte of the binary input port port (the current input port by default), "
            "consumed; the end-of-file object at the end.")
def read_u8(port=None):
    return binary_input(port, "read-u8").read_byte()


@define("peek-u8", signature="(peek-u8 [port])",
        doc="The next byte of the binary input port port, left to be read; the end-of-file object at "
            "the end.")
def peek_u8(port=None):
    return binary_input(port, "peek-u8").peek()


@define("u8-ready?", signature="(u8-ready? [port])",
        doc="Whether a byte can be read from port without waiting; always #t in nablisp, whose reads "
            "wait.")
def u8_ready(port=None):
    binary_input(port, "u8-ready?")
    return True     # a bytevector or a file never keeps a reader waiting


@define("read-bytevector", signature="(read-bytevector k [port])",
        doc="A bytevector of the next k bytes of port (fewer at its end); the end-of-file object when "
            "none is left.")
def read_bytevector(k, port=None):
    k = check_count("read-bytevector", k)
    data = binary_input(port, "read-bytevector").read(k)
    return bytearray(data) if data or k == 0 else EOF


@define("read-bytevector!", signature="(read-bytevector! bytevector [port [start [end]]])",
        doc="Read bytes from port into bytevector from start to end; the number of bytes read, or the "
            "end-of-file object when none was left.")
def read_bytevector_bang(bv, port=None, start=0, end=None):
    check_bytevector("read-bytevector!", bv)
    source = binary_input(port, "read-bytevector!")
    start, end = text_range("read-bytevector!", bv, start, end)
    if start == end:
        return 0
    data = source.read(end - start)
    if not data:
        return EOF
    bv[start:start + len(data)] = data
    return len(data)


@define("write-u8", signature="(write-u8 byte [port])",
        doc="Write byte to the binary output port port (the current output port by default).")
def write_u8(byte, port=None):
    byte = check_byte("write-u8", byte)
    binary_output(port, "write-u8").write(bytes((byte,)))


@define("write-bytevector", signature="(write-bytevector bytevector [port [start [end]]])",
        doc="Write the bytes of bytevector from start to end to the binary output port port.")
def write_bytevector(bv, port=None, start=0, end=None):
    check_bytevector("write-bytevector", bv)
    start, end = text_range("write-bytevector", bv, start, end)
    binary_output(port, "write-bytevector").write(bytes(bv[start:end]))
