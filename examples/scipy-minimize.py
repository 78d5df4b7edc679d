"""Minimize the Rosenbrock function, written in nablisp, with scipy's trust-region Newton method,
feeding it nablisp's exact gradient and Hessian.  Run: python examples/scipy-minimize.py"""

from scipy.optimize import minimize

from nablisp.interpreter import Interpreter

nablisp = Interpreter()
nablisp.eval("""
(define (rosenbrock v)
  (let ((x (car v)) (y (cadr v)))
    (+ (square (- 1 x)) (* 100 (square (- y (square x)))))))
""")
f = nablisp.lookup("rosenbrock")
gradient = nablisp.eval("(gradient rosenbrock)")
hessian = nablisp.eval("(lambda (v) (hessian rosenbrock v))")

iteration = [0]


def report(x, *rest):
    iteration[0] += 1
    print(f"iteration {iteration[0]:2d}: x = ({x[0]: .8f}, {x[1]: .8f})  f = {f(x):.3e}")


result = minimize(f, [-1.2, 1.0], jac=gradient, hess=hessian, method="trust-exact", callback=report)
print(f"minimum at ({result.x[0]:.6f}, {result.x[1]:.6f}), f = {result.fun:.2e}, "
      f"{result.nit} iterations, success: {result.success}")
