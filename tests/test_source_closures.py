"""Generated derivatives of closures that captured procedures or data: a primitive is called as
itself, a closure's code is written out in place, and the numbers and lists of numbers it
captured are passed to the generated code — held to the dual numbers (run separately) and to symbolic derivatives, kept
apart by what each closure captured, and handed to the duals, with a reason, where they do not
apply."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import assert_same_outcome, by_generated_code, close
from conftest import interpreter_generating as interpreter
from nablisp.interpreter import NablispError

PROGRAM = """
(define (compose f g) (lambda (x) (f (g x))))
(define (make-scaled f k) (lambda (x) (* k (f x))))
(define (twice f) (lambda (x) (f (f x))))
(define (affine a b) (lambda (x) (+ (* a x) b)))
(define (cube x) (* x x x))
(define (make-loss f) (lambda (x y) (f (* x y))))
(define (make-fit xs ys)        ; the squared error of the line a·x + b through the points
  (lambda (a b)
    (let loop ((xs xs) (ys ys) (acc 0))
      (if (null? xs) acc (loop (cdr xs) (cdr ys) (+ acc (square (- (+ (* a (car xs)) b) (car ys)))))))))
(define (make-poly cs)          ; Horner's rule
  (lambda (x) (let loop ((cs cs) (acc 0)) (if (null? cs) acc (loop (cdr cs) (+ (* acc x) (car cs)))))))
"""


@pytest.fixture()
def interp():
    generating = interpreter(True)
    generating.eval(PROGRAM)
    return generating


@pytest.fixture(scope="module")
def pair():
    interps = interpreter(True), interpreter(False)
    for each in interps:
        each.eval(PROGRAM)
    return interps




def test_captured_primitives_and_closures_against_symbolic_derivatives(interp):
    x = 0.7
    assert close(by_generated_code(interp, "((D (compose sin cube)) 0.7)"), math.cos(x ** 3) * 3 * x * x, rel=1e-14)
    assert close(by_generated_code(interp, "((D (make-scaled sin 3.0)) 0.2)"), 3.0 * math.cos(0.2), rel=1e-14)
    assert by_generated_code(interp, "((D (twice (affine 2.0 1.0))) 0.5)") == 4.0
    assert by_generated_code(interp, "((D (twice (affine 3 1))) 1/2)") == 9
    # d²/dx² sin(x³) = −sin(x³)·9x⁴ + cos(x³)·6x
    assert close(by_generated_code(interp, "((D (D (compose sin cube))) 0.7)"),
                 -math.sin(x ** 3) * 9 * x ** 4 + math.cos(x ** 3) * 6 * x, rel=1e-12)
    # a gradient and a Hessian of a closure of a closure: f(x, y) = (xy)³
    assert close(by_generated_code(interp, "(gradient (make-loss cube) 0.5 0.6)"), [3 * 0.5 ** 2 * 0.6 ** 3, 3 * 0.5 ** 3 * 0.6 ** 2],
                 rel=1e-14)
    # ∂²/∂x² x³y³ = 6xy³, ∂²/∂x∂y = 9x²y², ∂²/∂y² = 6x³y
    assert by_generated_code(interp, "(hessian (make-loss cube) 1 2)") == [[48, 36], [36, 12]]


def test_each_closure_is_differentiated_as_what_it_captured(interp):
    # one lambda, two captured primitives: two generated derivatives, never mixed up
    assert close(by_generated_code(interp, "((D (make-scaled sin 2.0)) 0.3)"), 2 * math.cos(0.3), rel=1e-14)
    assert close(by_generated_code(interp, "((D (make-scaled cos 2.0)) 0.3)"), -2 * math.sin(0.3), rel=1e-14)
    assert close(by_generated_code(interp, "((D (make-scaled sin 2.0)) 0.3)"), 2 * math.cos(0.3), rel=1e-14)
    # the same closures with other numbers share one generated derivative, the numbers passed
    generated_derivatives = interp.operators.generated
    assert by_generated_code(interp, "((D (twice (affine 2.0 1.0))) 0.5)") == 4.0
    assert by_generated_code(interp, "((D (twice (affine 3.0 0.0))) 0.5)") == 9.0
    interp.eval("(define another (twice (affine 1 1)))")
    code = generated_derivatives.read_procedure(interp.lookup_value("another"))[0]
    assert len(generated_derivatives.by_shape[code]) == 1
    # two captured variables of one name are told apart in the code shown
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code (make-scaled (make-scaled sin 2.0) 3.0)) p)"
                       " (get-output-string p))")
    assert "k.1" in text and "k.2" in text and "k.1.1" not in text and "(sin x)" in text


def test_closures_of_one_lambda_nested_and_differentiated_again(interp):
    # closures of one lambda inside each other are no recursion: sin(sin(sin(sin(sin(sin(sin(sin x)))))))
    value, derivative = 0.5, 1.0
    for _ in range(8):
        derivative *= math.cos(value)
        value = math.sin(value)
    assert close(by_generated_code(interp, "((D (twice (twice (twice sin)))) 0.5)"), derivative, rel=1e-13)
    assert close(by_generated_code(interp, "((D (make-scaled (make-scaled (make-scaled sin 2.0) 3.0) 4.0)) 0.5)"),
                 24 * math.cos(0.5), rel=1e-14)
    # the generated code differentiated again calls the captured primitive as itself
    assert close(by_generated_code(interp, "((D (D (make-scaled sin 2.0))) 0.3)"), -2 * math.sin(0.3), rel=1e-14)
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code (D (make-scaled sin 2.0))) p)"
                       " (get-output-string p))")
    assert "(sin x)" in text and "(cos x)" in text
    # ∂²/∂x∂y sin(xy) = cos(xy) − xy sin(xy)
    hessian = by_generated_code(interp, "(hessian (make-loss sin) 1.0 2.0)")
    assert close(hessian[0][1], math.cos(2.0) - 2.0 * math.sin(2.0), rel=1e-14)


def test_an_unused_call_is_dropped_only_where_it_cannot_raise(pair):
    # with the wrong number of arguments even zero? raises, and the duals say so
    for expression in ("((D (let ((f -)) (lambda (x) (let ((u (f))) (* 2 x))))) 1.5)",
                       "((D (let ((f zero?)) (lambda (x) (let ((u (f x x))) x)))) 1.5)",
                       "(gradient (lambda (x y) (let ((u (zero? x x))) (* y x))) 1.5 2.0)",
                       "((D (lambda (x) (let ((u (-))) (* 2 x)))) 1.5)",
                       "((D (lambda (x) (let ((u (< x 1 2 3))) (* 2 x)))) 1.5)"):
        assert_same_outcome(pair, expression)


def test_captured_lists_of_numbers_are_data_read_by_the_generated_code(interp):
    # the fit of a line: ∂/∂a Σ (a xᵢ + b − yᵢ)² = Σ 2(a xᵢ + b − yᵢ) xᵢ, ∂/∂b = Σ 2(a xᵢ + b − yᵢ)
    xs, ys, a, b = [1.0, 2.0, 3.0], [2.0, 4.1, 5.9], 0.5, 0.1
    residuals = [a * x + b - y for x, y in zip(xs, ys)]
    expected = [sum(2 * r * x for r, x in zip(residuals, xs)), sum(2 * r for r in residuals)]
    assert close(by_generated_code(interp, "(gradient (make-fit '(1.0 2.0 3.0) '(2.0 4.1 5.9)) 0.5 0.1)"), expected,
                 rel=1e-14)
    assert by_generated_code(interp, "(hessian (make-fit '(1 2 3) '(2 4 6)) 1/2 1/10)") == [[28, 12], [12, 6]]
    # p(x) = x² + 2x + 3: p′(2) = 6, exact; p″ = 2; of no coefficients, 0
    assert by_generated_code(interp, "((D (make-poly '(1 2 3))) 2)") == 6
    assert by_generated_code(interp, "((D (D (make-poly '(1.0 2.0 3.0)))) 1.5)") == 2.0
    assert by_generated_code(interp, "((D (make-poly '())) 2.0)") == 0
    # the list is data: its elements carry an outer derivative's perturbation through
    assert by_generated_code(interp, "((D (lambda (k) ((D (make-poly (list k 2.0 3.0))) 2.0))) 1.0)") == 4.0
    text = interp.eval("(let ((p (open-output-string))) (write (derivative-code (make-poly '(1.0 2 3))) p)"
                       " (get-output-string p))")
    assert "(car cs" in text and "dcs" not in text         # no tangent for the data


def test_captured_data_that_is_not_as_it_must_be_goes_to_the_duals(pair):
    for expression in ("((D (make-poly '(1.0 \"x\" 3.0))) 2.0)",     # not numbers: not data
                       "((D (let ((v '(2.0))) (lambda (x) (* x (car v) (cadr v))))) 1.0)",   # too short
                       "((D (let ((v '(2.0 3.0))) (lambda (x) (+ x (length v))))) 1.0)",
                       "((D (let ((v '(2.0 3.0))) (lambda (x) (* x (if (> x 0) (car v) v))))) 1.0)",
                       "((D (let ((v '(2.0 3.0))) (lambda (x) (* x (car (if (> x 0) v (cdr v))))))) 1.0)"):
        assert_same_outcome(pair, expression, rel=1e-12)


def test_a_captured_list_changed_between_calls_is_read_as_it_is_now():
    # set-car! and set-cdr! can make the data something else: a list of other numbers, one that
    # holds something that is no number, a circular one — each call reads it again
    generating, reference = interpreter(True), interpreter(False)
    for each in (generating, reference):
        each.eval("(define cs (list 1.0 2.0 3.0)) (define p (let ((v cs)) (lambda (x) (* x (car v) (cadr v)))))"
                  "(define first (list 1.0 2.0)) (define h (let ((v first)) (lambda (x) (car v))))")
    assert by_generated_code(generating, "((D p) 1.0)") == 2.0
    for change, expression in (("(set-car! cs 5.0)", "((D p) 1.0)"),
                               ("(set-cdr! (cddr cs) cs)", "((D p) 2.0)"),          # circular now
                               ("(set-cdr! (cddr cs) cs)", "(gradient (lambda (x y) (* (p x) y)) 1.0 2.0)"),
                               ("(set-car! first #f)", "((D h) 1.0)"),              # the function returns #f
                               ("(set-car! first 'a)", "((D (D h)) 1.0)")):
        generating.eval(change)
        reference.eval(change)
        assert_same_outcome((generating, reference), expression)


def test_a_closure_that_captured_something_else_does_not_spoil_the_others_of_its_lambda(interp):
    # the generated derivative of (make k) is kept by the lambda's code: a closure of it whose k
    # is a string has none, and its reason is its own
    interp.eval("(define (make k) (lambda (x) (* x k)))")
    with pytest.raises(NablispError, match="expected a number"):
        interp.eval("((D (make \"s\")) 1.0)")
    with pytest.raises(NablispError, match="something other than a number, a list of numbers or a procedure"):
        interp.eval("(derivative-code (make \"s\"))")
    assert by_generated_code(interp, "((D (make 2.0)) 1.0)") == 2.0


def test_captured_numbers_that_an_outer_derivative_perturbs(pair):
    for expression in ("((D (lambda (k) ((D (make-scaled sin k)) 0.2))) 3.0)",
                       "((D (lambda (a) ((D (twice (affine a 1.0))) 0.5))) 2.0)",
                       "(gradient (lambda (v) ((D (compose (make-scaled exp (car v)) (affine (cadr v) 0.5))) 0.1))"
                       " '(1.5 -0.5))",
                       "((D (lambda (k) (car (car (hessian (make-loss (make-scaled cube k)) 1.0 2.0))))) 0.5)"):
        assert_same_outcome(pair, expression, rel=1e-12)
    generating = pair[0]
    # d/da of d/dx a(ax + 1) + 1 = d/da a² = 2a
    assert by_generated_code(generating, "((D (lambda (a) ((D (twice (affine a 1.0))) 0.5))) 2.0)") == 4.0


@pytest.mark.parametrize("source, reason", [
    ("(let ((g (D sin))) (lambda (x) (g x)))", "cannot see"),
    ("(let ((g (lambda (x) (display x) x))) (lambda (x) (g x)))", "begin"),
    # a recursive local procedure: letrec assigns it, and an assigned variable is not read
    ("(letrec ((f (lambda (x n) (if (= n 0) x (f (* x x) (- n 1)))))) (lambda (x) (f x 2)))", "cannot see"),
    ("(let ((g sin)) (lambda (x) (map g (list x))))", "as a value"),
    ("(let ((g (lambda (x) (* x x)))) (lambda (x) (g x x)))", "number of arguments"),
    ("(let ((g (lambda xs (car xs)))) (lambda (x) (* 2 (g x))))", "rest parameter"),
])
def test_what_it_does_not_read_goes_to_the_duals_with_a_reason(pair, source, reason):
    generating = pair[0]
    with pytest.raises(NablispError, match="dual numbers") as info:
        generating.eval(f"(derivative-code {source})")
    assert reason in info.value.message, info.value.message
    assert_same_outcome(pair, f"((D {source}) 1.5)", rel=1e-12)


# -- random closures: generated derivatives against the duals and the tape --------------------------

def closure_bodies():
    """Bodies of (lambda (x y) …) in a closure that captured k (a number), c (a list of numbers),
    g (a primitive or a closure) and h (a closure of closures)."""
    leaf = st.sampled_from(["x", "y", "k", "(car c)", "(cadr c)", "2", "0.5"])
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["g", "h", "sin", "square"]), children).map(lambda t: f"({t[0]} {t[1]})"),
            st.tuples(children, children, children).map(lambda t: f"(if (< {t[0]} 0.7) {t[1]} {t[2]})"),
            children.map(lambda e: f"(let loop ((l c) (acc {e})) (if (null? l) acc (loop (cdr l) (+ (* acc x) (car l)))))"),
        ),
        max_leaves=6)


CAPTURED = st.tuples(st.sampled_from(["2", "0.7", "-1.5", "1/3"]), st.sampled_from(["'(1.0 2.0)", "'(3 -1)", "'(0.5 0.25 2)"]),
                     st.sampled_from(["sin", "exp", "(make-scaled cos 3.0)", "(compose sin cube)"]),
                     st.sampled_from(["tanh", "(twice (affine 0.5 1))", "(make-scaled (make-scaled sin 2) 0.5)"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=closure_bodies(), captured=CAPTURED, operator=st.sampled_from(["D", "DD", "gradient", "hessian"]),
       point=st.sampled_from(["0.3", "-1.2", "2"]))
def test_random_closures_give_the_duals_and_the_tapes_derivatives(pair, body, captured, operator, point):
    k, c, g, h = captured
    if operator in ("D", "DD"):
        closure = f"((lambda (k c g h) (lambda (x) (let ((y 0.5)) {body}))) {k} {c} {g} {h})"
        expression = f"(({'D (D' if operator == 'DD' else 'D'} {closure}){')' if operator == 'DD' else ''} {point})"
    else:
        closure = f"((lambda (k c g h) (lambda (x y) {body})) {k} {c} {g} {h})"
        expression = f"({operator} {closure} {point} 0.5)"
    assert_same_outcome(pair, expression)
