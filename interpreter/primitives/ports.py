"""Ports (R7RS §6.13): the four kinds of port object, the current ports, and the textual
procedures — output to the console, strings and files, input from strings, files and standard
input, `display`/`write`/`read`.  Binary input and output are in binary_ports.py, opening files
in file_ports.py.

A port is textual or binary, input or output, and open until closed; a procedure of one kind
refuses a port of another, and every procedure refuses a closed port.  A port over a file owns
its Python stream and closes it when it is closed — at the latest when the process exits.
"""

from __future__ import annotations

import atexit
import sys
import re
import weakref

from ...ad.tags import plain
from ...lang.datum import EOF, Char, EofObject, MultipleValues
from ...lang.printer import (CircularDatumError, display_string, write_shared_string,
                              write_simple_string, write_string)
from ...lang.reader import Reader, ReadError
from ..errors import ErrorObject, SchemeError, fail
from ..files import file_error
from ..runtime import Parameter, apply_procedure, check_procedure
from .registry import define, document
from .text import check_char, check_string, text_range


class Port:
    """What every port has: whether it is open, and the Python stream under it, if any.
    ``path`` names the file of a file port (None for the other ports); such a port owns its
    stream."""

    stream = None
    path: str | None = None
    who = "port"        # the procedure using the port, for the message of a failing read or write

    def close(self):
        if not self.open:
            return
        self.open = False
        if self.path is not None:
            try:
                self.stream.close()
            except OSError as error:
                raise file_error("close-port", "close", self.path, error) from None

    def describe(self, kind: str, memory: str) -> str:
        if self.path is not None:
            return f"#<{kind} {write_string(self.path)}>"
        if self.stream is not None:
            return f"#<{kind} {self.stream.name}>"
        return f"#<{memory}>"


# File ports still open when the process exits are closed then, so that what was written to
# them reaches the file even if the program never closed them.
_FILE_PORTS: weakref.WeakSet = weakref.WeakSet()


def register_file_port(port: Port) -> Port:
    _FILE_PORTS.add(port)
    return port


@atexit.register
def close_file_ports():
    for port in list(_FILE_PORTS):
        try:
            port.close()
        except SchemeError:
            pass


class OutputPort(Port):
    """Textual output: to a Python stream (the console, a file), or collected (a string port)."""

    def __init__(self, stream=None, path: str | None = None):
        self.stream = stream        # None: a string port
        self.path = path
        self.parts: list[str] = []
        self.open = True
        self.column = 0

    def write(self, text: str):
        if self.stream is None:
            self.parts.append(text)
        else:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                raise
            except OSError as error:
                raise file_error(self.who, "write to", self.path or self.stream.name, error) from None
        if text:
            newline = text.rfind("\n")
            self.column = len(text) - newline - 1 if newline >= 0 else self.column + len(text)

    def flush(self):
        if self.stream is not None:
            try:
                self.stream.flush()
            except BrokenPipeError:
                raise
            except OSError as error:
                raise file_error(self.who, "write to", self.path or self.stream.name, error) from None

    def text(self) -> str:
        return "".join(self.parts)

    def scheme_repr(self, write: bool) -> str:
        return self.describe("output-port", "string-output-port")


_LINE_END = re.compile(r"\r\n?|\n")


class BufferedInput(Port):
    """An input port's buffer: ``buffer[position:]`` is what has been fetched and not yet read
    (text or bytes); ``_fill`` fetches more and says whether it found any."""

    def peek(self):
        while self.position >= len(self.buffer):
            if not self._fill():
                return EOF
        return self.buffer[self.position]

    def take(self):
        item = self.peek()
        if item is not EOF:
            self.position += 1
        return item


class InputPort(BufferedInput):
    """Textual input: from a string, or line by line from a Python stream (standard input, a
    file)."""

    def __init__(self, text: str | None = None, stream=None, name="<string>", path: str | None = None):
        self.buffer = text if text is not None else ""
        self.position = 0
        self.stream = stream
        self.path = path
        self.exhausted = stream is None
        self.open = True
        self.name = name
        self.line_base = 0          # lines dropped from the front of the buffer (for `read`)
        self.fold_case = False      # set by #!fold-case in what `read` read

    def _fill(self) -> bool:
        if self.exhausted:
            return False
        try:
            line = self.stream.readline()
        except (OSError, UnicodeDecodeError) as error:
            raise file_error(self.who, "read", self.path or self.name, error) from None
        if not line:
            self.exhausted = True
            return False
        self.line_base += self.buffer.count("\n", 0, self.position)
        self.buffer = self.buffer[self.position:] + line
        self.position = 0
        return True

    read_char = BufferedInput.take

    def read_line(self):
        """The text up to the next line ending — \n, \r\n or a lone \r (R7RS's three) — which
        is read and dropped; found by searching the buffer, not char by char."""
        out = []
        while True:
            if self.position >= len(self.buffer) and not self._fill():
                return "".join(out) if out else EOF
            match = _LINE_END.search(self.buffer, self.position)
            if match is None:
                out.append(self.buffer[self.position:])
                self.position = len(self.buffer)
                continue
            out.append(self.buffer[self.position:match.start()])
            self.position = match.end()
            if match.group() == "\r" and self.peek() == "\n":    # a \r\n split between fills
                self.position += 1
            return "".join(out)

    def rest(self) -> str:
        while self._fill():
            pass
        text = self.buffer[self.position:]
        self.position = len(self.buffer)
        return text

    def scheme_repr(self, write: bool) -> str:
        return self.describe("input-port", "string-input-port")


class BinaryInputPort(BufferedInput):
    """Binary input: from a bytevector, or in blocks from a Python stream (a file)."""

    BLOCK = 65536

    def __init__(self, data: bytes = b"", stream=None, path: str | None = None):
        self.buffer = bytes(data)
        self.position = 0
        self.stream = stream
        self.path = path
        self.exhausted = stream is None
        self.open = True

    def _fill(self) -> bool:
        if self.exhausted:
            return False
        try:
            block = self.stream.read(self.BLOCK)
        except OSError as error:
            raise file_error(self.who, "read", self.path, error) from None
        if not block:
            self.exhausted = True
            return False
        self.buffer = self.buffer[self.position:] + block
        self.position = 0
        return True

    read_byte = BufferedInput.take

    def read(self, count: int) -> bytes:
        """Up to ``count`` bytes: fewer only at the end of the input."""
        while len(self.buffer) - self.position < count and self._fill():
            pass
        data = self.buffer[self.position:self.position + count]
        self.position += len(data)
        return data

    def scheme_repr(self, write: bool) -> str:
        return self.describe("binary-input-port", "bytevector-input-port")


class BinaryOutputPort(Port):
    """Binary output: to a Python stream (a file), or collected (a bytevector port)."""

    def __init__(self, stream=None, path: str | None = None):
        self.stream = stream
        self.path = path
        self.data = bytearray()
        self.open = True

    def write(self, data):
        if self.stream is None:
            self.data += data
            return
        try:
            self.stream.write(data)
        except OSError as error:
            raise file_error(self.who, "write to", self.path, error) from None

    def flush(self):
        if self.stream is not None:
            try:
                self.stream.flush()
            except OSError as error:
                raise file_error(self.who, "write to", self.path, error) from None

    def scheme_repr(self, write: bool) -> str:
        return self.describe("binary-output-port", "bytevector-output-port")


INPUT_PORTS = (InputPort, BinaryInputPort)
OUTPUT_PORTS = (OutputPort, BinaryOutputPort)
PORTS = INPUT_PORTS + OUTPUT_PORTS


def _output(port, who) -> OutputPort:
    """The open textual output port a procedure writes to (the current one by default)."""
    if port is None:
        port = CURRENT_OUTPUT.value
    if port.__class__ is not OutputPort:
        fail(f"{who}: expected a textual output port, got {write_string(port)}")
    return check_open(port, who)


def _input(port, who) -> InputPort:
    """The open textual input port a procedure reads from (the current one by default)."""
    if port is None:
        port = CURRENT_INPUT.value
    if port.__class__ is not InputPort:
        fail(f"{who}: expected a textual input port, got {write_string(port)}")
    return check_open(port, who)


class _StdoutProxy:
    """Writes to whatever sys.stdout is at the time (tests and the REPL replace it)."""

    name = "stdout"

    def write(self, text):
        sys.stdout.write(text)

    def flush(self):
        sys.stdout.flush()


class _StderrProxy:
    name = "stderr"

    def write(self, text):
        sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()


class _StdinProxy:
    name = "stdin"

    def readline(self):
        return sys.stdin.readline()


CURRENT_OUTPUT = Parameter(OutputPort(_StdoutProxy()), shared_name="current-output-port")
CURRENT_ERROR = Parameter(OutputPort(_StderrProxy()), shared_name="current-error-port")
CURRENT_INPUT = Parameter(InputPort(stream=_StdinProxy(), name="<stdin>"), shared_name="current-input-port")
BUILTIN_PARAMETERS = {"current-output-port": CURRENT_OUTPUT, "current-error-port": CURRENT_ERROR,
                      "current-input-port": CURRENT_INPUT}
for _name, _stream in (("current-output-port", "output"), ("current-error-port", "error output"),
                      ("current-input-port", "input")):
    document(_name, f"({_name})", f"The port that reading and writing procedures use when given none: "
             f"standard {_stream} unless parameterize, with-output-to-file or with-input-from-file "
             f"changes it; a parameter object.")


def _one_value(who: str, value):
    """Several values where one is expected are an error, as in Racket (Guile would print the
    first): `(write (exact-integer-sqrt 17))` otherwise writes an object that is no datum."""
    if value.__class__ is MultipleValues:
        fail(f"{who}: expected one value, got {len(value)} values"
             + (f": {write_string(value)[len('#<values '):-1]}" if value else ""))


@define("display", signature="(display obj [port])",
        doc="Write obj to port, the current output port by default, for people: strings without "
            "quotes, characters as themselves.")
def display(value, port=None):
    _one_value("display", value)
    _output(port, "display").write(value if value.__class__ is str else display_string(value))


@define("write", signature="(write obj [port])",
        doc="Write obj to port (the current output port by default) as read would read it back: "
            "strings in quotes with escapes, characters as #\\a; a circular structure is written with "
            "datum labels (#0= … #0#), shared parts that are not circular are written out each time.")
def write(value, port=None):
    _one_value("write", value)
    _output(port, "write").write(write_string(value))


@define("write-shared", signature="(write-shared obj [port])",
        doc="Write obj as write does, with a datum label (#0= … #0#) for every pair or vector met more "
            "than once, shared or circular, to port, the current output port by default.")
def write_shared(value, port=None):
    _one_value("write-shared", value)
    _output(port, "write-shared").write(write_shared_string(value))


@define("write-simple", signature="(write-simple obj [port])",
        doc="Write obj as write does but without datum labels, to port, the current output port by "
            "default; a circular structure never ends.")
def write_simple(value, port=None):
    _one_value("write-simple", value)
    out = _output(port, "write-simple")
    try:
        text = write_simple_string(value)
    except CircularDatumError:
        fail("write-simple: the datum is circular, and written without labels it never ends "
             "(write and write-shared label it)")
    out.write(text)


@define("newline", signature="(newline [port])",
        doc="Write an end of line to port, the current output port by default.")
def newline(port=None):
    _output(port, "newline").write("\n")


@define("write-string", signature="(write-string string [port [start [end]]])",
        doc="Write the characters of string from start to end to port, the current output port by "
            "default.")
def write_string_(text, port=None, start=0, end=None):
    text = check_string("write-string", text)
    start, end = text_range("write-string", text, start, end)
    _output(port, "write-string").write(text[start:end])


@define("write-char", signature="(write-char char [port])",
        doc="Write the character char to port, the current output port by default.")
def write_char(char, port=None):
    _output(port, "write-char").write(chr(check_char("write-char", char).code))


@define("flush-output-port", signature="(flush-output-port [port])",
        doc="Send what was written to port, the current output port by default on to its file or "
            "terminal.")
def flush_output_port(port=None):
    if port is None:
        port = CURRENT_OUTPUT.value
    check_open(any_output(port, "flush-output-port"), "flush-output-port").flush()


@define("fresh-line", signature="(fresh-line [port])",
        doc="Write an end of line to port, the current output port by default unless it is at the "
            "start of a line.")
def fresh_line(port=None):
    out = _output(port, "fresh-line")
    if out.column:
        out.write("\n")


@define("open-output-string", signature="(open-output-string)",
        doc="A new output port that collects what is written to it, for get-output-string.")
def open_output_string():
    return OutputPort()


@define("get-output-string", signature="(get-output-string port)",
        doc="The string of the characters written so far to port, an output string port.")
def get_output_string(port):
    if not isinstance(port, OutputPort) or port.stream is not None:
        fail(f"get-output-string: expected a string output port, got {write_string(port)}")
    return port.text()


@define("open-input-string", signature="(open-input-string string)",
        doc="A new input port that reads the characters of string.")
def open_input_string(text):
    return InputPort(check_string("open-input-string", text))


@define("read-char", signature="(read-char [port])",
        doc="The next character of port, the current input port by default, consumed; the end-of-file "
            "object at the end.")
def read_char(port=None):
    char = _input(port, "read-char").read_char()
    return char if char is EOF else Char(ord(char))


@define("peek-char", signature="(peek-char [port])",
        doc="The next character of port, the current input port by default, left to be read; the "
            "end-of-file object at the end.")
def peek_char(port=None):
    char = _input(port, "peek-char").peek()
    return char if char is EOF else Char(ord(char))


@define("read-line", signature="(read-line [port])",
        doc="The next line of port, the current input port by default, without its end of line "
            "(\\n, \\r\\n or a lone \\r); the end-of-file object at the end.")
def read_line(port=None):
    return _input(port, "read-line").read_line()


@define("read-string", signature="(read-string k [port])",
        doc="A string of the next k characters of port, the current input port by default (fewer at "
            "its end); the end-of-file object when none is left.")
def read_string(k, port=None):
    k = plain(k)
    if k.__class__ is not int or k < 0:
        fail(f"read-string: expected a non-negative exact integer, got {write_string(k)}")
    source = _input(port, "read-string")
    out = []
    for _ in range(k):
        char = source.read_char()
        if char is EOF:
            break
        out.append(char)
    return "".join(out) if out or k == 0 else EOF


@define("char-ready?", signature="(char-ready? [port])",
        doc="Whether a character can be read from port, the current input port by default without "
            "waiting; always #t in nablisp, whose reads wait.")
def char_ready(port=None):
    _input(port, "char-ready?")
    return True


@define("read", signature="(read [port])",
        doc="The next datum of port, the current input port by default, read as the language reads "
            "source (quotes, vectors, datum labels, #!fold-case); the end-of-file object at the end. Bad "
            "syntax raises an error that read-error? recognizes.")
def read(port=None):
    source = _input(port, "read")
    if not source.open:
        fail("read: the port is closed")
    cut = source.buffer.rfind("\n", 0, source.position) + 1 if source.stream is not None else 0
    if cut:
        # a stream's buffer keeps only the lines still being read (string ports keep their text)
        source.line_base += source.buffer.count("\n", 0, cut)
        source.buffer, source.position = source.buffer[cut:], source.position - cut
    more = None
    if not source.exhausted:
        def more():
            line = source.stream.readline()
            source.exhausted = not line
            return line
    reader = Reader(source.buffer, source.name, source.position, more, spans=False,
                    fold_case=source.fold_case, first_line=source.line_base + 1)
    try:
        return reader.read()
    except ReadError as error:
        raise SchemeError(ErrorObject(f"read: {error.span}: {error.message}", (), kind="read")) from None
    finally:
        source.buffer, source.position, source.fold_case = reader.text, reader.position, reader.fold_case


@define("eof-object", signature="(eof-object)",
        doc="The end-of-file object, which reading procedures return at the end of their input.")
def eof_object():
    return EOF


@define("eof-object?", signature="(eof-object? obj)",
        doc="Whether obj is the end-of-file object.")
def eof_object_p(x):
    return x.__class__ is EofObject


@define("input-port?", signature="(input-port? obj)",
        doc="Whether obj is an input port.")
def input_port_p(x):
    return isinstance(x, INPUT_PORTS)


@define("output-port?", signature="(output-port? obj)",
        doc="Whether obj is an output port.")
def output_port_p(x):
    return isinstance(x, OUTPUT_PORTS)


@define("textual-port?", signature="(textual-port? obj)",
        doc="Whether obj is a port of characters.")
def textual_port_p(x):
    return x.__class__ is InputPort or x.__class__ is OutputPort


@define("binary-port?", signature="(binary-port? obj)",
        doc="Whether obj is a port of bytes.")
def binary_port_p(x):
    return x.__class__ is BinaryInputPort or x.__class__ is BinaryOutputPort


@define("port?", signature="(port? obj)",
        doc="Whether obj is a port.")
def port_p(x):
    return isinstance(x, PORTS)


def any_port(port, who) -> Port:
    if not isinstance(port, PORTS):
        fail(f"{who}: expected a port, got {write_string(port)}")
    return port


def any_input(port, who) -> Port:
    if not isinstance(port, INPUT_PORTS):
        fail(f"{who}: expected an input port, got {write_string(port)}")
    return port


def any_output(port, who) -> Port:
    if not isinstance(port, OUTPUT_PORTS):
        fail(f"{who}: expected an output port, got {write_string(port)}")
    return port


def check_open(port: Port, who: str) -> Port:
    if not port.open:
        fail(f"{who}: the port {write_string(port)} is closed")
    port.who = who
    return port


# Closing a closed port does nothing (R7RS); closing an input port with close-output-port is an
# error, as chibi and Racket make it, rather than a silent no-op that hides the mistake.

@define("close-port", signature="(close-port port)",
        doc="Close port; closing a closed port does nothing.")
def close_port(port):
    any_port(port, "close-port").close()


@define("close-input-port", signature="(close-input-port port)",
        doc="Close the input port port.")
def close_input_port(port):
    any_input(port, "close-input-port").close()


@define("close-output-port", signature="(close-output-port port)",
        doc="Close the output port port (what was written to a file is flushed).")
def close_output_port(port):
    any_output(port, "close-output-port").close()


@define("input-port-open?", signature="(input-port-open? port)",
        doc="Whether port is an input port that is still open.")
def input_port_open_p(port):
    return isinstance(any_port(port, "input-port-open?"), INPUT_PORTS) and port.open


@define("output-port-open?", signature="(output-port-open? port)",
        doc="Whether port is an output port that is still open.")
def output_port_open_p(port):
    return isinstance(any_port(port, "output-port-open?"), OUTPUT_PORTS) and port.open


@define("call-with-port", signature="(call-with-port port proc)",
        doc="Call proc with port and return its values, closing port when proc returns.")
def call_with_port(port, proc):
    """proc's values; the port is closed when proc returns (not when it escapes: R7RS leaves
    the port open then, as a program may still hold it)."""
    any_port(port, "call-with-port")
    check_procedure("call-with-port", proc)
    result = apply_procedure(proc, (port,))
    port.close()
    return result
