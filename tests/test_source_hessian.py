"""Hessians by source transformation: for few input numbers, the gradient's generated code
(forward mode, one direction per input) differentiated again in every direction — held to the
symbolic Hessian, to central differences of the gradient, to the duals and the tape (run
separately) on random programs, nested under other operators, and handing over to forward mode
over the tape where it does not apply."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_same_outcome, by_generated_code, close
from nablisp.interpreter import NablispError
from conftest import interpreter_generating as interpreter
from test_source_reverse import W5, programs


@pytest.fixture()
def interp():
    return interpreter(True)




def test_exact_hessians_are_the_symbolic_ones(interp):
    # x²y²: [[2y², 4xy], [4xy, 2x²]], exact at an exact point
    assert by_generated_code(interp, "(hessian (lambda (x y) (* x x y y)) 2 3)") == [[18, 24], [24, 8]]
    assert by_generated_code(interp, "(hessian (lambda (x) (* x x x x)) 1/2)") == Fraction(3)
    # x²y + y·sin z + z³ at a list argument: [[2y, 2x, 0], [2x, 0, cos z], [0, cos z, 6z − y sin z]]
    x, y, z = 1.0, 2.0, 0.5
    value = by_generated_code(interp, "(hessian (lambda (v) (let ((x (car v)) (y (cadr v)) (z (caddr v))) "
                                      "(+ (* x x y) (* y (sin z)) (* z z z)))) '(1.0 2.0 0.5))")
    assert close(value, [[2 * y, 2 * x, 0], [2 * x, 0, math.cos(z)], [0, math.cos(z), 6 * z - y * math.sin(z)]],
                 rel=1e-14)
    # a list beside a number, the rows and columns over all their numbers in order: f = s·a·b
    assert by_generated_code(interp, "(hessian (lambda (v s) (* s (car v) (cadr v))) '(2 3) 5)") == \
        [[0, 5, 3], [5, 0, 2], [3, 2, 0]]


def test_a_loop_against_central_differences_of_the_gradient(interp):
    interp.eval(W5)
    h = 1e-5
    value = by_generated_code(interp, "(hessian (lambda (p) (w5-f p 30)) '(0.5 0.4))")
    gradient = interp.eval("(lambda (a b) (gradient (lambda (p) (w5-f p 30)) (list a b)))")
    for j, step in enumerate(([h, 0], [0, h])):
        ahead = interp.call(gradient, 0.5 + step[0], 0.4 + step[1])
        behind = interp.call(gradient, 0.5 - step[0], 0.4 - step[1])
        column = [(p - q) / (2 * h) for p, q in zip(ahead, behind)]
        assert close([row[j] for row in value], column, rel=1e-6)
    tape = interpreter(False)
    tape.eval(W5)
    assert close(value, tape.eval("(hessian (lambda (p) (w5-f p 30)) '(0.5 0.4))"), rel=1e-12)


def test_the_code_is_the_gradients_code_differentiated_again(interp):
    interp.eval("(define (f x y) (* (exp x) (sin y)))")
    generated = interp.operators.generated
    f = interp.lookup_value("f")
    assert by_generated_code(interp, "(hessian f 0.3 0.7)") is not None
    lengths = (None, None)
    gradient = generated.lookup_gradient(f, ("forward",) + lengths)
    hessian = generated.lookup_hessian(f, lengths)
    assert gradient is not None and hessian is not None and hessian.node is not gradient.node
    # computed again after a redefinition of what it inlines or assumes
    interp.eval("(define (g x) (* x x x))")
    assert by_generated_code(interp, "(hessian (lambda (x y) (* (g x) y)) 2.0 3.0)") == [[36.0, 12.0], [12.0, 0]]
    interp.eval("(define (g x) (* x x))")
    assert by_generated_code(interp, "(hessian (lambda (x y) (* (g x) y)) 2.0 3.0)") == [[6.0, 4.0], [4.0, 0]]


NESTED = [
    # a Hessian under a derivative, its captured variable and its inputs perturbed from outside
    "((D (lambda (s) (car (car (hessian (lambda (x y) (* s x x y)) 1.5 2.0))))) 3.0)",
    "((D (lambda (s) (cadr (car (hessian (lambda (x y) (* (sin (* s x)) y)) s 2.0))))) 0.7)",
    "(gradient (lambda (v) (car (car (hessian (lambda (x y) (* (car v) x x (exp y))) (cadr v) 0.5)))) '(2.0 0.3))",
    "(hessian (lambda (v) ((D (lambda (t) (* t t (car v) (cadr v)))) 2.0)) '(3.0 4.0))",
    "(hessian (lambda (x y) (hessian (lambda (u) (* u u u x y y)) 2.0)) 1.5 0.5)",
]


@pytest.mark.parametrize("expression", NESTED)
def test_nested_under_and_over_other_operators(expression):
    generated, reference = interpreter(True), interpreter(False)
    assert close(generated.eval(expression), reference.eval(expression), rel=1e-12)


def test_what_it_does_not_read_goes_to_forward_mode_over_the_tape(pair):
    for expression in (
            "(hessian (lambda (v) (apply * v)) '(1.0 2.0 3.0))",                   # apply: not read
            "(hessian (lambda (v) (let loop ((v v) (s 0)) (if (null? v) s (loop (cdr v) (* s (car v)))))) "
            "'(1.0 2.0 3.0 4.0 5.0))",                                             # five inputs
            "(hessian (lambda (x y) (log (* x y))) 0 1)",                          # the tape's error
            "(hessian (lambda (x y) (* x 0.0 y)) 1.0 2.0)"):                       # zeros: the tape's kind
        assert_same_outcome(pair, expression, rel=1e-12)


@pytest.mark.parametrize("expression", [
    "(hessian (lambda (x) (if (< x 0) (- x) (* x x x))) 2.0)",
    "(hessian (lambda (x y) (* y (if (< x 1) (sin x) (cos x)))) 0.5 2.0)",
    "((D (D (lambda (x) (* x (if (< x 1) (sin x) (cos x)))))) 0.5)",
    "((D (D (lambda (x) (let ((f (lambda (y) (* y y x)))) (f (sin x)))))) 0.3)",
])
def test_an_if_whose_value_is_used_is_differentiated_again(expression):
    # the first derivative's code joins the branches in a procedure both call in tail position
    generated, reference = interpreter(True), interpreter(False)
    assert close(by_generated_code(generated, expression), reference.eval(expression), rel=1e-12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=programs(), point=st.sampled_from(["'(0.3 1.7)", "'(-0.9 2)", "'(1 2)", "'(0.0 0.5)"]))
def test_random_programs_give_the_tapes_hessian(pair, body, point):
    assert_same_outcome(pair, f"(hessian (lambda (v) {body}) {point})")


def test_hessian_code_shows_it_and_says_why_not(interp):
    interp.eval("(define (g x y) (* (exp x) (sin y)))")
    text = interp.eval("(let ((p (open-output-string))) (write (hessian-code g 0.3 0.7) p) (get-output-string p))")
    # e^x sin y: ∂²/∂x² = e^x sin y itself, shared with the value; the rows end the code
    assert text.startswith("(lambda (x y)") and "(v4 (* v1 v2))" in text and "(list (list v4 d1v4)" in text
    # the seeds' exact products folded, a list element read once
    text = interp.eval("(let ((p (open-output-string))) (write (hessian-code (lambda (v) (* (car v) (car v) (cadr v))) "
                       "'(1 2)) p) (get-output-string p))")
    assert "(+ 1 1)" not in text and text.count("(car v)") == 1
    # an empty list of numbers is a list of numbers
    text = interp.eval("(let ((p (open-output-string))) (write (hessian-code (lambda (v x) (* x x)) '() 2.0) p)"
                       " (get-output-string p))")
    assert text.startswith("(lambda (v x)") and "(list (list 2))" in text
    for expression, reason in (("(hessian-code g '(1 2 3 4 5))", "5 input numbers"),
                               ("(hessian-code (lambda (v) (apply * v)) '(1.0 2.0))", "procedure * as a value"),
                               ("(hessian-code car 1)", "not nablisp code"),
                               ("(hessian-code g)", "expected arguments"),
                               ("(hessian-code g \"x\")", "not numbers"),
                               # the gradient's code applies sqrt's rule, itself Python
                               ("(hessian-code (lambda (x) (sqrt x)) 1.0)", "derivative rule of sqrt")):
        with pytest.raises(NablispError, match="hessian-code") as info:
            interp.eval(expression)
        assert reason in info.value.message, (expression, info.value.message)
