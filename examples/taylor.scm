;;; Taylor coefficients by nested derivatives: f(x), f′(x), f″(x)/2!, …  Exact where the
;;; function and the point are exact.

(define (show name coefficients)
  (display name) (display ": ") (write coefficients) (newline))

(show "exp at 0" (taylor-coefficients exp 0 6))
(show "sin at 0" (taylor-coefficients sin 0 6))
(show "(1 + x)^5 at 0, exactly" (taylor-coefficients (lambda (x) (expt (+ 1 x) 5)) 0 7))
(show "1/(1 − x) at 1/2, exactly" (taylor-coefficients (lambda (x) (/ 1 (- 1 x))) 1/2 5))
(show "x³ − 2x at 2, exactly" (taylor-coefficients (lambda (x) (- (* x x x) (* 2 x))) 2 5))
(show "the 4th derivative of x⁴ at 3" ((nth-derivative 4 (lambda (x) (* x x x x))) 3))
