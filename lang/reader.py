"""Source text → datums, one at a time.

One reader serves both the program reader (`read_all`: a whole file, every pair carrying its
span) and the `read` procedure (one datum from a port's current position, reading no further
than the datum's end, from text that may grow as a stream delivers lines).  Each token is a
regular expression below, used by both; nesting is an explicit stack of frames, so a datum
nested 100,000 deep reads without Python recursion, and the time to read a datum is
proportional to its length.

Atoms (numbers, booleans, symbols, `#` forms) are one token class, classified afterwards, so
that a malformed number gets a precise message.  Every failure is a `ReadError` with a
position and a plain message.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .datum import EOF, Char, Nil, Pair, Span, Symbol, UnsupportedNumber, make_pair


DIGITS = frozenset("0123456789")
CHAR_NAMES = {
    "alarm": 7, "backspace": 8, "delete": 127, "escape": 27, "newline": 10, "null": 0,
    "nul": 0, "return": 13, "space": 32, "tab": 9, "linefeed": 10, "altmode": 27,
}
STRING_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\", "|": "|"}


class ReadError(Exception):
    """Text that is not a well-formed datum.  ``incomplete`` means more input could complete it;
    ``open_brackets`` counts the lists and vectors still open where the text ended."""

    def __init__(self, message: str, span: Span | None, incomplete: bool = False):
        super().__init__(message)
        self.message = message
        self.span = span
        self.incomplete = incomplete
        self.open_brackets = 0

    def __str__(self) -> str:
        return f"{self.span}: read error: {self.message}"


# ---------------------------------------------------------------------------------------------
# Tokens.  An atom runs until a delimiter; R7RS's delimiters are whitespace, | ( ) " ;, and
# nablisp adds [ ] and the abbreviation marks, so that `'a'b` is two quoted symbols.

_DELIMITER = "\\s()\\[\\]\";'`,|"
_ATMOSPHERE = re.compile(r"(?:\s+|;[^\n\r]*)+")      # R7RS ends a line at \n, \r\n or a lone \r
_ATOM = re.compile(f"[^{_DELIMITER}]+")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BAR_SYMBOL = re.compile(r"\|[^|\\]*(?:\\.[^|\\]*)*\|", re.S)
_CHARACTER = re.compile(f"#\\\\.[^{_DELIMITER}]*", re.S)
_LABEL = re.compile(r"#([0-9]+)([=#])")
_LABEL_DIGITS = re.compile(r"#[0-9]+")
_ATMOSPHERE_STARTS = frozenset(" \t\n\r\f\v;#")
_BLOCK_MARK = re.compile(r"#\||\|#")
_DIRECTIVE = re.compile(f"#![^{_DELIMITER}]*")

_ABBREVIATIONS = {"'": Symbol("quote"), "`": Symbol("quasiquote"), ",": Symbol("unquote"),
                  ",@": Symbol("unquote-splicing")}

# What a frame of the reader's stack is waiting for.
_LIST, _VECTOR, _BYTEVECTOR, _ABBREVIATION, _COMMENT, _LABEL_DEFINITION = range(6)
_CONTAINERS = (_LIST, _VECTOR, _BYTEVECTOR)


class _Frame:
    __slots__ = ("kind", "offset", "span", "opener", "items", "spans", "dot", "dot_index", "mark")

    def __init__(self, kind, offset, span, opener="", mark=None):
        self.kind = kind
        self.offset = offset          # where the frame's text starts
        self.span = span              # the same as a Span, when the reader makes spans
        self.opener = opener          # "(", "[", "#(", "#u8(", "'", "#;", "#0=" …
        self.items: list = []
        self.spans: list = []
        self.dot = None               # offset of a list's '.', once seen
        self.dot_index = 0            # how many items stand before it
        self.mark = mark              # an abbreviation's symbol; a label's number

    def describe(self) -> str:
        return self.opener


class _Placeholder:
    """Stands for a labelled datum inside its own text (`#0=(a . #0#)`) until it is complete."""

    __slots__ = ("label",)

    def __init__(self, label):
        self.label = label


class Reader:
    """Reads datums from ``text`` starting at ``position``.  ``more()``, when given, returns
    the next piece of a stream's text ("" at its end): the reader asks for it only when a
    datum, or the atmosphere before one, runs into the end of what it has.  ``position`` is
    left just after the last datum read (or after the offending text, after an error), and
    ``fold_case`` as the `#!fold-case` directives read so far left it."""

    def __init__(self, text: str, file: str = "<string>", position: int = 0, more=None,
                 spans: bool = True, fold_case: bool = False, first_line: int = 1,
                 program: bool = False):
        self.text = text
        self.program = program            # reading code: cycles only inside quote
        self.file = file
        self.position = position
        self.more = more
        self.spans = spans
        self.fold_case = fold_case
        self.first_line = first_line      # the line number of text[0]
        self._line = first_line           # the line of offset _synced, for spans
        self._line_start = 0
        self._synced = 0

    # -- positions ------------------------------------------------------------------------------

    def _span(self, offset: int) -> Span:
        """The span of ``offset``; offsets are asked for in increasing order."""
        if offset > self._synced:
            text = self.text
            lines = text.count("\n", self._synced, offset)
            if lines:
                self._line += lines
                self._line_start = text.rfind("\n", self._synced, offset) + 1
            self._synced = offset
        return Span(self.file, self._line, offset - self._line_start + 1)

    def where(self, offset: int) -> Span:
        """The span of any offset (for errors: counts lines from the start of the text)."""
        text = self.text
        line = self.first_line + text.count("\n", 0, offset)
        return Span(self.file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)

    def _error(self, message: str, offset: int, end: int | None = None,
               incomplete: bool = False) -> ReadError:
        self.position = max(self.position, end if end is not None else offset + 1)
        return ReadError(message, self.where(offset), incomplete)

    # -- more text ------------------------------------------------------------------------------

    def _extend(self) -> bool:
        """Append the stream's next piece of text; False at its end."""
        if self.more is None:
            return False
        piece = self.more()
        if not piece:
            self.more = None
            return False
        self.text += piece
        return True

    def _match(self, pattern, offset: int, closed: bool = False):
        """``pattern`` matched at ``offset``, over as much text as a match that reaches the
        end of the text could still take in.  A ``closed`` token (a string, a |symbol|) that
        does not match may be waiting for its closing character in text still to come."""
        match = pattern.match(self.text, offset)
        while ((match.end() == len(self.text)) if match is not None else closed) and self._extend():
            match = pattern.match(self.text, offset)
        return match

    def _char(self, offset: int) -> str:
        """The character at ``offset``, or "" at the end of the input."""
        while offset >= len(self.text):
            if not self._extend():
                return ""
        return self.text[offset]

    # -- atmosphere: whitespace, comments, directives ------------------------------------------

    def _skip_atmosphere(self, offset: int) -> int:
        text = self.text
        if offset < len(text) and text[offset] not in _ATMOSPHERE_STARTS and not text[offset].isspace():
            return offset
        while True:
            match = self._match(_ATMOSPHERE, offset)
            if match is not None:
                offset = match.end()
            c = self._char(offset)
            if c == "":
                return offset
            if c in " \t\n\r\f\v;" or c.isspace():
                continue                        # the text ended, and more came
            if c != "#":
                return offset
            c = self._char(offset + 1)
            if c == "|":
                offset = self._skip_block_comment(offset)
            elif c == "!":
                offset = self._directive(offset)
            else:
                return offset

    def _skip_block_comment(self, start: int) -> int:
        depth, offset = 1, start + 2
        while True:
            match = _BLOCK_MARK.search(self.text, offset)
            if match is None:
                # a mark may straddle the end of the text: look again from its last character
                offset = max(offset, len(self.text) - 1)
                if not self._extend():
                    raise self._error("unterminated block comment", start, len(self.text), True)
                continue
            offset = match.end()
            depth += 1 if match.group() == "#|" else -1
            if depth == 0:
                return offset

    def _directive(self, start: int) -> int:
        match = self._match(_DIRECTIVE, start)
        name = match.group()[2:].lower()     # as an identifier would be under #!fold-case
        if name == "fold-case":
            self.fold_case = True
        elif name == "no-fold-case":
            self.fold_case = False
        else:
            raise self._error(f"unknown directive #!{name} (nablisp knows #!fold-case and "
                              f"#!no-fold-case)", start, match.end())
        return match.end()

    # -- datums ---------------------------------------------------------------------------------

    def read(self):
        """The next datum, or EOF when only atmosphere is left."""
        value, _ = self.read_with_span()
        return value

    def read_with_span(self):
        """The next datum and the span where it starts (None when the reader makes no spans),
        or (EOF, None)."""
        stack: list[_Frame] = []
        try:
            return self._read(stack)
        except ReadError as error:
            error.open_brackets = sum(1 for frame in stack if frame.kind in _CONTAINERS)
            raise

    def _read(self, stack: list):
        spans = self.spans
        labels: dict = {}          # label number → its datum, or its _Placeholder while open
        forward: set = set()       # labels referred to inside their own datum
        offset = self.position
        while True:
            offset = self._skip_atmosphere(offset)
            text = self.text
            if offset >= len(text):
                self.position = offset
                if stack:
                    raise self._unfinished(stack[-1], offset)
                return EOF, None
            c = text[offset]
            span = self._span(offset) if spans else None
            start = offset
            if not stack:
                first = offset      # where the top-level datum starts

            # Tokens that open or close a frame.
            if c == "(" or c == "[":
                stack.append(_Frame(_LIST, offset, span, c))
                offset += 1
                continue
            if c == ")" or c == "]":
                offset += 1
                value = self._close(stack, c, start)
                span = stack.pop().span
            elif c == "'" or c == "`" or c == ",":
                mark = ",@" if c == "," and self._char(offset + 1) == "@" else c
                stack.append(_Frame(_ABBREVIATION, offset, span, mark, _ABBREVIATIONS[mark]))
                offset += len(mark)
                continue
            elif c == '"':
                match = self._match(_STRING, offset, closed=True)
                if match is None:
                    raise self._error("unterminated string", offset, len(self.text), True)
                offset = match.end()
                value = self._unescape(match.group()[1:-1], '"', start, offset)
            elif c == "|":
                match = self._match(_BAR_SYMBOL, offset, closed=True)
                if match is None:
                    raise self._error("unterminated |symbol|", offset, len(self.text), True)
                offset = match.end()
                body = match.group()[1:-1]
                value = Symbol(self._unescape(body, "|", start, offset))
            elif c == "#":
                c = self._char(offset + 1)
                if c == "(":
                    stack.append(_Frame(_VECTOR, offset, span, "#("))
                    offset += 2
                    continue
                if c == ";":
                    stack.append(_Frame(_COMMENT, offset, span, "#;"))
                    offset += 2
                    continue
                if c == "\\":
                    match = self._match(_CHARACTER, offset, closed=True)
                    if match is None:
                        raise self._error("#\\ must be followed by a character", offset,
                                          len(self.text), True)
                    offset = match.end()
                    name = match.group()[2:]
                    if self.fold_case and len(name) > 1:
                        name = name.casefold()
                    try:
                        value = parse_character(name, None)
                    except ReadError as error:
                        raise self._error(error.message, start, offset) from None
                elif (c == "u" or c == "U") and self._char(offset + 2) == "8" and self._char(offset + 3) == "(":
                    stack.append(_Frame(_BYTEVECTOR, offset, span, "#u8("))
                    offset += 4
                    continue
                elif "0" <= c <= "9" and self._char(self._match(_LABEL_DIGITS, offset).end()) in ("=", "#"):
                    match = _LABEL.match(self.text, offset)
                    offset = match.end()
                    number = int(match.group(1))
                    if match.group(2) == "=":
                        if number in labels:
                            raise self._error(f"datum label #{number}= defined twice", start, offset)
                        labels[number] = _Placeholder(number)
                        stack.append(_Frame(_LABEL_DEFINITION, start, span, match.group(), number))
                        continue
                    if number not in labels:
                        raise self._error(f"datum label #{number}# is not defined (define it "
                                          f"with #{number}= before referring to it)", start, offset)
                    value = labels[number]
                    if value.__class__ is _Placeholder:
                        forward.add(number)
                else:
                    match = self._match(_ATOM, offset)
                    offset = match.end()
                    value = self._atom(match.group(), start)
            else:
                match = self._match(_ATOM, offset)
                offset = match.end()
                token = match.group()
                if token == ".":
                    self._dot(stack, start)
                    continue
                value = self._atom(token, start)

            # A datum is complete: hand it to the frames waiting for one.
            while True:
                if not stack:
                    self.position = offset
                    if forward and self.program and _cycle_outside_quotation(value):
                        raise self._error("circular code: only quoted data may be circular "
                                          "('#0=(a . #0#)); the expander would never finish "
                                          "this", first, offset)
                    return value, span
                frame = stack[-1]
                kind = frame.kind
                if kind is _LIST:
                    if frame.dot is not None and len(frame.items) > frame.dot_index:
                        raise self._bad_dot(frame.dot, offset)
                    frame.items.append(value)
                    frame.spans.append(span)
                    break
                if kind is _VECTOR:
                    frame.items.append(value)
                    break
                if kind is _BYTEVECTOR:
                    if value.__class__ is not int or not 0 <= value <= 255:
                        from .printer import write_string
                        shown = "a label" if value.__class__ is _Placeholder else write_string(value)
                        raise self._error(f"a bytevector holds exact integers from 0 to 255, "
                                          f"not {shown}", start, offset)
                    frame.items.append(value)
                    break
                stack.pop()
                if kind is _COMMENT:
                    break
                if kind is _ABBREVIATION:
                    value = make_pair(frame.mark, make_pair(value, Nil, frame.span), frame.span)
                else:   # _LABEL_DEFINITION
                    number = frame.mark
                    placeholder = labels[number]
                    if value is placeholder:
                        raise self._error(f"datum label #{number}= stands for nothing but itself",
                                          frame.offset, offset)
                    labels[number] = value
                    if number in forward:
                        _fill_in(value, placeholder, value)
                        for other, known in labels.items():
                            if known is placeholder:
                                labels[other] = value
                span = frame.span
                start = frame.offset

    def _unescape(self, body: str, quote: str, start: int, end: int) -> str:
        if "\\" not in body:
            return body
        try:
            return _unescape(body, None, quote)
        except ReadError as error:
            raise self._error(error.message, start, end) from None

    def _atom(self, token: str, start: int):
        if self.fold_case:
            token = token.casefold()
        try:
            return parse_atom(token, None, self.program)
        except ReadError as error:
            raise self._error(error.message, start, start + len(token)) from None

    def _dot(self, stack: list, offset: int):
        frame = stack[-1] if stack else None
        if frame is None or frame.kind is not _LIST:
            where = " in a vector" if frame is not None and frame.kind in _CONTAINERS else ""
            raise self._error(f"unexpected '.'{where}", offset)
        if frame.dot is not None or not frame.items:
            raise self._bad_dot(offset, offset + 1)
        frame.dot = offset
        frame.dot_index = len(frame.items)

    def _bad_dot(self, dot: int, end: int) -> ReadError:
        return self._error("bad dotted list: '.' must stand between the last two elements", dot, end)

    def _close(self, stack: list, closer: str, offset: int):
        """The datum that ``closer`` at ``offset`` completes (its frame stays on the stack)."""
        frame = stack[-1] if stack else None
        if frame is None:
            raise self._error(f"unexpected '{closer}' with no matching opening bracket", offset)
        if frame.kind not in _CONTAINERS:
            raise self._error(f"unexpected '{closer}': a datum must follow {frame.describe()}",
                              offset)
        if (closer == "]") != (frame.opener == "["):
            where = self.where(frame.offset)
            raise self._error(f"'{closer}' does not match the opening '{frame.opener}' at "
                              f"{where.line}:{where.column}", offset)
        if frame.kind is _VECTOR:
            return frame.items
        if frame.kind is _BYTEVECTOR:
            return bytearray(frame.items)
        items, spans = frame.items, frame.spans
        tail = Nil
        if frame.dot is not None:
            if len(items) != frame.dot_index + 1:
                raise self._bad_dot(frame.dot, offset + 1)
            tail = items.pop()
        if self.spans:
            for index in range(len(items) - 1, -1, -1):
                tail = make_pair(items[index], tail, spans[index])
            if tail.__class__ is Pair:
                tail.span = frame.span
        else:
            for index in range(len(items) - 1, -1, -1):
                tail = make_pair(items[index], tail)
        return tail

    def _unfinished(self, frame: _Frame, offset: int) -> ReadError:
        where = self.where(frame.offset)
        if frame.kind in _CONTAINERS:
            closer = "]" if frame.opener == "[" else ")"
            message = (f"missing '{closer}' to close '{frame.opener}' opened at "
                       f"{where.line}:{where.column}")
        else:
            message = f"the input ends where a datum must follow {frame.describe()}"
        return ReadError(message, where, incomplete=True)


_QUOTE = Symbol("quote")


def _cycle_outside_quotation(root) -> bool:
    """Whether ``root``, read as code, is circular other than inside a `(quote …)` form (a
    pair reached as an element, not as the rest of a list, whose first element is `quote`)."""
    on_path: set[int] = set()
    finished: set[int] = set()
    stack = [(root, False, True)]
    while stack:
        node, leaving, element = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            finished.add(key)
            continue
        if key in on_path:
            return True
        if key in finished:
            continue
        if node.__class__ is Pair:
            if element and node.car is _QUOTE:
                continue
            children = [(node.car, False, True), (node.cdr, False, False)]
        elif node.__class__ is list:
            children = [(item, False, True) for item in node]
        else:
            continue
        on_path.add(key)
        stack.append((node, True, element))
        stack.extend(children)
    return False


def _fill_in(root, placeholder: _Placeholder, value):
    """Replace ``placeholder`` by ``value`` throughout ``root`` (which may share structure and
    be circular already), without recursion."""
    seen = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.__class__ is Pair:
            if node.car is placeholder:
                node.car = value
            elif node.car.__class__ is Pair or node.car.__class__ is list:
                stack.append(node.car)
            if node.cdr is placeholder:
                node.cdr = value
            elif node.cdr.__class__ is Pair or node.cdr.__class__ is list:
                stack.append(node.cdr)
        elif node.__class__ is list:
            for index, item in enumerate(node):
                if item is placeholder:
                    node[index] = value
                elif item.__class__ is Pair or item.__class__ is list:
                    stack.append(item)


# ---------------------------------------------------------------------------------------------
# Whole texts.

def read_all(text: str, file: str = "<string>", fold_case: bool = False,
             program: bool = True, directives: dict | None = None) -> list[tuple[object, Span]]:
    """Every datum of ``text`` with the span where it starts.  A ``program``'s first line may
    be a script's interpreter line, `#!/…` or `#! …`, skipped as Guile and Racket do, and only
    its quoted data may be circular.  With ``fold_case`` (what `include-ci` asks), identifiers
    and character names are read case-folded from the start.  ``directives``, when given, holds
    the `#!fold-case` state from one text to the next (the REPL's entries are one port)."""
    if directives is not None:
        fold_case = directives.get("fold_case", fold_case)
    start = 0
    if program and text.startswith(("#!/", "#! ")):
        start = text.find("\n")
        start = len(text) if start < 0 else start
    reader = Reader(text, file, start, program=program, fold_case=fold_case)
    data = []
    try:
        while True:
            datum, span = reader.read_with_span()
            if datum is EOF:
                return data
            data.append((datum, span))
    finally:
        if directives is not None:
            directives["fold_case"] = reader.fold_case


def read_one(text: str, file: str = "<string>"):
    """The single datum in ``text``, read as data."""
    data = read_all(text, file, program=False)
    if len(data) != 1:
        raise ReadError(f"expected one datum, found {len(data)}", Span(file, 1, 1))
    return data[0][0]


def is_complete(text: str) -> bool:
    """Whether ``text`` holds only complete data (what the REPL asks before submitting):
    false when more text could finish it, true when it reads or has an error of its own."""
    try:
        read_all(text)
    except ReadError as error:
        return not error.incomplete
    return True


def open_brackets(text: str) -> int:
    """How many lists and vectors are open at the end of ``text`` (for indenting)."""
    try:
        read_all(text)
    except ReadError as error:
        return error.open_brackets if error.incomplete else 0
    return 0


# ---------------------------------------------------------------------------------------------
# Token bodies: escapes, characters, numbers, the other atoms.

def _scalar(code: int) -> bool:
    """Whether ``code`` is a Unicode scalar value (a code point that is not a surrogate)."""
    return 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


def _unescape(body: str, span: Span | None, quote: str) -> str:
    """The text of a string's or |symbol|'s body, its escapes replaced."""
    if "\\" not in body:
        return body
    what = "string" if quote == '"' else "symbol"
    out, i, n = [], 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        e = body[i] if i < n else ""
        if e in STRING_ESCAPES:
            out.append(STRING_ESCAPES[e])
            i += 1
        elif e == "x" or e == "X":
            end = body.find(";", i)
            digits = body[i + 1:end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"[0-9a-fA-F]{1,8}", digits) or not _scalar(int(digits, 16)):
                raise ReadError(f"bad hex escape in {what}: \\x{digits or body[i + 1:i + 5]} (write "
                                f"\\x, hex digits of a Unicode scalar value, and ';')", span)
            out.append(chr(int(digits, 16)))
            i = end + 1
        elif e in " \t\n\r":
            # \<intraline whitespace><newline><intraline whitespace> joins lines
            j = i
            while j < n and body[j] in " \t":
                j += 1
            if j < n and body[j] in "\r\n":
                j += 2 if body.startswith("\r\n", j) else 1
                while j < n and body[j] in " \t":
                    j += 1
                i = j
            else:
                raise ReadError(f"bad escape '\\ ' in {what} (a backslash before spaces must end "
                                f"its line)", span)
        else:
            raise ReadError(f"unknown escape '\\{e}' in {what}", span)
    return "".join(out)


def parse_character(name: str, span: Span) -> Char:
    if not name:
        raise ReadError("#\\ must be followed by a character", span, incomplete=True)
    if len(name) == 1:
        return Char(ord(name))
    if name in CHAR_NAMES:
        return Char(CHAR_NAMES[name])
    if name[0] in "xX" and re.fullmatch(r"[0-9a-fA-F]{1,8}", name[1:]):
        if not _scalar(int(name[1:], 16)):
            raise ReadError(f"#\\{name} is not a Unicode scalar value", span)
        return Char(int(name[1:], 16))
    raise ReadError(f"unknown character name #\\{name}", span)


# A decimal's exponent marker may be e, or (as in R5RS and chibi) s, f, d or l.
_MAX_EXACT_EXPONENT = 100_000     # #e1e100000 has 332,000 bits; a bigger exponent is refused
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eEsSfFdDlL][+-]?[0-9]+)?")
_EXPONENT_MARKER = re.compile(r"[sSfFdDlL]")
_INTEGER = {2: re.compile(r"[+-]?[01]+"), 8: re.compile(r"[+-]?[0-7]+"),
            10: re.compile(r"[+-]?[0-9]+"), 16: re.compile(r"[+-]?[0-9a-fA-F]+")}
_SPECIAL_FLOATS = {"+inf.0": float("inf"), "-inf.0": float("-inf"),
                   "+nan.0": float("nan"), "-nan.0": float("nan")}
_REAL = r"(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eEsSfFdDlL][+-]?[0-9]+)?|[0-9]+/[0-9]+|inf\.0|nan\.0)"
_PREFIXED_REAL = r"(?:[0-9a-fA-F]+(?:/[0-9a-fA-F]+)?|[0-9]*\.[0-9]+|inf\.0|nan\.0)"


def _complex_pattern(real: str) -> str:
    return rf"[+-]?{real}?[+-]{real}?i|[+-]?{real}@[+-]?{real}"


# R7RS's complex numbers (`1+2i`, `+i`, `1@2`), which nablisp reads only to say it lacks them
_COMPLEX = re.compile(rf"{_complex_pattern(_REAL)}|(?:#[xbodei])+(?:{_complex_pattern(_PREFIXED_REAL)})",
                      re.I)


_NUMBER_STARTS = frozenset("0123456789+-.#")   # what a number, boolean or bad number starts with


def parse_number(text: str, radix: int = 10):
    """The number ``text`` denotes, or None.  Raises ZeroDivisionError for `n/0`."""
    exactness = None
    radix_given = False
    while len(text) >= 2 and text[0] == "#":
        prefix = text[1].lower()
        if prefix in "xbod" and not radix_given:
            radix, radix_given = {"x": 16, "b": 2, "o": 8, "d": 10}[prefix], True
        elif prefix in "ei" and exactness is None:
            exactness = prefix
        else:
            return None
        text = text[2:]
    if exactness == "e" and radix == 10 and _DECIMAL.fullmatch(text):
        # the decimal itself, not the float nearest it: #e1.2 is 6/5, #e1e400 is 10⁴⁰⁰
        if abs(int((_DECIMAL.fullmatch(text).group(2) or "e0")[1:])) > _MAX_EXACT_EXPONENT:
            return None
        value = Fraction(_EXPONENT_MARKER.sub("e", text))
        return int(value) if value.denominator == 1 else value
    value = _parse_real(text, radix)
    if value is None:
        return None
    if exactness == "e":
        if isinstance(value, float):
            return None       # +inf.0, +nan.0: no exact number
        return value
    if exactness == "i":
        try:
            return float(value)
        except OverflowError:      # an exact number beyond the floats' range
            return float("inf") if value > 0 else float("-inf")
    return value


def _parse_real(text: str, radix: int):
    pattern = _INTEGER[radix]
    if pattern.fullmatch(text):
        return int(text, radix)
    lowered = text.lower()
    if lowered in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[lowered]
    numerator, slash, denominator = text.partition("/")
    if slash:
        if pattern.fullmatch(numerator) and pattern.fullmatch(denominator) and denominator[0] not in "+-":
            if int(denominator, radix) == 0:
                raise ZeroDivisionError
            value = Fraction(int(numerator, radix), int(denominator, radix))
            return int(value) if value.denominator == 1 else value
        return None
    if radix == 10 and _DECIMAL.fullmatch(text):
        return float(_EXPONENT_MARKER.sub("e", text))
    return None


def parse_atom(text: str, span: Span | None, program: bool = False):
    """The number, boolean or symbol an atom token denotes; in a ``program``, a complex literal
    is kept as an UnsupportedNumber, an error only if it is evaluated."""
    if text[0] not in _NUMBER_STARTS:
        return Symbol(text)
    try:
        number = parse_number(text)
    except ZeroDivisionError:
        raise ReadError(f"bad number {text}: division by zero", span) from None
    if number is not None:
        return number
    if text[0] == "#":
        lowered = text.lower()
        if lowered in ("#t", "#true"):
            return True
        if lowered in ("#f", "#false"):
            return False
    if _COMPLEX.fullmatch(text):
        if program:
            return UnsupportedNumber(text)
        raise ReadError(f"complex numbers are not supported: {text}", span)
    if text[0] == "#":
        if len(text) > 1 and text[1].lower() in "xbodei":
            raise ReadError(f"bad number {text}", span)
        raise ReadError(f"bad # syntax: {text}", span)
    # ASCII digits only: str.isdigit is true of "³", which no number begins with
    if text[0] in DIGITS or (len(text) > 1 and text[0] in "+-." and (text[1] in DIGITS or
                                                                  (text[1] == "." and len(text) > 2 and text[2] in DIGITS))):
        raise ReadError(f"bad number {text}", span)
    return Symbol(text)
