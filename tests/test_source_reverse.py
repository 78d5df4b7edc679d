"""Gradients by source transformation (ad/source_reverse.py): a forward sweep that keeps each
loop iteration's inputs and a reverse sweep that computes each again and runs it backwards —
held to the tape (run separately), to exact gradients and to central differences, nested under
other operators, and handing over to the tape, with its errors, where it does not apply."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_same_outcome, by_generated_code, close
from conftest import interpreter_generating as interpreter
from nablisp.interpreter import Interpreter, NablispError




@pytest.fixture()
def interp():
    return interpreter(True)




W5 = ("(define (w5-f p steps) (let ((a (car p)) (b (cadr p))) (let loop ((k 0) (y 0.5)) "
      "(if (= k steps) y (loop (+ k 1) (+ (* a (sin y)) (* b y) 0.1))))))")
W2 = ("(define (w2-f xs) (let loop ((xs xs) (acc 0.0)) (if (null? (cdr xs)) acc "
      "(let ((a (car xs)) (b (cadr xs))) (loop (cdr xs) (+ acc (* (sin a) b) (/ (* a a) (+ 1 (* b b)))))))))")
ROSENBROCK = ("(define (rosenbrock xs) (let loop ((xs xs) (acc 0.0)) (if (null? xs) acc "
              "(let ((a (car xs)) (b (cadr xs))) (loop (cddr xs) (+ acc (* 100 (square (- b (* a a)))) "
              "(square (- 1 a))))))))")




def test_exact_gradients_of_several_arguments_and_of_lists(interp):
    assert by_generated_code(interp, "(gradient (lambda (x y) (* (+ x y) y)) 3 4)") == [4, 11]
    assert by_generated_code(interp, "(gradient (lambda (v) (+ (car v) (* (car v) (cadr v)) (caddr v))) '(1 2 3))") \
        == [3, 1, 1]
    # a loop down a list: d/dxᵢ Σ xᵢ² = 2xᵢ, exact
    assert by_generated_code(interp, "(gradient (lambda (v) (let loop ((v v) (s 0)) (if (null? v) s "
                                      "(loop (cdr v) (+ s (* (car v) (car v))))))) '(1 2 3))") == [2, 4, 6]
    assert by_generated_code(interp, "(gradient (lambda (x) (* x x x)) 1/2)") == Fraction(3, 4)


def test_the_extended_rosenbrock_gradient_is_the_symbolic_one(interp):
    interp.eval(ROSENBROCK)
    xs = [-1.2, 1.0, -1.18, 1.03, 0.5, 0.3]
    expected = []
    for i in range(0, len(xs), 2):
        a, b = xs[i], xs[i + 1]
        expected += [-400 * a * (b - a * a) - 2 * (1 - a), 200 * (b - a * a)]
    value = by_generated_code(interp, f"(gradient rosenbrock '({' '.join(map(str, xs))}))")
    assert close(value, expected, rel=1e-12)


def test_w5_through_a_loop_of_many_steps_against_differences_and_the_tape(interp):
    interp.eval(W5)
    value = by_generated_code(interp, "(gradient (lambda (p) (w5-f p 1000)) '(0.5 0.4))")
    h = 1e-6
    for index in range(2):
        point = [0.5, 0.4]
        up, down = list(point), list(point)
        up[index] += h
        down[index] -= h
        fd = (interp.eval(f"(w5-f '({up[0]} {up[1]}) 1000)") - interp.eval(f"(w5-f '({down[0]} {down[1]}) 1000)")) / (2 * h)
        assert math.isclose(value[index], fd, rel_tol=1e-5)
    tape = interpreter(False)
    tape.eval(W5)
    assert close(value, tape.eval("(gradient (lambda (p) (w5-f p 1000)) '(0.5 0.4))"), rel=1e-12)


def test_w2_down_a_list_of_a_thousand_numbers_is_the_tapes_gradient(interp):
    interp.eval(W2)
    source = "(gradient w2-f (map (lambda (i) (+ (sin i) 0.5)) (iota 1000)))"
    value = by_generated_code(interp, source)
    tape = interpreter(False)
    tape.eval(W2)
    assert close(value, tape.eval(source), rel=1e-12)


def test_the_code_is_a_forward_sweep_and_a_reverse_sweep(interp):
    interp.eval(W5)
    text = interp.eval("(let ((p (open-output-string))) (write (gradient-code (lambda (p) (w5-f p 10))) p) "
                       "(get-output-string p))")
    assert "(backwards " in text and "a\u0304" in text and "b\u0304" in text
    assert "#<procedure" not in text          # the helpers are shown by name


NESTED = [
    # Hessians are forward mode over the generated reverse sweep
    "(hessian rosenbrock '(-1.2 1.0 0.5 0.25))",
    "((D (lambda (s) (car (gradient (lambda (v) (* s (car v) (car v) (cadr v))) (list 1.5 2.0))))) 3.0)",
    "(gradient (lambda (v) ((D (lambda (t) (* t (car v) (cadr v)))) 2.0)) '(3.0 4.0))",
    "(gradient (lambda (v) (car (gradient (lambda (w) (* (car w) (car w) (car v))) (list (cadr v))))) '(2.0 5.0))",
]


@pytest.mark.parametrize("expression", NESTED)
def test_nested_under_and_over_other_operators(expression):
    generated, tape = interpreter(True), interpreter(False)
    for each in (generated, tape):
        each.eval(ROSENBROCK)
    assert close(generated.eval(expression), tape.eval(expression), rel=1e-12)


def test_errors_and_zeros_are_the_tapes(interp):
    tape = interpreter(False)
    for expression in ("(gradient (lambda (v) (log (car v))) '(0))",
                       "(gradient (lambda (v) (/ 1 (car v))) '(0))",
                       "(gradient (lambda (x y) (sqrt (* x y))) 0 0)",
                       "(gradient (lambda (v) (car (cddr v))) '(1 2))"):
        outcomes = []
        for each in (interp, tape):
            try:
                outcomes.append(("value", each.eval(expression)))
            except NablispError as error:
                outcomes.append(("error", str(error)))
        assert outcomes[0] == outcomes[1], expression
    # a zero gradient is the tape's exact 0 where it drops a zero adjoint
    assert interp.eval("(gradient (lambda (x) (* x 0.0)) 2.0)") == tape.eval("(gradient (lambda (x) (* x 0.0)) 2.0)")


def test_what_it_does_not_read_goes_to_the_tape(interp):
    for source in ("(lambda (v) (apply + (map square v)))", "(lambda (v) (let ((w (list (car v)))) (car w)))",
                   "(lambda (v) (vector-ref (list->vector v) 0))"):
        with pytest.raises(NablispError, match="tape"):
            interp.eval(f"(gradient-code {source})")
        tape = interpreter(False)
        assert interp.eval(f"(gradient {source} '(1.0 2.0))") == tape.eval(f"(gradient {source} '(1.0 2.0))")


def test_limits_stop_the_generated_sweeps():
    interp = Interpreter(max_steps=10_000)
    interp.eval(W5)
    with pytest.raises(NablispError, match="step"):
        interp.eval("(gradient (lambda (p) (w5-f p 1000000)) '(0.5 0.4))")


# -- random programs: generated gradients against the tape -------------------------------------------

UNARY = ["sin", "cos", "exp", "tanh", "square", "-", "sqrt", "log", "atan"]
BINARY = ["+", "-", "*", "/"]


def expressions():
    leaf = st.sampled_from(["a", "b", "(car v)", "(cadr v)", "2", "0.5", "-1.25"])
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"({t[0]} {t[1]})"),
            st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(children, children, children).map(lambda t: f"(if (< {t[0]} 0.7) {t[1]} {t[2]})"),
        ),
        max_leaves=8)


def programs():
    body = expressions()
    looped = st.tuples(expressions(), expressions()).map(
        lambda t: f"(let loop ((i 0) (a (car v)) (b (cadr v))) (if (= i 3) (+ a b) (loop (+ i 1) {t[0]} {t[1]})))")
    straight = body.map(lambda e: f"(let ((a (car v)) (b (cadr v))) {e})")
    return st.one_of(straight, looped)




@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=programs(), point=st.sampled_from(["'(0.3 1.7)", "'(-0.9 2)", "'(1 2)", "'(0.0 0.5)"]))
def test_random_programs_give_the_tapes_gradient(pair, body, point):
    assert_same_outcome(pair, f"(gradient (lambda (v) {body}) {point})")


def test_few_inputs_are_differentiated_forwards_in_one_pass(interp):
    interp.eval(W5)
    text = interp.eval("(let ((p (open-output-string))) (write (gradient-code (lambda (p) (w5-f p 10)) '(0.5 0.4)) p)"
                       " (get-output-string p))")
    # a tangent per input beside y, no stack, no reverse sweep
    assert "(k y d0y d1y)" in text and "(list d0y d1y)" in text and "backwards" not in text
    value = by_generated_code(interp, "(gradient (lambda (p) (w5-f p 1000)) '(0.5 0.4))")
    tape = interpreter(False)
    tape.eval(W5)
    assert close(value, tape.eval("(gradient (lambda (p) (w5-f p 1000)) '(0.5 0.4))"), rel=1e-12)
    # several arguments, and a list beside a number
    assert by_generated_code(interp, "(gradient (lambda (v s) (* s (car v) (cadr v))) '(2 3) 5)") == [[15, 10], 6]
