;;; Derivatives of functions that return functions (Manzyuk, Pearlmutter, Radul, Rush and
;;; Siskind, "Perturbation confusion in forward automatic differentiation of higher-order
;;; functions", JFP 2019).  Every call of the procedure a derivative returns is a derivative
;;; calculation of its own.

;; (D (λn. λx. x + n)) at 3 is the procedure x ↦ d/dn (x + n) = 1
(display "(((D (lambda (n) (lambda (x) (+ x n)))) 3) 4) = ")
(display (((D (lambda (n) (lambda (x) (+ x n)))) 3) 4))
(newline)

;; shift u = λf. λx. f(x + u); its derivative at 0 is the derivative operator itself:
;; D̂ f x = d/du f(x + u) at u = 0 = f′(x)
(define (shift u) (lambda (f) (lambda (x) (f (+ x u)))))
(define D-hat (D shift 0))

(display "((D-hat exp) 1)           = ") (display ((D-hat exp) 1)) (newline)
;; Applying D̂ to a function that itself uses D̂: the "amazing bug".  With a single tag reused
;; inside the returned closure the answer is 0; the answer is exp″(1) = e.
(display "((D-hat (D-hat exp)) 1)   = ") (display ((D-hat (D-hat exp)) 1)) (newline)
(display "e                         = ") (display (exp 1)) (newline)
(display "((D-hat (D-hat (D-hat sin))) 0.5) = ") (display ((D-hat (D-hat (D-hat sin))) 0.5))
(display "  and -cos(0.5) = ") (display (- (cos 0.5))) (newline)

;; A returned procedure called inside another derivative, and inside a gradient
(define g ((D (lambda (x) (lambda (y) (* x y)))) 2))   ; g(y) = d/dx (x·y) = y
(display "(D (lambda (z) (* z (g z))) 3)        = ") (display (D (lambda (z) (* z (g z))) 3)) (newline)
(display "(gradient (lambda (z) (* z (g z))) 3) = ") (display (gradient (lambda (z) (* z (g z))) 3)) (newline)
