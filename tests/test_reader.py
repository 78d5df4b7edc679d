"""The reader: every kind of datum, spans, deep nesting, and read errors with positions."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nablisp.interpreter.primitives.equivalence import equal
from nablisp.lang.datum import Char, Nil, Symbol, make_list, make_pair
from nablisp.lang.printer import display_string, write_string
from nablisp.lang.reader import ReadError, is_complete, read_all, read_one


def test_atoms():
    assert read_one("42") == 42
    assert read_one("-7") == -7
    assert read_one("123456789012345678901234567890") == 123456789012345678901234567890
    assert read_one("1/3") == Fraction(1, 3)
    assert read_one("4/2") == 2 and type(read_one("4/2")) is int
    assert read_one("1.5e3") == 1500.0
    assert read_one(".5") == 0.5
    assert read_one("+inf.0") == float("inf")
    assert read_one("-inf.0") == float("-inf")
    nan = read_one("+nan.0")
    assert nan != nan
    assert read_one("#x1F") == 31
    assert read_one("#b-101") == -5
    assert read_one("#e1.25") == Fraction(5, 4)
    assert read_one("#i1/4") == 0.25
    assert read_one("#t") is True and read_one("#true") is True
    assert read_one("#f") is False and read_one("#false") is False
    assert read_one("abc") is Symbol("abc")
    assert read_one("...") is Symbol("...")
    assert read_one("+") is Symbol("+")
    assert read_one("->x") is Symbol("->x")
    assert read_one("|hello world|") is Symbol("hello world")
    assert read_one(r"|a\|b|") is Symbol("a|b")


def test_characters():
    assert read_one(r"#\a") is Char(ord("a"))
    assert read_one(r"#\space") is Char(32)
    assert read_one(r"#\newline") is Char(10)
    assert read_one(r"#\x41") is Char(65)
    assert read_one(r"#\x") is Char(ord("x"))
    assert read_one(r"#\(") is Char(ord("("))
    assert read_one(r"#\λ") is Char(ord("λ"))
    assert write_string(read_one(r"(#\) #\;)")) == r"(#\) #\;)"


def test_strings():
    assert read_one(r'"a\nb\t\"c\\"') == 'a\nb\t"c\\'
    assert read_one(r'"\x3bb;"') == "λ"
    assert read_one('"one \\\n    two"') == "one two"
    assert read_one('"multi\nline"') == "multi\nline"


def test_lists_vectors_and_abbreviations():
    assert write_string(read_one("(1 (2 3) . 4)")) == "(1 (2 3) . 4)"
    assert write_string(read_one("[a b]")) == "(a b)"
    assert read_one("#(1 #(2))") == [1, [2]]
    assert write_string(read_one("'a")) == "(quote a)"
    assert write_string(read_one("`(a ,b ,@c)")) == "(quasiquote (a (unquote b) (unquote-splicing c)))"
    assert read_one("()") is Nil


def test_comments():
    assert [d for d, _ in read_all("1 ; comment\n2")] == [1, 2]
    assert [d for d, _ in read_all("#| block #| nested |# still |# 3")] == [3]
    assert write_string(read_one("(1 #;(hidden) 2 #; 3)")) == "(1 2)"
    assert [d for d, _ in read_all("#;#;1 2 3")] == [3]
    # a line comment ends at any R7RS line ending: \n, \r\n or a lone \r (old Mac text)
    assert [d.name for d, _ in read_all("yes; this \nbut;\r\n this is;too\rnot")] == ["yes", "but", "this", "is", "not"]


def test_spans():
    data = read_all("(define x 1)\n  (display\n   x)", "f.scm")
    assert [(s.file, s.line, s.column) for _, s in data] == [("f.scm", 1, 1), ("f.scm", 2, 3)]
    second = data[1][0]
    assert (second.span.line, second.span.column) == (2, 3)
    # each element's spine pair knows where the element starts
    assert (second.cdr.span.line, second.cdr.span.column) == (3, 4)


def test_spans_after_block_comment_are_true():
    data = read_all("#| one\ntwo |# (a)\n(b)", "f.scm")
    assert [(s.line, s.column) for _, s in data] == [(2, 8), (3, 1)]


def test_deep_nesting_reads_without_recursion():
    depth = 10_000
    datum = read_one("(" * depth + "x" + ")" * depth)
    for _ in range(depth - 1):
        datum = datum.car
    assert datum.car is Symbol("x")
    text = write_string(read_one("(" * depth + ")" * depth))
    assert text == "(" * (depth - 1) + "()" + ")" * (depth - 1)


@pytest.mark.parametrize("text, message, line, column", [
    ("(1 2", "missing ')' to close '(' opened at 1:1", 1, 1),
    ("(a\n (b c)", "missing ')' to close '(' opened at 1:1", 1, 1),
    (")", "unexpected ')'", 1, 1),
    ("(a))", "unexpected ')'", 1, 4),
    ('"abc', "unterminated string", 1, 1),
    ("x\n  \"abc", "unterminated string", 2, 3),
    ("#|", "unterminated block comment", 1, 1),
    ("#q", "bad # syntax", 1, 1),
    ("12abc", "bad number 12abc", 1, 1),
    ("1/0", "division by zero", 1, 1),
    ("#xZZ", "bad number", 1, 1),
    ("(1 . )", "bad dotted list", 1, 4),
    ("(. 1)", "bad dotted list", 1, 2),
    ("(1 . 2 3)", "bad dotted list", 1, 4),
    ("(]", "does not match", 1, 2),
    ("#\\nosuchname", "unknown character name", 1, 1),
    ('"\\q"', "unknown escape", 1, 1),
    ("#(1 . 2)", "'.' in a vector", 1, 5),
])
def test_read_errors(text, message, line, column):
    with pytest.raises(ReadError) as info:
        read_all(text, "bad.scm")
    error = info.value
    assert message in error.message
    assert (error.span.file, error.span.line, error.span.column) == ("bad.scm", line, column)
    assert str(error).startswith(f"bad.scm:{line}:{column}: read error:")


def test_incomplete_input_is_flagged():
    assert is_complete("(a b)")
    assert not is_complete("(a (b)")
    assert not is_complete('"abc')
    assert is_complete('"(" ; (\n')
    assert is_complete(r"#\(")
    assert not is_complete("#| (")
    with pytest.raises(ReadError) as info:
        read_all("(a")
    assert info.value.incomplete
    with pytest.raises(ReadError) as info:
        read_all("a)")
    assert not info.value.incomplete


def test_display_and_write():
    value = read_one(r'("a\"b" #\x #\space sym |odd sym| 1/2 1.0 #t #f ())')
    assert write_string(value) == r'("a\"b" #\x #\space sym |odd sym| 1/2 1.0 #t #f ())'
    assert display_string(value) == '(a"b x   sym odd sym 1/2 1.0 #t #f ())'


def test_circular_structures_print_with_labels():
    cell = make_pair(1, Nil)
    cell.cdr = cell
    assert write_string(cell) == "#0=(1 . #0#)"
    vector = [1, None]
    vector[1] = vector
    assert write_string(vector) == "#0=#(1 #0#)"
    shared = make_list([1])
    assert write_string(make_list([shared, shared])) == "((1) (1))"


# -- properties --------------------------------------------------------------------------------

_symbol_names = st.one_of(
    st.from_regex(r"[a-z!$%&*/:<=>?^_~][a-z0-9!$%&*/:<=>?^_~+\-.@]{0,8}", fullmatch=True),
    st.text(min_size=0, max_size=8))

_atoms = st.one_of(
    st.integers(), st.fractions().map(lambda f: f if f.denominator != 1 else f.numerator),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.text(max_size=10), _symbol_names.map(Symbol),
    st.integers(min_value=0, max_value=0x10FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF).map(Char))


def _data():
    return st.recursive(
        _atoms,
        lambda children: st.one_of(
            st.lists(children, max_size=5).map(make_list),
            st.tuples(st.lists(children, min_size=1, max_size=4), children).map(lambda p: make_list(*p)),
            st.lists(children, max_size=4)),
        max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_data())
def test_write_then_read_gives_an_equal_datum(datum):
    assert equal(read_one(write_string(datum)), datum)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("()[]#\\|\"';`,@.xa1 \n/-+e")) | st.characters(), max_size=30))
def test_arbitrary_text_reads_or_raises_a_read_error(text):
    try:
        read_all(text, "fuzz.scm")
    except ReadError as error:
        assert error.span.file == "fuzz.scm"
        assert error.span.line >= 1 and error.span.column >= 1


def test_odd_symbols_are_written_with_bars():
    for name in [".", "", "a b", "1+", "#foo", "|", "x;y"]:
        assert read_one(write_string(Symbol(name))) is Symbol(name)


def test_fold_case_directives_and_option():
    """R7RS 2.1: `#!fold-case` folds identifiers and character names that follow it, never
    strings or |symbols|; `#!no-fold-case` stops it; `fold_case=True` (include-ci) starts folded."""
    data = [d for d, _ in read_all('ABC #!fold-case ABC #\\SPACE #\\A "Str" |Bar| #!NO-FOLD-CASE XY')]
    assert data == [Symbol("ABC"), Symbol("abc"), Char(32), Char(ord("A")), "Str", Symbol("Bar"), Symbol("XY")]
    (datum, _), = read_all("(Define X #\\NewLine)", fold_case=True)
    assert equal(datum, make_list([Symbol("define"), Symbol("x"), Char(10)]))
    with pytest.raises(ReadError, match="the input ends where a datum must follow"):
        read_all("'#!fold-case")


def test_exact_decimals_are_the_decimal_not_the_nearest_float():
    assert read_one("#e1e400") == 10 ** 400
    assert read_one("#e-1.5e-2") == Fraction(-3, 200)
    assert read_one("#i" + "1" * 400) == float("inf")
    with pytest.raises(ReadError, match="bad number"):
        read_one("#e1e1000000")


# -- one datum at a time (what `read` does) ------------------------------------------------------

from nablisp.lang.datum import EOF, Pair  # noqa: E402
from nablisp.lang.reader import Reader, open_brackets  # noqa: E402


def _read_in_pieces(text: str, cuts: list[int]) -> list:
    """Every datum of ``text``, read by a Reader that is given the text in pieces."""
    bounds = sorted({0, len(text), *(c for c in cuts if 0 < c < len(text))})
    pieces = iter([text[a:b] for a, b in zip(bounds, bounds[1:])])
    reader = Reader(next(pieces, ""), more=lambda: next(pieces, ""), spans=False)
    data = []
    while (datum := reader.read()) is not EOF:
        data.append(datum)
    return data


@settings(max_examples=300, deadline=None)
@given(st.lists(_data(), max_size=4), st.lists(st.integers(0, 200), max_size=6))
def test_a_stream_in_pieces_reads_like_the_whole_text(data, cuts):
    text = " ".join(write_string(datum) for datum in data) + " ; end"
    assert equal(make_list(_read_in_pieces(text, cuts)), make_list(d for d, _ in read_all(text)))


def test_the_reader_stops_where_the_datum_ends():
    for text, end in [("abc def", 3), ("(a b)c", 5), ('"s"x', 3), ("abc)def", 3), ("'x y", 2),
                      ("#;1 2 3", 5), ("#u8(1) 2", 6), ("#0=(a . #0#) b", 12)]:
        reader = Reader(text, spans=False)
        reader.read()
        assert reader.position == end, text


def test_a_stream_is_asked_for_no_more_than_the_datum_needs():
    lines = iter(["(a\n", " b) c\n", "d\n"])
    asked = []

    def more():
        asked.append(1)
        return next(lines, "")
    reader = Reader("", more=more, spans=False)
    assert write_string(reader.read()) == "(a b)"
    assert len(asked) == 2
    assert reader.read() is Symbol("c") and len(asked) == 2


def test_reading_many_data_takes_time_proportional_to_their_number():
    import time
    text = " ".join(str(i) for i in range(20_000))
    reader = Reader(text, spans=False)
    started = time.perf_counter()
    count = 0
    while reader.read() is not EOF:
        count += 1
    assert count == 20_000
    assert time.perf_counter() - started < 5      # a quadratic reader takes minutes here


def test_read_from_stream_ports_counts_lines_across_reads():
    import io

    from nablisp.interpreter.primitives.ports import InputPort, read, read_char, read_line
    from nablisp.interpreter.errors import SchemeError
    port = InputPort(stream=io.StringIO('first line\n(a\n b) "x\ny" 7\n  (c]\n'), name="data.txt")
    assert read_line(port) == "first line"
    assert write_string(read(port)) == "(a b)"
    assert read(port) == "x\ny"
    assert read_char(port) is Char(32)
    assert read(port) == 7
    with pytest.raises(SchemeError) as info:
        read(port)
    assert info.value.payload.kind == "read"
    assert info.value.message == "read: data.txt:5:5: ']' does not match the opening '(' at 5:3"
    assert read(port) is EOF


def test_deep_nesting_of_a_hundred_thousand_reads():
    depth = 100_000
    for datum in (read_one("(" * depth + ")" * depth),
                  Reader("(" * depth + ")" * depth, spans=False).read()):
        for _ in range(depth - 1):
            datum = datum.car
        assert datum is Nil
    with pytest.raises(ReadError) as info:
        read_all("(" * depth)
    assert info.value.message == f"missing ')' to close '(' opened at 1:{depth}"
    assert info.value.open_brackets == depth


# -- R7RS syntax beyond the s-expression core -------------------------------------------------------

def test_datum_labels_make_shared_and_circular_structure():
    cycle = read_one("#0=(a b . #0#)")
    assert cycle.cdr.cdr is cycle
    shared = read_one("(#0=(1 2) #0# #0#)")
    assert shared.car is shared.cdr.car is shared.cdr.cdr.car
    vector = read_one("#7=#(1 #7#)")
    assert vector[1] is vector
    nested = read_one("#0=(a #1=(b #0#) #1#)")
    assert nested.cdr.car.cdr.car is nested and nested.cdr.car is nested.cdr.cdr.car
    # a label's scope is its top-level datum
    with pytest.raises(ReadError, match="datum label #0# is not defined"):
        read_all("#0=(a) #0#")


def test_circular_code_is_refused_but_circular_quoted_data_is_not():
    assert read_all("(define x '#0=(a . #0#))")
    assert read_all("(quote #0=(quote . #0#))")
    assert read_all("(f (list '#0=(1 . #0#) '#0#))")
    for text in ["#0=(begin . #0#)", "`(1 #0=(2 . #0#))", "(list 'a . #0=(quote . #0#))"]:
        with pytest.raises(ReadError, match="circular code") as info:
            read_all("\n" + text, "c.scm")
        assert (info.value.span.line, info.value.span.column) == (2, 1)


def test_fold_case_directives():
    data = [d for d, _ in read_all("#!fold-case ABC #\\NewLine |Bar| #!no-fold-case Def")]
    assert data == [Symbol("abc"), Char(10), Symbol("Bar"), Symbol("Def")]


def test_a_script_s_interpreter_line_is_skipped_only_at_the_start():
    data = read_all("#!/usr/bin/env nablisp\n(display 1)\n", "s.scm")
    assert [(write_string(d), s.line, s.column) for d, s in data] == [("(display 1)", 2, 1)]
    assert [d for d, _ in read_all("#! /bin/nablisp -q\n42")] == [42]
    with pytest.raises(ReadError, match="unknown directive"):
        read_all("1\n#!/usr/bin/env nablisp\n")


def test_bytevector_literals():
    value = read_one("#u8(0 1 #xff)")
    assert value.__class__ is bytearray and value == bytearray([0, 1, 255])
    assert write_string(value) == "#u8(0 1 255)"
    assert write_string(make_list([bytearray(), bytearray(b"\x07")])) == "(#u8() #u8(7))"
    for bad in ["#u8(256)", "#u8(-1)", "#u8(1.0)", "#u8(a)", "#u8(#t)", "#u8(1 . 2)"]:
        with pytest.raises(ReadError):
            read_all(bad)


def test_symbols_are_written_with_bars_when_they_need_them():
    cases = {".": "|.|", "": "||", "a b": "|a b|", "a|b": "|a\\|b|", "\\123": "|\\\\123|",
             "123": "|123|", "1x": "|1x|", "+i": "|+i|", "-inf.0": "|-inf.0|", "+NaN.0abc": "|+NaN.0abc|",
             "tab\t": "|tab\\t|", "nul\0": "|nul\\x0;|", "a": "a", "...": "...", "+": "+", "-in": "-in",
             "λx": "λx", "a.b": "a.b", "#foo": "|#foo|"}
    for name, text in cases.items():
        assert write_string(Symbol(name)) == text, name
        assert read_one(text) is Symbol(name)


def test_chars_and_strings_reject_what_is_not_a_unicode_scalar_value():
    for bad in [r"#\xD800", r'"\xDFFF;"', r"|\x110000;|", r'"\x;"']:
        with pytest.raises(ReadError):
            read_all(bad)


def test_complex_numbers_are_refused_by_name():
    for text in ["1+2i", "+i", "-2.5i", "1@2", "+inf.0i", "#x10+11i"]:
        with pytest.raises(ReadError, match="complex numbers are not supported"):
            read_one(text)
        # program text keeps them, for code that never runs (evaluating one is the error)
        assert write_string(read_all(f"(a {text})")[0][0]) == f"(a {text})"
    for name in ["a-i", "abc+i", "-in", "x@y"]:
        assert read_one(name) is Symbol(name)


def test_write_shared_and_write_simple():
    from nablisp.lang.printer import CircularDatumError, write_shared_string, write_simple_string
    shared = make_list([1])
    pair = make_list([shared, shared])
    assert write_string(pair) == "((1) (1))"
    assert write_shared_string(pair) == "(#0=(1) #0#)"
    assert write_simple_string(pair) == "((1) (1))"
    cycle = read_one("#0=(1 . #0#)")
    assert write_shared_string(cycle) == "#0=(1 . #0#)"
    with pytest.raises(CircularDatumError):
        write_simple_string(cycle)


def test_open_brackets_for_indenting():
    assert open_brackets("(define (f x)\n  (let ((y") == 4
    assert open_brackets('(a "(((') == 1
    assert open_brackets("(a) (b)") == 0
    assert open_brackets("#(1 #u8(2") == 2
    assert not is_complete("'")
    assert not is_complete("(a #;")
    assert is_complete("(a))")


def test_numbers_are_made_of_ascii_digits_only():
    # Python's \d and str.isdigit take "٣" (Arabic-Indic three) and "³" for digits; R7RS does not
    assert read_one("+³") == Symbol("+³")
    assert read_one("-²x") == Symbol("-²x")
    assert read_one("٣") == Symbol("٣")
    assert read_one("١.٥") == Symbol("١.٥")
    for text in ("1٣", "1e٣", "#x٣"):
        with pytest.raises(ReadError, match="bad number"):
            read_one(text)
    assert write_string(Symbol("٣")) == "٣"          # reads back as the symbol: no bars needed
    assert write_string(Symbol("1")) == "|1|"


def test_string_to_number_takes_ascii_digits_only():
    from nablisp.interpreter import Interpreter
    assert Interpreter().eval('(map string->number (list "٣" "+³" "1٣" "#x٣" "13"))') == \
        [False, False, False, False, 13]
