"""The REPL's layout of values: the same datum as `write` gives, broken into lines only where it
does not fit, matrices as aligned rows."""

from fractions import Fraction

from hypothesis import given, settings, strategies as st

from nablisp.lang.datum import Nil, Symbol, make_list
from nablisp.lang.pretty import MAX_BREAK_DEPTH, matrix_rows_of, pretty_string
from nablisp.lang.printer import write_string
from nablisp.lang.reader import read_all


def L(*items):
    return make_list(list(items))


def test_what_fits_is_written_as_is():
    value = L(1, "two", Symbol("three"), L(4.5, Fraction(1, 3)))
    assert pretty_string(value, 80) == write_string(value) == '(1 "two" three (4.5 1/3))'


def test_a_matrix_that_does_not_fit_gets_aligned_rows():
    matrix = L(L(1, -20, 300), L(4000, 5, 6.5))
    assert pretty_string(matrix, 10) == "((   1 -20 300)\n (4000   5 6.5))"
    assert pretty_string(matrix, 80, matrix_rows=True) == pretty_string(matrix, 10)
    assert pretty_string(L(Symbol("h"), matrix), 12) == "(h\n ((   1 -20 300)\n  (4000   5 6.5)))"


def test_what_is_not_a_matrix():
    assert matrix_rows_of(L(L(1, 2), L(3))) is None                  # ragged
    assert matrix_rows_of(L(L(1, 2))) is None                        # one row
    assert matrix_rows_of(L(L(1, Symbol("x")), L(3, 4))) is None     # not numbers
    assert matrix_rows_of(L(L(1, 2), L(3, 4))) == [[1, 2], [3, 4]]


def test_a_long_list_of_atoms_fills_its_lines():
    text = pretty_string(make_list(list(range(30))), 20)
    assert text.splitlines() == ["(0 1 2 3 4 5 6 7 8 9", " 10 11 12 13 14 15", " 16 17 18 19 20 21",
                                 " 22 23 24 25 26 27", " 28 29)"]
    assert all(len(line) <= 20 for line in text.splitlines())


def test_nested_lists_vectors_and_dotted_tails_break_under_their_first_element():
    value = make_list([L(*range(12))], 5)
    assert pretty_string(value, 16) == "((0 1 2 3 4 5 6\n  7 8 9 10 11)\n . 5)"
    vector = [L(1, 2, 3), "a long string here"]
    assert pretty_string(vector, 16) == '#((1 2 3)\n  "a long string here")'


def test_circular_data_is_written_with_labels():
    value = L(1, 2, 3)
    value.cdr.cdr.cdr = value
    assert pretty_string(value, 4) == "#0=(1 2 3 . #0#)"


def test_deep_nesting_stops_breaking_and_needs_no_deep_recursion():
    value = Nil
    for index in range(100_000):
        value = L(index, value)
    text = pretty_string(value, 40)
    assert len(text.splitlines()) == MAX_BREAK_DEPTH + 1
    assert " ".join(text.split()) == write_string(value)


numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.fractions(max_denominator=50).filter(lambda q: q.denominator != 1))
atoms = st.one_of(numbers, st.text(max_size=8), st.sampled_from([Symbol("x"), Symbol("long-name"), True, Nil]))
values = st.recursive(atoms, lambda inner: st.one_of(st.lists(inner, max_size=12).map(make_list),
                                                     st.lists(inner, max_size=6)), max_leaves=60)


@settings(max_examples=200, deadline=None)
@given(values, st.integers(8, 100))
def test_the_layout_reads_back_as_the_same_datum(value, width):
    text = pretty_string(value, width)
    [(datum, _)] = read_all(text, "<pretty>")
    assert write_string(datum) == write_string(value)
