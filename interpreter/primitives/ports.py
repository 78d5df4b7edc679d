"""Textual ports (a subset of R7RS §6.13): output to the console and to strings, input from
strings and standard input, `display`/`write`/`read`."""

from __future__ import annotations

import sys

from ...ad.tags import plain
from ...lang.datum import EOF, Char, EofObject
from ...lang.printer import (CircularDatumError, display_string, write_shared_string,
                              write_simple_string, write_string)
from ...lang.reader import Reader, ReadError
from ..errors import ErrorObject, SchemeError, fail
from ..runtime import Parameter
from .registry import define
from .text import check_char, check_string, text_range


class OutputPort:
    def __init__(self, stream=None):
        self.stream = stream        # None: a string port
        self.parts: list[str] = []
        self.open = True
        self.column = 0

    def write(self, text: str):
        if not self.open:
            fail("write: the port is closed")
        if self.stream is None:
            self.parts.append(text)
        else:
            self.stream.write(text)
        if text:
            newline = text.rfind("\n")
            self.column = len(text) - newline - 1 if newline >= 0 else self.column + len(text)

    def flush(self):
        if self.stream is not None:
            self.stream.flush()

    def text(self) -> str:
        return "".join(self.parts)

    def scheme_repr(self, write: bool) -> str:
        return "#<output-port>" if self.stream is not None else "#<string-output-port>"


class InputPort:
    def __init__(self, text: str | None = None, stream=None, name="<string>"):
        self.buffer = text if text is not None else ""
        self.position = 0
        self.stream = stream
        self.exhausted = stream is None
        self.open = True
        self.name = name
        self.line_base = 0          # lines dropped from the front of the buffer (for `read`)
        self.fold_case = False      # set by #!fold-case in what `read` read

    def _fill(self) -> bool:
        if self.exhausted:
            return False
        line = self.stream.readline()
        if not line:
            self.exhausted = True
            return False
        self.line_base += self.buffer.count("\n", 0, self.position)
        self.buffer = self.buffer[self.position:] + line
        self.position = 0
        return True

    def peek(self):
        while self.position >= len(self.buffer):
            if not self._fill():
                return EOF
        return self.buffer[self.position]

    def read_char(self):
        char = self.peek()
        if char is not EOF:
            self.position += 1
        return char

    def read_line(self):
        out = []
        while True:
            char = self.read_char()
            if char is EOF:
                return "".join(out) if out else EOF
            if char == "\n":
                return "".join(out)
            out.append(char)

    def rest(self) -> str:
        while self._fill():
            pass
        text = self.buffer[self.position:]
        self.position = len(self.buffer)
        return text

    def scheme_repr(self, write: bool) -> str:
        return "#<input-port>"


def _output(port, who) -> OutputPort:
    if port is None:
        port = CURRENT_OUTPUT.value
    if not isinstance(port, OutputPort):
        fail(f"{who}: expected an output port, got {write_string(port)}")
    return port


def _input(port, who) -> InputPort:
    if port is None:
        port = CURRENT_INPUT.value
    if not isinstance(port, InputPort):
        fail(f"{who}: expected an input port, got {write_string(port)}")
    return port


class _StdoutProxy:
    """Writes to whatever sys.stdout is at the time (tests and the REPL replace it)."""

    def write(self, text):
        sys.stdout.write(text)

    def flush(self):
        sys.stdout.flush()


class _StderrProxy:
    def write(self, text):
        sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()


class _StdinProxy:
    def readline(self):
        return sys.stdin.readline()


CURRENT_OUTPUT = Parameter(OutputPort(_StdoutProxy()))
CURRENT_ERROR = Parameter(OutputPort(_StderrProxy()))
CURRENT_INPUT = Parameter(InputPort(stream=_StdinProxy(), name="<stdin>"))
BUILTIN_PARAMETERS = {"current-output-port": CURRENT_OUTPUT, "current-error-port": CURRENT_ERROR,
                      "current-input-port": CURRENT_INPUT}


@define("display")
def display(value, port=None):
    _output(port, "display").write(value if value.__class__ is str else display_string(value))


@define("write")
def write(value, port=None):
    _output(port, "write").write(write_string(value))


@define("write-shared")
def write_shared(value, port=None):
    _output(port, "write-shared").write(write_shared_string(value))


@define("write-simple")
def write_simple(value, port=None):
    out = _output(port, "write-simple")
    try:
        text = write_simple_string(value)
    except CircularDatumError:
        fail("write-simple: the datum is circular, and written without labels it never ends "
             "(write and write-shared label it)")
    out.write(text)


@define("newline")
def newline(port=None):
    _output(port, "newline").write("\n")


@define("write-string")
def write_string_(text, port=None, start=0, end=None):
    text = check_string("write-string", text)
    start, end = text_range("write-string", text, start, end)
    _output(port, "write-string").write(text[start:end])


@define("write-char")
def write_char(char, port=None):
    _output(port, "write-char").write(chr(check_char("write-char", char).code))


@define("flush-output-port")
def flush_output_port(port=None):
    _output(port, "flush-output-port").flush()


@define("fresh-line")
def fresh_line(port=None):
    out = _output(port, "fresh-line")
    if out.column:
        out.write("\n")


@define("open-output-string")
def open_output_string():
    return OutputPort()


@define("get-output-string")
def get_output_string(port):
    if not isinstance(port, OutputPort) or port.stream is not None:
        fail(f"get-output-string: expected a string output port, got {write_string(port)}")
    return port.text()


@define("open-input-string")
def open_input_string(text):
    return InputPort(check_string("open-input-string", text))


@define("read-char")
def read_char(port=None):
    char = _input(port, "read-char").read_char()
    return char if char is EOF else Char(ord(char))


@define("peek-char")
def peek_char(port=None):
    char = _input(port, "peek-char").peek()
    return char if char is EOF else Char(ord(char))


@define("read-line")
def read_line(port=None):
    return _input(port, "read-line").read_line()


@define("read-string")
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


@define("char-ready?")
def char_ready(port=None):
    _input(port, "char-ready?")
    return True


@define("read")
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


@define("eof-object")
def eof_object():
    return EOF


@define("eof-object?")
def eof_object_p(x):
    return x.__class__ is EofObject


@define("input-port?")
def input_port_p(x):
    return isinstance(x, InputPort)


@define("output-port?")
def output_port_p(x):
    return isinstance(x, OutputPort)


@define("textual-port?", "port?")
def port_p(x):
    return isinstance(x, (InputPort, OutputPort))


@define("close-port", "close-input-port", "close-output-port")
def close_port(port):
    if not isinstance(port, (InputPort, OutputPort)):
        fail(f"close-port: expected a port, got {write_string(port)}")
    port.open = False


@define("input-port-open?", "output-port-open?")
def port_open_p(port):
    return bool(getattr(port, "open", False))
