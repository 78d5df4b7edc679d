"""Messages a learner meets: huge values abbreviated, "did you mean", hints for a derivative
operator given the wrong kind of arguments, and errors of prelude helpers located at the user's
call.  The derivative operators' new forms (hessian of several arguments, nth-derivative applied
at once) are checked against references computed another way."""

import math
import subprocess
import sys

import pytest

from nablisp.interpreter import Interpreter, NablispError
from nablisp.interpreter.errors import ERROR_VALUE_WIDTH, abbreviate_values
from nablisp.lang.printer import abbreviated_write_string, write_string


@pytest.fixture(scope="module")
def interp():
    return Interpreter()


def error_of(interp, source: str) -> NablispError:
    with pytest.raises(NablispError) as caught:
        interp.evaluate(source)
    return caught.value


# -- huge values -----------------------------------------------------------------------------

def test_a_huge_value_in_a_message_is_abbreviated(interp):
    error = error_of(interp, "(+ 1 (iota 100000))")
    assert error.message.startswith("+: expected a number, got (0 1 2 3 4 5 6 7 8 9 10")
    assert error.message.endswith("...")
    assert len(error.message) < len("+: expected a number, got ") + ERROR_VALUE_WIDTH + 1


def test_irritants_are_abbreviated_one_by_one_and_kept_whole_for_handlers(interp):
    error = error_of(interp, "(error \"bad:\" (iota 1000) 'after)")
    assert error.message.startswith("bad: (0 1 2 3")
    assert error.message.endswith("... after")
    assert interp.evaluate("(guard (e (#t (length (car (error-object-irritants e))))) "
                           "(error \"bad:\" (iota 1000)))") == 1000
    assert interp.evaluate("(guard (e (#t (string-length (error-object-message e)))) "
                           "(vector-ref (make-list 500 'abcdef) 0))") > 3000


def test_short_messages_are_left_alone(interp):
    assert error_of(interp, "(car '(1 . 2) 3)").message.startswith("car:")
    assert error_of(interp, "(vector-ref (vector 1 2) 5)").message == "vector-ref: index 5 out of range [0, 2)"


def test_abbreviation_finds_the_values_in_the_text():
    long_list = "(" + " ".join(map(str, range(200))) + ")"
    text = abbreviate_values(f"f: the tangent {long_list} does not have the shape of the point (1 2)", 50)
    assert text == f"f: the tangent {long_list[:47]}... does not have the shape of the point (1 2)"
    # brackets inside strings and characters are no brackets
    tricky = '("))" #\\) ' + "x " * 100 + ")"
    assert abbreviate_values(f"g: got {tricky} and more", 30) == f"g: got {tricky[:27]}... and more"
    assert abbreviate_values("h: " + '"' + "a" * 100 + '"' + " end", 20) == 'h: "aaaaaaaaaaaaaaaa... end'


def test_abbreviated_write_stops_early_and_cuts():
    from nablisp.lang.datum import make_list
    value = make_list(list(range(100000)))
    text = abbreviated_write_string(value, 40)
    assert text == write_string(value)[:37] + "..."
    assert abbreviated_write_string(make_list([1, 2]), 40) == "(1 2)"


# -- did you mean ----------------------------------------------------------------------------

def test_an_unbound_name_close_to_a_bound_one_gets_a_suggestion(interp):
    assert error_of(interp, "(lenght '(1 2))").message == "unbound variable: lenght; did you mean length?"
    interp.evaluate("(define (square-sum v) (apply + (map square v)))")
    assert "did you mean square-sum?" in error_of(interp, "(square-summ '(1 2))").message
    assert error_of(interp, "(zqxjkv 1)").message == "unbound variable: zqxjkv"
    assert error_of(interp, "(define (g) (set! lenght 1)) (g)").message == \
        "set!: unbound variable: lenght; did you mean length?"


def test_a_script_gets_the_suggestion_too(tmp_path):
    script = tmp_path / "typo.scm"
    script.write_text("(import (scheme base) (scheme write))\n(define counter 1)\n(display countr)\n")
    result = subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", str(script)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 70
    assert result.stderr.splitlines()[0] == f"{script}:3:1: error: unbound variable: countr; did you mean counter?"


# -- derivative operators: hints and names ---------------------------------------------------

@pytest.mark.parametrize("source, message", [
    ("(gradient (lambda (x y) (* x y)) '(1 2))",
     "gradient: the function takes 2 arguments but was given 1 (a list); to differentiate with respect "
     "to several arguments pass them separately: ((gradient f) 1 2), or make f take a list"),
    ("((gradient (lambda (v) (* (car v) (cadr v)))) 1 2)",
     "gradient: the function takes 1 argument but was given 2; to differentiate with respect to several "
     "numbers of one argument, pass them as a list: ((gradient f) '(1 2))"),
    ("(jacobian (lambda (x y) (list x y)) #(3 4))",
     "jacobian: the function takes 2 arguments but was given 1 (a vector); to differentiate with respect "
     "to several arguments pass them separately: ((jacobian f) 3 4), or make f take a list"),
    ("(hessian (lambda (x y z) (* x y z)) '(1 2))",
     "hessian: the function takes 3 arguments but was given 1 (a list)"),
    ("(D (lambda (x y) (* x y)) 1)", "derivative: the function takes 2 arguments but was given 1"),
    ("(hvp (lambda (x y) x) '(3 4) '(1 0))",
     "hvp: the function takes 2 arguments but was given 1 (a list); to differentiate with respect to "
     "several arguments pass them separately: ((hvp f) 3 4), or make f take a list"),
    ("(hvp (lambda (v) v) '(3 4) '(1 0))",
     "hvp: the function returned (3 4), not a number; use jacobian for functions with several outputs"),
    ("(hvp (lambda (v) (car v)) '(3 4))", "hvp: expected a point and a tangent, got 1 argument"),
    ("(hessian (lambda (v) v) '(1 2))",
     "hessian: the function returned (1 2), not a number; use jacobian for functions with several outputs"),
])
def test_operators_say_what_is_wrong_in_their_own_name(interp, source, message):
    assert error_of(interp, source).message.startswith(message)


def test_hessian_of_several_arguments_against_exact_values_and_the_packed_function(interp):
    # f(x, y) = x²y: ∂²/∂x² = 2y, ∂²/∂x∂y = 2x, ∂²/∂y² = 0
    assert interp.eval("(hessian (lambda (x y) (* x x y)) 1 2)") == [[4, 2], [2, 0]]
    # mixed shapes: the rows and columns run over (v1 v2 z)
    assert interp.eval("(hessian (lambda (v z) (* (car v) (cadr v) z z)) '(1 2) 3)") == \
        [[0, 9, 12], [9, 0, 6], [12, 6, 4]]
    several = interp.eval("(hessian (lambda (x y) (* (sin x) (exp (* x y)))) 0.3 0.7)")
    packed = interp.eval("(hessian (lambda (v) (* (sin (car v)) (exp (* (car v) (cadr v))))) '(0.3 0.7))")
    assert several == packed
    # and against central differences of the gradient
    h = 1e-5
    gradient = interp.evaluate("(lambda (x y) (gradient (lambda (x y) (* (sin x) (exp (* x y)))) x y))")
    from nablisp.interpreter.runtime import apply_procedure
    from nablisp.interpreter.embedding import to_python

    def g(x, y):
        return to_python(interp, apply_procedure(gradient, [x, y]))
    numeric = [[(a - b) / (2 * h) for a, b in zip(g(0.3 + h, 0.7), g(0.3 - h, 0.7))],
               [(a - b) / (2 * h) for a, b in zip(g(0.3, 0.7 + h), g(0.3, 0.7 - h))]]
    for row, numeric_row in zip(several, zip(*numeric)):
        assert row == pytest.approx(list(numeric_row), rel=1e-6)


def test_nth_derivative_applies_at_once_with_more_arguments(interp):
    # d³/dx³ x⁴ = 24x
    assert interp.eval("(nth-derivative 3 (lambda (x) (* x x x x)) 2)") == 48
    assert interp.eval("(nth-derivative 2 sin 1.0)") == pytest.approx(-math.sin(1.0), rel=1e-15)
    assert interp.eval("(nth-derivative 0 sin 1.0)") == math.sin(1.0)
    assert interp.eval("((nth-derivative 2 (lambda (x) (* x x x))) 5)") == 30


# -- prelude helpers -------------------------------------------------------------------------

def test_an_error_inside_a_prelude_helper_is_located_at_the_users_call(tmp_path):
    script = tmp_path / "root.scm"
    script.write_text("(define (g x) (+ (* x x) 1))\n(define (solve)\n  (+ 0 (newton-root g 1.0)))\n"
                      "(display (solve))\n")
    result = subprocess.run([sys.executable, "-m", "nablisp.interpreter.cli", str(script)],
                            capture_output=True, text=True, timeout=120)
    lines = result.stderr.splitlines()
    assert lines[0] == f"{script}:3:8: error: /: division by zero (1.0 / 0)"
    assert "prelude.scm" in lines[1]           # the prelude's frame is still in the backtrace
    assert lines[2] == f"  in solve at {script}:3:8"
