"""The workloads: each as plain Python with hand-written derivatives (the baseline) and as the
same algorithm in nablisp.  Each returns a checksum, so that the two can be compared."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Workload:
    name: str
    size: int
    quick_size: int
    python: Callable                    # size → checksum
    nablisp_source: str
    entry: str                          # nablisp procedure: size → checksum
    primal_entry: str | None = None     # the same computation without derivatives
    peers: dict = field(default_factory=dict)   # name → (module to import, size → checksum)

    def setup(self, interp):
        interp.eval(self.nablisp_source, f"<benchmark {self.name}>")
        procedure = interp.lookup_value(self.entry)
        return lambda n: interp.call(procedure, n)

    def setup_primal(self, interp):
        procedure = interp.lookup_value(self.primal_entry)
        return lambda n: interp.call(procedure, n)

    @staticmethod
    def agree(expected, actual) -> bool:
        if isinstance(expected, float) or isinstance(actual, float):
            return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
        return expected == actual


# -- W1: the interpreter itself --------------------------------------------------------------------

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def sum_to(n):
    total, i = 0, 1
    while i <= n:
        total, i = total + i, i + 1
    return total


# -- W2: a gradient of a sum over a long vector ----------------------------------------------------

def w2_input(n):
    return [math.sin(i) + 0.5 for i in range(n)]


def w2_python(n):
    x = w2_input(n)
    g = [0.0] * n
    for i in range(n - 1):
        a, b = x[i], x[i + 1]
        d = 1 + b * b
        g[i] += math.cos(a) * b + 2 * a / d
        g[i + 1] += math.sin(a) - a * a * 2 * b / (d * d)
    return sum(g)


W2_SOURCE = """
(define (w2-input n) (map (lambda (i) (+ (sin i) 0.5)) (iota n)))
(define (w2-f xs)
  (let loop ((xs xs) (acc 0.0))
    (if (null? (cdr xs))
        acc
        (let ((a (car xs)) (b (cadr xs)))
          (loop (cdr xs) (+ acc (* (sin a) b) (/ (* a a) (+ 1 (* b b)))))))))
(define (w2 n) (sum (gradient w2-f (w2-input n))))
(define (w2-primal n) (w2-f (w2-input n)))
"""


def w2_autograd(n):
    import autograd.numpy as np
    from autograd import grad

    def f(x):
        a, b = x[:-1], x[1:]
        return np.sum(np.sin(a) * b + a * a / (1 + b * b))
    return float(np.sum(grad(f)(np.array(w2_input(n)))))


def w2_micrograd(n):
    from micrograd.engine import Value
    x = [Value(v) for v in w2_input(n)]
    total = Value(0.0)
    for i in range(n - 1):
        a, b = x[i], x[i + 1]
        # micrograd has no sin: sin a by its Taylor series to degree 9 is not the same function,
        # so this peer computes a·b + a²/(1+b²) instead; its time is comparable, not its value
        total = total + a * b + a * a * (1 + b * b) ** -1
    total.backward()
    return None


# -- W3: a Hessian -----------------------------------------------------------------------------------

def w3_input(n):
    return [(-1.2 if i % 2 == 0 else 1.0) + 0.01 * i for i in range(n)]


def w3_python(n):
    x = w3_input(n)
    total = 0.0
    for i in range(0, n, 2):
        a, b = x[i], x[i + 1]
        total += (1200 * a * a - 400 * b + 2) + 2 * (-400 * a) + 200
    return total


W3_SOURCE = """
(define (w3-input n) (map (lambda (i) (+ (if (even? i) -1.2 1.0) (* 0.01 i))) (iota n)))
(define (rosenbrock-extended xs)
  (let loop ((xs xs) (acc 0.0))
    (if (null? xs)
        acc
        (let ((a (car xs)) (b (cadr xs)))
          (loop (cddr xs) (+ acc (* 100 (square (- b (* a a)))) (square (- 1 a))))))))
(define (w3 n) (sum (map sum (hessian rosenbrock-extended (w3-input n)))))
"""


def w3_autograd(n):
    import autograd.numpy as np
    from autograd import hessian

    def f(x):
        a, b = x[0::2], x[1::2]
        return np.sum(100 * (b - a * a) ** 2 + (1 - a) ** 2)
    return float(np.sum(hessian(f)(np.array(w3_input(n)))))


# -- W4: a fourth derivative by nesting -------------------------------------------------------------

def w4_python(points):
    # d⁴/dx⁴ [eˣ sin x] = −4 eˣ sin x
    return sum(-4 * math.exp(k / 100) * math.sin(k / 100) for k in range(points))


W4_SOURCE = """
(define (w4-f x) (* (exp x) (sin x)))
(define w4-fourth (D (D (D (D w4-f)))))
(define (w4 points)
  (let loop ((k 0) (acc 0.0))
    (if (= k points) acc (loop (+ k 1) (+ acc (w4-fourth (/ k 100.0)))))))
"""


def w4_autograd(points):
    import autograd.numpy as np
    from autograd import grad

    def f(x):
        return np.exp(x) * np.sin(x)
    fourth = grad(grad(grad(grad(f))))
    return sum(float(fourth(k / 100)) for k in range(points))


# -- W5: a gradient through a million scalar operations ---------------------------------------------

def w5_python(steps):
    # y ← a·sin y + b·y + 0.1; the derivatives of y with respect to a and b, by hand
    a, b, y = 0.5, 0.4, 0.5
    dya = dyb = 0.0
    for _ in range(steps):
        s, c = math.sin(y), math.cos(y)
        dya, dyb = s + a * c * dya + b * dya, a * c * dyb + y + b * dyb
        y = a * s + b * y + 0.1
    return dya + dyb


def w5_python_primal(steps):
    a, b, y = 0.5, 0.4, 0.5
    for _ in range(steps):
        y = a * math.sin(y) + b * y + 0.1
    return y


def w5_python_tape(steps):
    """Reverse mode as plainly as Python allows: one tuple of (parent, partial) pairs per step
    on a list, then one backward loop.  What any tape costs in CPython, beside its primal."""
    a, b, y = 0.5, 0.4, 0.5
    tape = [(), (), ()]                     # a, b and the first y
    node = 2
    for _ in range(steps):
        s = math.sin(y)
        tape.append((0, s, node, a * math.cos(y) + b, 1, y))
        y = a * s + b * y + 0.1
        node = len(tape) - 1
    adjoints = [0.0] * len(tape)
    adjoints[-1] = 1.0
    for k in range(len(tape) - 1, 2, -1):
        adjoint = adjoints[k]
        p, dp, q, dq, r, dr = tape[k]
        adjoints[p] += adjoint * dp
        adjoints[q] += adjoint * dq
        adjoints[r] += adjoint * dr
    return adjoints[0] + adjoints[1]


W5_SOURCE = """
(define (w5-f p steps)
  (let ((a (car p)) (b (cadr p)))
    (let loop ((k 0) (y 0.5))
      (if (= k steps) y (loop (+ k 1) (+ (* a (sin y)) (* b y) 0.1))))))
(define (w5 steps) (sum (gradient (lambda (p) (w5-f p steps)) '(0.5 0.4))))
(define (w5-primal steps) (w5-f '(0.5 0.4) steps))
"""


def w5_autograd(steps):
    import autograd.numpy as np
    from autograd import grad

    def f(p):
        y = 0.5
        for _ in range(steps):
            y = p[0] * np.sin(y) + p[1] * y + 0.1
        return y
    return float(np.sum(grad(f)(np.array([0.5, 0.4]))))


def w5_micrograd(steps):
    from micrograd.engine import Value
    a, b, y = Value(0.5), Value(0.4), Value(0.5)
    for _ in range(steps):
        y = a * y.relu() + b * y + 0.1       # micrograd's Value has relu, neither sin nor tanh
    y.backward()
    return None


ALL = [
    Workload("W1 fib, naive recursion", 25, 10, fib,
             "(define (bench-fib n) (if (< n 2) n (+ (bench-fib (- n 1)) (bench-fib (- n 2)))))",
             "bench-fib"),
    Workload("W1 tail-recursive loop summing 1..n", 1_000_000, 1000, sum_to,
             "(define (bench-sum n) (let loop ((i 1) (total 0)) (if (> i n) total (loop (+ i 1) (+ total i)))))",
             "bench-sum"),
    Workload("W2 gradient of a sum over n numbers", 1000, 20, w2_python, W2_SOURCE, "w2", "w2-primal",
             {"autograd": ("autograd", w2_autograd), "micrograd": ("micrograd", w2_micrograd)}),
    Workload("W3 Hessian of extended Rosenbrock", 30, 4, w3_python, W3_SOURCE, "w3", None,
             {"autograd": ("autograd", w3_autograd)}),
    Workload("W4 4th derivative by nesting D, at n points", 200, 5, w4_python, W4_SOURCE, "w4", None,
             {"autograd": ("autograd", w4_autograd)}),
    Workload("W5 gradient through n steps of 5 operations", 200_000, 100, w5_python, W5_SOURCE, "w5",
             "w5-primal", {"autograd": ("autograd", w5_autograd), "micrograd": ("micrograd", w5_micrograd)}),
]
