"""Source text → datums with spans.

Lark parses the text with the LALR grammar in ``grammar.lark``; this module turns the parse tree
into datums without recursion (a program nested 100,000 deep must read), classifies atoms
(numbers, booleans, symbols) and turns every parse failure into a `ReadError` with a position
and a plain message.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .datum import Char, Nil, Pair, Span, Symbol, make_pair

CHAR_NAMES = {
    "alarm": 7, "backspace": 8, "delete": 127, "escape": 27, "newline": 10, "null": 0,
    "nul": 0, "return": 13, "space": 32, "tab": 9, "linefeed": 10, "altmode": 27,
}
STRING_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\", "|": "|"}


class ReadError(Exception):
    """Text that is not a well-formed datum.  ``incomplete`` means more input could complete it."""

    def __init__(self, message: str, span: Span, incomplete: bool = False):
        super().__init__(message)
        self.message = message
        self.span = span
        self.incomplete = incomplete

    def __str__(self) -> str:
        return f"{self.span}: read error: {self.message}"


_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        grammar = (Path(__file__).parent / "grammar.lark").read_text()
        # cache=True stores the LALR tables in the temporary directory: start-up is then
        # a file load instead of a table construction.
        _parser = Lark(grammar, parser="lalr", propagate_positions=True, cache=True,
                       maybe_placeholders=False)
    return _parser


# ---------------------------------------------------------------------------------------------
# A character scanner that knows strings, characters, |symbols| and comments.  It blanks out
# nested block comments (keeping line breaks, so positions stay true) and finds unclosed brackets.

class _Scan:
    def __init__(self, text: str):
        self.text = text
        self.openers: list[int] = []     # offsets of brackets still open
        self.unclosed: tuple[str, int] | None = None  # a string, |symbol| or #| left open
        self.stray_closer: int | None = None
        self.blanked = self._run()

    def _run(self) -> str:
        text, out, i, n = self.text, [], 0, len(self.text)
        start = 0
        while i < n:
            c = text[i]
            if c == ";":
                while i < n and text[i] != "\n":
                    i += 1
            elif c == '"' or c == "|":
                j = i + 1
                while j < n and text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                if j >= n:
                    self.unclosed = ("string" if c == '"' else "symbol", i)
                    break
                i = j + 1
            elif c == "#" and text.startswith("#\\", i):
                i += 3
            elif c == "#" and text.startswith("#|", i):
                depth, j = 1, i + 2
                while j < n and depth:
                    if text.startswith("|#", j):
                        depth, j = depth - 1, j + 2
                    elif text.startswith("#|", j):
                        depth, j = depth + 1, j + 2
                    else:
                        j += 1
                if depth:
                    self.unclosed = ("block comment", i)
                    break
                out.append(text[start:i])
                out.append(re.sub(r"[^\n]", " ", text[i:j]))
                start = i = j
            elif c in "([":
                self.openers.append(i)
                i += 1
            elif c in ")]":
                if self.openers:
                    self.openers.pop()
                elif self.stray_closer is None:
                    self.stray_closer = i
                i += 1
            else:
                i += 1
        out.append(text[start:])
        return "".join(out)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def is_complete(text: str) -> bool:
    """Whether ``text`` holds only complete data (what the REPL asks before submitting)."""
    scan = _Scan(text)
    return scan.unclosed is None and not scan.openers


def read_all(text: str, file: str = "<string>", fold_case: bool = False) -> list[tuple[object, Span]]:
    """Every datum of ``text`` with the span where it starts.  With ``fold_case`` (what
    `include-ci` asks), identifiers and character names are read case-folded from the start;
    the directives `#!fold-case` and `#!no-fold-case` in the text switch it on and off (R7RS 2.1)."""
    scan = _Scan(text)
    if scan.unclosed is not None:
        what, offset = scan.unclosed
        raise ReadError(f"unterminated {what}", Span(file, *_position(text, offset)), incomplete=True)
    try:
        tree = _get_parser().parse(scan.blanked)
    except UnexpectedInput as error:
        raise _translate(error, text, scan, file) from None
    return _Builder(file, fold_case).build(tree)


def read_one(text: str, file: str = "<string>"):
    """The single datum in ``text`` (what `string->datum`-style callers want)."""
    data = read_all(text, file)
    if len(data) != 1:
        raise ReadError(f"expected one datum, found {len(data)}", Span(file, 1, 1))
    return data[0][0]


def _translate(error: UnexpectedInput, text: str, scan: _Scan, file: str) -> ReadError:
    if isinstance(error, UnexpectedEOF) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        if scan.openers:
            line, column = _position(text, scan.openers[-1])
            opener = text[scan.openers[-1]]
            return ReadError(f"missing '{')' if opener == '(' else ']'}' to close '{opener}' opened "
                             f"at {line}:{column}", Span(file, line, column), incomplete=True)
        return ReadError("unexpected end of input", Span(file, *_position(text, len(text))),
                         incomplete=True)
    span = Span(file, error.line, error.column)
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type in ("RPAR", "RSQB"):
            if scan.stray_closer is not None and _position(text, scan.stray_closer) == (error.line, error.column):
                return ReadError(f"unexpected '{token}' with no matching opening bracket", span)
            return ReadError(f"'{token}' does not match the opening bracket", span)
        if token.type == "DOT":
            return ReadError("unexpected '.'", span)
        return ReadError(f"unexpected {str(token)!r}", span)
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        if char in ")]":
            return ReadError(f"unexpected '{char}' with no matching opening bracket", span)
        return ReadError(f"unexpected character {char!r}", span)
    return ReadError(str(error).splitlines()[0], span)


# ---------------------------------------------------------------------------------------------
# Parse tree → datums, with an explicit stack.

_SKIP = object()   # a datum comment
_DOT = object()

_ABBREVIATIONS = {"'": "quote", "`": "quasiquote", ",": "unquote", ",@": "unquote-splicing"}


_FOLD_CASE_DIRECTIVES = {"#!fold-case": True, "#!no-fold-case": False}


class _Builder:
    def __init__(self, file: str, fold_case: bool = False):
        self.file = file
        self.fold_case = fold_case   # tokens arrive in text order, so a directive acts on what follows

    def span_of(self, item) -> Span:
        if isinstance(item, Token):
            return Span(self.file, item.line, item.column)
        return Span(self.file, item.meta.line, item.meta.column)

    def build(self, tree: Tree) -> list[tuple[object, Span]]:
        stack = [(tree, iter(tree.children), [])]
        while True:
            node, children, done = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                value = self.combine(node, done)
                if not stack:
                    return value
                stack[-1][2].append((value, self.span_of(node)))
            elif isinstance(child, Tree):
                stack.append((child, iter(child.children), []))
            else:
                done.append((self.token(child), self.span_of(child)))

    def combine(self, node: Tree, items: list):
        kind = node.data
        if kind == "datum_comment":
            return _SKIP
        items = [item for item in items if item[0] is not _SKIP]
        if kind == "start":
            for value, span in items:
                if value is _DOT:
                    raise ReadError("unexpected '.'", span)
            return items
        if kind == "abbreviation":
            if len(items) < 2:
                raise ReadError(f"{items[0][0]} must be followed by a datum", items[0][1])
            (mark, span), (value, _) = items[0], items[-1]
            return make_pair(Symbol(_ABBREVIATIONS[mark]), make_pair(value, Nil, span), span)
        if kind == "vector":
            items = items[1:]  # the "#(" token
            for value, span in items:
                if value is _DOT:
                    raise ReadError("unexpected '.' in a vector", span)
            return [value for value, _ in items]
        # a list, maybe dotted
        span = self.span_of(node)
        tail = Nil
        dots = [index for index, (value, _) in enumerate(items) if value is _DOT]
        if dots:
            index = dots[0]
            if len(dots) > 1 or index == 0 or index != len(items) - 2:
                raise ReadError("bad dotted list: '.' must stand between the last two elements",
                                items[index][1])
            tail = items[-1][0]
            items = items[:index]
        for value, item_span in reversed(items):
            tail = make_pair(value, tail, item_span)
        if isinstance(tail, Pair):
            tail.span = span
        return tail

    def token(self, token: Token):
        kind, text = token.type, str(token)
        if kind == "ATOM":
            if text[:2] == "#!" and text.lower() in _FOLD_CASE_DIRECTIVES:
                self.fold_case = _FOLD_CASE_DIRECTIVES[text.lower()]
                return _SKIP
            value = parse_atom(text, Span(self.file, token.line, token.column))
            if self.fold_case and value.__class__ is Symbol:
                value = Symbol(value.name.casefold())
            return value
        if kind == "STRING":
            return _unescape(text[1:-1], Span(self.file, token.line, token.column), '"')
        if kind == "SYMBOL_BARS":
            return Symbol(_unescape(text[1:-1], Span(self.file, token.line, token.column), "|"))
        if kind == "CHARACTER":
            name = text[2:]
            if self.fold_case and len(name) > 1:
                name = name.casefold()
            return parse_character(name, Span(self.file, token.line, token.column))
        if kind == "DOT":
            return _DOT
        return text  # ABBREV, VECTOR_OPEN: consumed by combine


def _unescape(body: str, span: Span, quote: str) -> str:
    if "\\" not in body:
        return body
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
        elif e == "x":
            end = body.find(";", i)
            digits = body[i + 1:end] if end != -1 else ""
            if end == -1 or not re.fullmatch(r"[0-9a-fA-F]+", digits) or int(digits, 16) > 0x10FFFF:
                raise ReadError(f"bad hex escape in {'string' if quote == chr(34) else 'symbol'}: "
                                f"\\x{digits or body[i + 1:i + 5]}", span)
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
                raise ReadError("bad escape '\\ ' in string", span)
        else:
            raise ReadError(f"unknown escape '\\{e}' in string", span)
    return "".join(out)


def parse_character(name: str, span: Span) -> Char:
    if not name:
        raise ReadError("#\\ must be followed by a character", span, incomplete=True)
    if len(name) == 1:
        return Char(ord(name))
    if name in CHAR_NAMES:
        return Char(CHAR_NAMES[name])
    if name[0] in "xX" and re.fullmatch(r"[0-9a-fA-F]+", name[1:]) and int(name[1:], 16) <= 0x10FFFF:
        return Char(int(name[1:], 16))
    raise ReadError(f"unknown character name #\\{name}", span)


_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = {2: re.compile(r"[+-]?[01]+"), 8: re.compile(r"[+-]?[0-7]+"),
            10: re.compile(r"[+-]?\d+"), 16: re.compile(r"[+-]?[0-9a-fA-F]+")}
_SPECIAL_FLOATS = {"+inf.0": float("inf"), "-inf.0": float("-inf"),
                   "+nan.0": float("nan"), "-nan.0": float("nan")}


_MAX_EXACT_EXPONENT = 100_000     # #e1e100000 has 332,000 bits; a bigger exponent is refused


def parse_number(text: str, radix: int = 10):
    """The number ``text`` denotes, or None.  Raises ZeroDivisionError for `n/0`."""
    exactness = None
    while len(text) >= 2 and text[0] == "#":
        prefix = text[1].lower()
        if prefix in "xbod":
            radix = {"x": 16, "b": 2, "o": 8, "d": 10}[prefix]
        elif prefix in "ei" and exactness is None:
            exactness = prefix
        else:
            return None
        text = text[2:]
    if exactness == "e" and radix == 10 and _DECIMAL.fullmatch(text):
        # the decimal itself, not the float nearest it: #e1.2 is 6/5, #e1e400 is 10⁴⁰⁰
        if abs(int((_DECIMAL.fullmatch(text).group(2) or "e0")[1:])) > _MAX_EXACT_EXPONENT:
            return None
        value = Fraction(text)
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
    if text.lower() in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text.lower()]
    pattern = _INTEGER[radix]
    if pattern.fullmatch(text):
        return int(text, radix)
    numerator, slash, denominator = text.partition("/")
    if slash:
        if pattern.fullmatch(numerator) and _INTEGER[radix].fullmatch(denominator) and denominator[0] not in "+-":
            if int(denominator, radix) == 0:
                raise ZeroDivisionError
            value = Fraction(int(numerator, radix), int(denominator, radix))
            return int(value) if value.denominator == 1 else value
        return None
    if radix == 10 and _DECIMAL.fullmatch(text):
        return float(text)
    return None


def parse_atom(text: str, span: Span):
    if text[0] == "#":
        lowered = text.lower()
        if lowered in ("#t", "#true"):
            return True
        if lowered in ("#f", "#false"):
            return False
        if text.startswith("#\\"):
            return parse_character(text[2:], span)
        try:
            number = parse_number(text)
        except ZeroDivisionError:
            raise ReadError(f"bad number {text}: division by zero", span) from None
        if number is None:
            if len(text) > 1 and text[1].lower() in "xbodei":
                raise ReadError(f"bad number {text}", span)
            raise ReadError(f"bad # syntax: {text}", span)
        return number
    try:
        number = parse_number(text)
    except ZeroDivisionError:
        raise ReadError(f"bad number {text}: division by zero", span) from None
    if number is not None:
        return number
    if text[0].isdigit() or (len(text) > 1 and text[0] in "+-." and (text[1].isdigit() or
                                                                   (text[1] == "." and len(text) > 2 and text[2].isdigit()))):
        raise ReadError(f"bad number {text}", span)
    return Symbol(text)
