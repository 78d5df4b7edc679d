;;; Perturbation confusion: what goes wrong when nested derivatives share their infinitesimal,
;;; and what nablisp computes instead (each derivative call gets a fresh tag).

(define (show label value wrong)
  (display label) (display " = ") (write value)
  (display "    (a confused system says ") (write wrong) (display ")") (newline))

;; d/dx [x · (d/dy (x + y))] at x = 1: the inner derivative is 1, so the answer is d/dx x = 1.
;; If the inner derivative also sees x's perturbation, it computes d(x + y) = 2.
(show "d/dx (x · d/dy (x + y))  at 1        "
      ((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1) 2)

;; d/dx [x · d/dy (x·y) at 3] at 2 = d/dx [x²] = 4
(show "d/dx (x · d/dy (x·y))    at 2        "
      (D (lambda (x) (* x (D (lambda (y) (* x y)) 3))) 2) 8)

;; d/dx [d/dy y·(x − y) at y = x] at 1 = d/dx [x − 2x] = −1
(show "d/dx (d/dy y(x−y) at y=x) at 1       "
      (D (lambda (x) ((D (lambda (y) (* y (- x y)))) x)) 1) 0)

;; the same nestings with reverse mode inside or outside
(show "gradient over gradient               "
      (gradient (lambda (x) (* x ((gradient (lambda (y) (* x y))) 2.0))) 1.0) 4.0)
(show "forward over reverse                 "
      ((D (lambda (x) (* x ((gradient (lambda (y) (+ x y))) 1)))) 1) 2)
(show "reverse over forward                 "
      ((gradient (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1) 2)
