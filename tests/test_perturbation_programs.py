"""Generated programs that branch and look up on perturbed numbers (case, memv, assv, assoc,
equal?, vector indices), keep perturbed values in outer variables, records and closures past the
derivative that made them, and take derivatives inside: every derivative of such a program must
agree across modes and with finite differences.

A branch on a perturbed number takes the branch its primal takes, so the reference is the program
with every key frozen at the point: the same source with the key ``x`` replaced by the plain
``x0``, differentiated by central differences in its arithmetic alone.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nablisp.interpreter import Interpreter

EXAMPLES = int(os.environ.get("NABLISP_FUZZ_EXAMPLES", "60"))

# The points: exact and inexact, so that eqv?'s exactness matters (2 is not eqv? to 2.0).
POINTS = [2, 2.0, 0.5, -1, 3.25]
DATA = "2 0.5 -1 3.25"          # case data: each point but 2.0 matches exactly one


class Form:
    """A generated expression: ``form(key)`` is its text with the key written as ``key``."""

    def __init__(self, render):
        self.render = render

    def __call__(self, key):
        return self.render(key)

    def __repr__(self):
        return self.render("x")


def form(render):
    return Form(render)


LEAVES = st.sampled_from(["x", "1.5", "-0.5", "2"]).map(lambda leaf: form(lambda key: leaf))


def _forms(children):
    """The forms over ``children``, each a function of the key's text (x, or the frozen x0)."""
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(lambda t: form(lambda key: f"({t[0]} {t[1](key)} {t[2](key)})")),
        st.tuples(st.sampled_from(["sin", "cos"]), children).map(lambda t: form(lambda key: f"({t[0]} {t[1](key)})")),
        children.map(lambda a: form(lambda key: f"(/ {a(key)} (+ 2 (* {a(key)} {a(key)})))")),
        children.map(lambda a: form(lambda key: f"(exp (sin {a(key)}))")),
        # branches and look-ups on the key
        two.map(lambda t: form(lambda key: f"(case {key} (({DATA}) {t[0](key)}) (else {t[1](key)}))")),
        two.map(lambda t: form(lambda key: f"(let ((hit (memv {key} (list 7 x0 9)))) (if hit (* (car hit) {t[0](key)}) {t[1](key)}))")),
        two.map(lambda t: form(lambda key: f"(cdr (assv {key} (list (cons 8 {t[1](key)}) (cons x0 {t[0](key)}))))")),
        two.map(lambda t: form(lambda key: f"(cadr (assoc (list {key} 'k) (list (list 1 {t[1](key)}) (list (list x0 'k) {t[0](key)}))))")),
        two.map(lambda t: form(lambda key: f"(if (equal? (vector {key} 1) (vector x0 1)) {t[0](key)} {t[1](key)})")),
        two.map(lambda t: form(lambda key: f"(vector-ref (vector {t[0](key)} {t[1](key)}) (if (< {key} 1) 0 1))")),
        # values kept past the derivative that made them
        children.map(lambda a: form(lambda key: f"(begin (set! store {a(key)}) (* store store))")),
        children.map(lambda a: form(lambda key: f"(begin (D (lambda (y) (set! store (* y {a(key)})) y) 1) store)")),
        children.map(lambda a: form(lambda key: f"(begin (gradient (lambda (y) (set! store (* y y {a(key)})) y) 1) store)")),
        two.map(lambda t: form(lambda key: f"(begin (D (lambda (y) (set! keep (lambda (z) (* y z {t[0](key)}))) y) 2) (keep {t[1](key)}))")),
        two.map(lambda t: form(lambda key: f"(begin (gradient (lambda (y) (set! keep (lambda (z) (* y z {t[0](key)}))) y) 2) (keep {t[1](key)}))")),
        children.map(lambda a: form(lambda key: f"(cell-value (begin (D (lambda (y) (set! store (make-cell (* y {a(key)}))) y) 1) store))")),
        # derivatives inside
        children.map(lambda a: form(lambda key: f"((D (lambda (y) (* y y {a(key)}))) 1.5)")),
        children.map(lambda a: form(lambda key: f"((gradient (lambda (y) (* y (sin y) {a(key)}))) 0.5)")),
    )


BODIES = st.recursive(LEAVES, _forms, max_leaves=8)


@pytest.fixture(scope="module")
def interp():
    interp = Interpreter()
    interp.eval("(define store 0) (define keep #f) (define-record-type cell (make-cell v) cell? (v cell-value))")
    return interp


def close(a, b, tolerance):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def central(f, x, h):
    """Richardson's extrapolation of central differences (error O(h⁴)), or None where the
    steps h and h/2 disagree too much for any difference quotient to judge (the function
    oscillates too fast there)."""
    coarse = (f(x + h) - f(x - h)) / (2 * h)
    fine = (f(x + h / 2) - f(x - h / 2)) / h
    if not (math.isfinite(coarse) and math.isfinite(fine)) or not close(coarse, fine, 1e-4):
        return None
    return (4 * fine - coarse) / 3


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, st.sampled_from(POINTS))
def test_generated_programs_agree_across_modes_and_with_finite_differences(interp, body, x0):
    program = f"(lambda (x0) (lambda (x) {body('x')}))"      # keys perturbed with x
    frozen = f"(lambda (x0) (lambda (x) {body('x0')}))"      # keys at the point
    f = interp.eval(program)(x0)
    reference = interp.eval(frozen)(x0)
    value = f(x0)
    assert close(reference(x0), value, 1e-12)
    point = float(x0)
    estimate = central(reference, point, 1e-4 * max(1.0, abs(point)))
    if estimate is None:
        return
    forward_value, forward = interp.call("value-and-derivative", f, x0)
    reverse_value, reverse = interp.call("value-and-gradient", f, x0)
    assert close(forward_value, value, 1e-12) and close(reverse_value, value, 1e-12)
    assert close(forward, estimate, 1e-5), (body("x"), forward, estimate)
    assert close(reverse, forward, 1e-9), (body("x"), reverse, forward)
    # second derivatives: the four nestings, against differences of the frozen first derivative
    first_of_reference = interp.call("derivative", reference)
    estimate2 = central(first_of_reference, point, 1e-4 * max(1.0, abs(point)))
    second = [interp.eval(f"(lambda (f x) (({outer} ({inner} f)) x))")(f, x0)
              for outer in ("derivative", "gradient") for inner in ("derivative", "gradient")]
    for value2 in second:
        assert close(value2, second[0], 1e-9), (body("x"), second)
    if estimate2 is not None:
        assert close(second[0], estimate2, 1e-5), (body("x"), second[0], estimate2)
