;;; Minimizing the Rosenbrock function f(x, y) = (1 − x)² + 100 (y − x²)² with Newton's method:
;;; each step solves  H(x)·s = ∇f(x)  with the exact Hessian and gradient.

(define (rosenbrock v)
  (let ((x (car v)) (y (cadr v)))
    (+ (square (- 1 x)) (* 100 (square (- y (square x)))))))

(define (round6 x) (/ (round (* x 1e6)) 1e6))

(let loop ((v '(-1.2 1.0)) (i 0))
  (display "step ") (display i) (display ": (x, y) = ") (write (map round6 v))
  (display "  f = ") (display (rosenbrock v)) (newline)
  (if (or (= i 20) (< (norm ((gradient rosenbrock) v)) 1e-10))
      (begin (display "minimum at ") (write (map round6 v)) (newline))
      (loop (v- v (solve-linear (hessian rosenbrock v) ((gradient rosenbrock) v))) (+ i 1))))

(display "the same with the prelude's newton-minimize: ")
(write (map round6 (newton-minimize rosenbrock '(-1.2 1.0))))
(newline)
