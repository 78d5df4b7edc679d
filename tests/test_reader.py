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
    with pytest.raises(ReadError, match="must be followed by a datum"):
        read_all("'#!fold-case")


def test_exact_decimals_are_the_decimal_not_the_nearest_float():
    assert read_one("#e1e400") == 10 ** 400
    assert read_one("#e-1.5e-2") == Fraction(-3, 200)
    assert read_one("#i" + "1" * 400) == float("inf")
    with pytest.raises(ReadError, match="bad number"):
        read_one("#e1e1000000")
