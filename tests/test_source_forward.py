"""Derivatives by source transformation (ad/source_forward.py, ad/generated.py): the generated
code gives the dual numbers' derivatives — against the duals themselves run separately, exact
symbolic values and central differences — nests with every operator without perturbation
confusion, and hands over to the duals, with their errors, wherever it does not apply."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_same_outcome, close, outcome
from conftest import interpreter_generating as interpreter
from nablisp.interpreter import Interpreter, NablispError




@pytest.fixture()
def interp():
    return interpreter(True)


def generated_count(interp) -> int:
    return interp.operators.generated.computed




# -- the generated code is used, and right -------------------------------------------------------------

EXACT_CASES = [
    # (definitions, expression, the exact value)
    ("(define (f x) (* x x x))", "((D f) 2)", 12),
    ("(define (f x) (* 1/2 x x))", "((D f) 1/3)", Fraction(1, 3)),
    ("(define (f x) (let ((u (square x))) (+ (* 3 u x) (* 2 u) 1)))", "((D f) 2)", 44),
    ("(define (f x) (+ 1 (if (> x 0) (* x x) (- x))))", "(list ((D f) 2) ((D f) -2))", [4, -1]),
    ("(define (f x) (expt x 3))", "((D f) 2)", 12),
    ("(define (sq y) (* y y)) (define (f x) (+ (sq x) (sq (* 2 x))))", "((D f) 3)", 30),
    # a loop: x multiplied in n times is xⁿ, derivative n·xⁿ⁻¹
    ("(define (f x) (let loop ((i 0) (acc 1)) (if (= i 5) acc (loop (+ i 1) (* acc x)))))", "((D f) 2)", 80),
]


@pytest.mark.parametrize("definitions, expression, expected", EXACT_CASES)
def test_generated_derivatives_are_exact_where_the_program_is(interp, definitions, expression, expected):
    interp.eval(definitions)
    before = generated_count(interp)
    assert interp.eval(expression) == expected
    assert generated_count(interp) > before, "the generated code gave it, not the duals"


def test_a_fourth_derivative_by_nesting_transforms_the_transformed_code(interp):
    interp.eval("(define (f x) (* (exp x) (sin x))) (define f4 (D (D (D (D f)))))")
    for x in (0.0, 0.3, 1.0, 2.5):
        assert close(interp.eval(f"(f4 {x})"), -4 * math.exp(x) * math.sin(x))
    # the nested code is code of its own kind: one lambda of x, the duals nowhere
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code (D (D (D f)))) p) "
                       "(get-output-string p))")
    assert text.startswith("(lambda (x)") and "exp" in text and "cos" in text


def test_the_loop_of_w5_carries_a_tangent_only_where_one_flows(interp):
    interp.eval("(define (f a) (let loop ((k 0) (y 0.5)) "
                "(if (= k 100) y (loop (+ k 1) (+ (* a (sin y)) (* 0.4 y) 0.1)))))")
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code f) p) (get-output-string p))")
    assert "(lambda (k y dy)" in text and "dk" not in text
    # against central differences and against the duals
    h = 1e-6
    fd = (interp.eval("(f (+ 0.5 1e-6))") - interp.eval("(f (- 0.5 1e-6))")) / (2 * h)
    value = interp.eval("((D f) 0.5)")
    assert math.isclose(value, fd, rel_tol=1e-6)
    duals = interpreter(False)
    duals.eval("(define (f a) (let loop ((k 0) (y 0.5)) "
               "(if (= k 100) y (loop (+ k 1) (+ (* a (sin y)) (* 0.4 y) 0.1)))))")
    assert close(value, duals.eval("((D f) 0.5)"))


def test_the_code_shown_is_named_after_the_users_variables(interp):
    interp.eval("(define (g x) (let ((a (* x x)) (b (sin x))) (* a b)))")
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code g) p) (get-output-string p))")
    assert text == "(lambda (x) (let* ((a (* x x)) (da (+ x x)) (b (sin x)) (db (cos x))) (+ (* da b) (* a db))))"
    # and it computes the derivative: 2x·sin x + x²·cos x
    assert close(interp.eval("((D g) 1.3)"), 2 * 1.3 * math.sin(1.3) + 1.3 ** 2 * math.cos(1.3))


# -- nesting: no perturbation confusion --------------------------------------------------------------

NESTED = [
    ("((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1)", 1),
    ("((D (lambda (x) ((D (lambda (y) (* x y))) 1))) 3)", 1),
    ("(gradient (lambda (v) ((D (lambda (y) (* (car v) y y))) 2.0)) '(3.0))", [4.0]),
    # d/dx of (∂/∂y x²y² at y = x) = d/dx 2x³ = 6x², 24 at 2
    ("((D (lambda (x) ((D (lambda (y) (* x x y y))) x))) 2.0)", 24.0),
    ("(hessian (lambda (x y) ((D (lambda (t) (* t x y))) 1.0)) 1.0 2.0)", [[0, 1], [1, 0]]),
]


@pytest.mark.parametrize("expression, expected", NESTED)
def test_nested_derivatives_keep_their_perturbations_apart(expression, expected):
    generated, duals = interpreter(True), interpreter(False)
    value = generated.eval(expression)
    assert close(value, duals.eval(expression))
    assert close(value, expected)


def test_a_captured_number_of_an_outer_derivative_flows_through_generated_code(interp):
    # the inner (lambda (y) …) is generated code holding x, a dual of the outer derivative
    interp.eval("(define (outer x) ((D (lambda (y) (* x (sin y)))) 0.5))")
    assert close(interp.eval("((D outer) 2.0)"), math.cos(0.5))
    assert interp.eval("((D (D outer)) 2.0)") == 0


# -- hand-over to the duals ----------------------------------------------------------------------------

FALLBACKS = [
    ("(lambda (x) (display \"\") x)", "begin"),
    ("(lambda (x) (list x x))", "list"),
    ("(lambda (x) ((if (> x 0) sin cos) x))", "procedure computed"),
    ("(lambda (x) (let ((f (lambda (y) (* y y)))) (+ 1 (f x))))", "tail position only"),
    ("(lambda (x) (let ((a x)) (set! a (* a 2)) a))", "set!"),
]


@pytest.mark.parametrize("source, reason", FALLBACKS)
def test_what_the_transformation_does_not_read_goes_to_the_duals_with_a_reason(interp, source, reason):
    with pytest.raises(NablispError, match="dual numbers") as info:
        interp.eval(f"(derivative-code {source})")
    assert reason in info.value.message
    duals = interpreter(False)
    written = f"(let ((p (open-output-string))) (write ((D {source}) 1.5) p) (get-output-string p))"
    assert interp.eval(written) == duals.eval(written)


def test_a_redefined_procedure_or_primitive_is_seen_at_once(interp):
    interp.eval("(define (sq y) (* y y)) (define (f x) (sq x))")
    assert interp.eval("((D f) 3)") == 6
    interp.eval("(define (sq y) (* y y y))")
    assert interp.eval("((D f) 3)") == 27
    interp.eval("(define (g x) (sin x))")
    assert close(interp.eval("((D g) 0.5)"), math.cos(0.5))
    interp.eval("(define (cos x) 42)")           # the rule of sin calls cos: no longer the primitive
    assert close(interp.eval("((D g) 0.5)"), math.cos(0.5))


def test_errors_are_the_duals_errors(interp):
    duals = interpreter(False)
    for expression in ("((D (lambda (x) (/ 1 x))) 0)", "((D (lambda (x) (log x))) 0)",
                       "((D (lambda (x) (sqrt x))) 0)", "((D (lambda (x) (+ x 'a))) 1)",
                       "((D (lambda (x) (asin x))) 1)"):
        messages = []
        for each in (interp, duals):
            with pytest.raises(NablispError) as info:
                each.eval(expression)
            messages.append(str(info.value))
        assert messages[0] == messages[1], expression


def test_zeros_and_singular_points_are_the_duals_own(interp):
    # a zero tangent never meets the infinite partial of sqrt at 0; a zero derivative is exact
    assert interp.eval("((D (lambda (x) (sqrt (* x x)))) 0)") == 0
    value = interp.eval("((D (lambda (x) (+ (* x x) 1))) 0.0)")
    assert value == 0 and value.__class__ is int
    # at an exact point, a 0.0 the duals drop (sinh 0) leaves their derivative exact: so is ours
    value = interp.eval("((D (lambda (x) (+ x (cosh x)))) 0)")
    assert value == 1 and value.__class__ is int


def test_limits_stop_generated_loops():
    interp = Interpreter(max_steps=10_000)
    with pytest.raises(NablispError, match="step"):
        interp.eval("((D (lambda (x) (let loop ((i 0) (y x)) (if (= i 1000000) y (loop (+ i 1) (* y 1.0000001))))))"
                    " 1.0)")


# -- random programs: generated code against the duals and central differences ----------------------

UNARY = ["sin", "cos", "exp", "tanh", "square", "-", "atan", "sqrt", "log", "abs"]
BINARY = ["+", "-", "*", "/"]


def expressions():
    leaf = st.sampled_from(["x", "x", "a", "2", "0.5", "-1.25", "3"])
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"({t[0]} {t[1]})"),
            st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(children, children, children).map(lambda t: f"(if (< {t[0]} 0.7) {t[1]} {t[2]})"),
            st.tuples(children, children).map(lambda t: f"(let ((a {t[0]})) {t[1]})"),
        ),
        max_leaves=10)


def programs():
    body = expressions()
    looped = body.map(lambda e: f"(let loop ((i 0) (a x)) (if (= i 3) a (loop (+ i 1) (let ((x a)) {e}))))")
    return st.one_of(body, looped)




@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=programs(), x=st.sampled_from([0.3, 1.7, -0.9, 2, 0.0, 1]))
def test_random_programs_give_the_duals_derivative(pair, body, x):
    assert_same_outcome(pair, f"((D (lambda (x) (let ((a 1.5)) {body}))) {x})")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=expressions(), x=st.sampled_from([0.3, 1.7, -0.9, 2.2]))
def test_random_programs_against_central_differences(pair, body, x):
    generated, _ = pair
    function = f"(lambda (x) (let ((a 1.5)) {body}))"
    try:
        value = generated.eval(f"((D {function}) {x})")
        h = 1e-6
        above = generated.eval(f"(exact->inexact ({function} {x + h}))")
        below = generated.eval(f"(exact->inexact ({function} {x - h}))")
        branch_here = generated.eval(f"(exact->inexact ({function} {x}))")
    except NablispError:
        return
    if not all(isinstance(v, (int, float, Fraction)) and math.isfinite(v) for v in (value, above, below, branch_here)):
        return
    fd = (above - below) / (2 * h)
    # a branch switch or a kink (abs) within h makes the difference meaningless
    if abs(above - branch_here) > 1e3 * h * (1 + abs(fd)) or abs(branch_here - below) > 1e3 * h * (1 + abs(fd)):
        return
    assert math.isclose(value, fd, rel_tol=1e-4, abs_tol=1e-5), (function, x, value, fd)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=programs(), x=st.sampled_from([0.3, 1.7, -0.9, 2]))
def test_random_second_derivatives_give_the_duals_value(pair, body, x):
    assert_same_outcome(pair, f"((D (D (lambda (x) (let ((a 1.5)) {body})))) {x})", rel=1e-8)


# -- found by an adversarial hunt: each once a silent difference from the duals --------------------

HUNTED = [
    # Python's Fraction keeps 1/1: the primitives' exact sum is the integer 1
    "((D (lambda (x) (+ (/ x 2) (/ x 2)))) 1)",
    "((D (lambda (x) (if (integer? (+ 1/2 1/2)) (* x x) x))) 1)",
    "((D (lambda (x) (let loop ((i 0) (s 0)) (cond ((> i 3) s) ((integer? i) (loop (+ i 1/2) (+ s (* x x)))) "
    "(else (loop (+ i 1/2) (+ s x))))))) 1)",
    "((D (lambda (x) (- (/ x 2)))) 1)",
    # a primitive whose arguments are not perturbed still may return something other than a number
    "((D (lambda (x) (list 1 2))) 1)",
    "((D (lambda (x) (car '(a)))) 1)",
    "((D (lambda (x) (string->number \"abc\"))) 1)",
    # an outer derivative's numbers: zeros and infinities inside them are the duals' to decide
    "((D (D (lambda (x) (/ x)))) 0.0)",
    "((D (D (lambda (x) (/ x (- x x))))) 1.0)",
    "((D (lambda (y) ((D (lambda (x) (* y (/ 1 x)))) y))) 0.0)",
    "(nth-derivative 2 (lambda (x) (/ 1 x)) 0.0)",
    # at an exact point the duals' derivative stays exact where they drop a 0.0
    "((D (lambda (x) (+ x (cos x)))) 0)",
    "((D (lambda (x) (+ x (sin (* 0 x))))) 1)",
    "(gradient (lambda (x) (+ x (* 0.0 (* x x)))) 1)",
]


@pytest.mark.parametrize("expression", HUNTED)
def test_what_a_hunt_found_is_the_duals_answer(expression):
    written = f"(let ((p (open-output-string))) (write {expression} p) (get-output-string p))"
    generated, duals = interpreter(True), interpreter(False)
    assert outcome(generated, written) == outcome(duals, written)


def test_a_global_number_set_to_something_else_is_seen():
    for generated in (True, False):
        interp = interpreter(generated)
        interp.eval("(define g 2) (define (f x) (if (> x 0) (* x x) g))")
        assert interp.eval("((D f) 1)") == 2
        interp.eval("(set! g 'a)")
        with pytest.raises(NablispError, match="returned a"):
            interp.eval("((D f) -1)")


def test_an_effect_is_not_repeated_when_the_duals_compute_again():
    interp = interpreter(True)
    interp.eval("(define v (vector 0)) "
                "(define (f x) (let ((u (vector-set! v 0 (+ 1 (vector-ref v 0))))) (/ 1.0 x)))")
    outcome(interp, "((D f) 0.0)")      # a non-finite result: once generated code gave it up for the duals
    assert interp.eval("(vector-ref v 0)") == 1


def test_a_global_number_in_the_rules_code_is_read():
    interp = interpreter(True)
    interp.eval("(define c 3) (define (f x) (* c x))")
    assert interp.eval("(let ((p (open-output-string))) (write (derivative-code f) p) (get-output-string p))") == \
        "(lambda (x) c)"
