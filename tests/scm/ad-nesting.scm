;;; Nested derivatives: the published perturbation-confusion cases, each with its twins in
;;; which inner and outer operators are swapped between forward and reverse mode.
;;; Expected values are worked out by hand (exact where the inputs are exact).

;; d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1 — a confused system says 2
(check ((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1) => 1)
(check ((gradient (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1) => 1)
(check ((D (lambda (x) (* x ((gradient (lambda (y) (+ x y))) 1)))) 1) => 1)
(check ((gradient (lambda (x) (* x ((gradient (lambda (y) (+ x y))) 1)))) 1) => 1)

;; d/dx [x · d/dy (x·y) at 3] = d/dx [x·x] = 2x = 4 at 2
(check (D (lambda (x) (* x (D (lambda (y) (* x y)) 3))) 2) => 4)
(check (gradient (lambda (x) (* x (D (lambda (y) (* x y)) 3))) 2) => 4)
(check (D (lambda (x) (* x (gradient (lambda (y) (* x y)) 3))) 2) => 4)
(check (gradient (lambda (x) (* x (gradient (lambda (y) (* x y)) 3))) 2) => 4)

;; the same with floats
(check (gradient (lambda (x) (* x ((gradient (lambda (y) (* x y))) 2.0))) 1.0) => 2.0)
(check (D (lambda (x) (* x ((gradient (lambda (y) (* x y))) 2.0))) 1.0) => 2.0)
(check (gradient (lambda (x) (* x ((D (lambda (y) (* x y))) 2.0))) 1.0) => 2.0)
(check (D (lambda (x) (* x ((D (lambda (y) (* x y))) 2.0))) 1.0) => 2.0)

;; d/dx [d/dy y·(x − y) at y = x] = d/dx [x − 2x] = −1
(check (D (lambda (x) ((D (lambda (y) (* y (- x y)))) x)) 1) => -1)
(check (gradient (lambda (x) ((D (lambda (y) (* y (- x y)))) x)) 1) => -1)
(check (D (lambda (x) ((gradient (lambda (y) (* y (- x y)))) x)) 1) => -1)
(check (gradient (lambda (x) ((gradient (lambda (y) (* y (- x y)))) x)) 1) => -1)

;; fourth order, every mixture of modes
(define (quartic x) (* x x x x))
(check ((D (D (D (D quartic)))) 5) => 24)
(check ((gradient (gradient (gradient (gradient quartic)))) 5) => 24)
(check ((D (gradient (D (gradient quartic)))) 5) => 24)
(check ((gradient (D (gradient (D quartic)))) 5) => 24)
(check ((D (D (D quartic))) 2) => 48)
(check-approx ((D (D (D (D sin)))) 0.7) => (sin 0.7))
(check-approx ((gradient (gradient (gradient (gradient sin)))) 0.7) => (sin 0.7))
(check-approx ((D (gradient (D (gradient exp)))) 0.3) => (exp 0.3))

;; mixes of operators: a Jacobian of a gradient, a gradient of a function that differentiates
(define (f2 v) (* (car v) (car v) (cadr v)))
(check (jacobian (gradient f2) '(1 2)) => '((4 2) (2 0)))
(check (jacobian-reverse (gradient f2) '(1 2)) => '((4 2) (2 0)))
(check (jacobian (gradient-forward f2) '(1 2)) => '((4 2) (2 0)))
(check (jacobian-reverse (gradient-forward f2) '(1 2)) => '((4 2) (2 0)))
(check (hessian f2 '(1 2)) => '((4 2) (2 0)))
(check (gradient (lambda (v) (D (lambda (t) (f2 (list (* t (car v)) (cadr v)))) 1)) '(1 2)) => '(8 2))

;; functions that return functions (Manzyuk, Pearlmutter, Radul, Rush, Siskind 2019)
(check (((D (lambda (n) (lambda (x) (+ x n)))) 3) 4) => 1)
(check (((D (lambda (n) (lambda (x) (* x n)))) 3) 4) => 4)
(define (shift u) (lambda (f) (lambda (x) (f (+ x u)))))
(define D-hat (D shift 0))
(check-approx ((D-hat exp) 1) => (exp 1))
(check-approx ((D-hat (D-hat exp)) 1) => (exp 1))
(check-approx ((D-hat (D-hat (D-hat sin))) 0.5) => (- (cos 0.5)))
(check ((D-hat (lambda (x) (* x x x))) 2) => 12)
(check ((D-hat (D-hat (lambda (x) (* x x x)))) 2) => 12)
(check ((D-hat (D (lambda (x) (* x x x)))) 2) => 12)
(check ((D (D-hat (lambda (x) (* x x x)))) 2) => 12)
(check ((gradient (D-hat (lambda (x) (* x x x)))) 2) => 12)
(check ((gradient (D-hat (D-hat (lambda (x) (* x x x))))) 2) => 6)
(check-approx ((gradient (D-hat (gradient exp))) 0.5) => (exp 0.5))
;; a returned procedure, called inside another derivative, is a derivative calculation of its own
(define g ((D (lambda (x) (lambda (y) (* x y)))) 2))
(check (g 5) => 5)
(check (D (lambda (z) (g z)) 3) => 1)
(check (D (lambda (z) (* z (g z))) 3) => 6)
(check (gradient (lambda (z) (* z (g z))) 3) => 6)
(check (gradient (lambda (z) (* z (g (* z z)))) 3) => 27)
(check (gradient (lambda (v) (* (car v) (g (cadr v)))) '(3 5)) => '(5 3))
;; closures capturing a perturbed value, called after the derivative returned
(define saved #f)
(check (D (lambda (x) (set! saved (lambda (y) (* x y))) (* x x)) 3) => 6)
(check (number? (saved 2)) => #t)
(check (D (lambda (y) (* y y)) 4) => 8)

;; structures in, structures out
(check (gradient (lambda (v) (+ (* (car v) (car v)) (* 3 (cadr v)))) '(1 2)) => '(2 3))
(check (gradient (lambda (v) (* (vector-ref v 0) (vector-ref v 1))) #(3 4)) => #(4 3))
(check (gradient (lambda (x y) (* x y)) 3 4) => '(4 3))
(check (gradient (lambda (p) (* (car (car p)) (cadr p))) '((2) 5)) => '((5) 2))
(check (gradient-forward (lambda (x y) (* x y)) 3 4) => '(4 3))
;; gradient-forward of several inputs is one pass, each input perturbed in a direction of its own
(check (let ((passes 0)) (gradient-forward (lambda (x y) (set! passes (+ passes 1)) (* x y)) 3 4) passes) => 1)
(check (gradient-forward (lambda (v) (* (vector-ref v 0) (vector-ref v 1) (vector-ref v 2))) #(2 3 5)) => #(15 10 6))
(check (gradient-forward (lambda (x y) 5) 1 2) => '(0 0))
(check (gradient-forward (lambda (x y) (* x ((D (lambda (z) (* x z y))) 1))) 2 3) => '(12 4))   ; x²y
(check (gradient-forward (lambda (x y) (apply + (gradient-forward (lambda (u v) (* u v x)) y x))) 2 3) => '(7 2))
(check ((D (lambda (t) (car (gradient-forward (lambda (x y) (* t t)) 1 2)))) 3) => 0)
(check ((D (lambda (t) (car (gradient-forward (lambda (x y) (* t x y)) 1 2)))) 3) => 2)
;; Σ∇(a b x² y) at (x, y) = (a, b) is 2a²b² + a³b, whose gradient is (4ab² + 3a²b, 4a²b + a³)
(check (gradient (lambda (a b) (apply + (gradient-forward (lambda (x y) (* a x x y b)) a b))) 1 2) => '(22 9))
(check (gradient-forward (lambda (a b) (apply + (gradient-forward (lambda (x y) (* a x x y b)) a b))) 1 2) => '(22 9))
(check-error (gradient-forward (lambda (x y) (list x y)) 1 2) "use jacobian")
;; a direction that cancels to 0 is skipped in every direction at once, as a pass per input skips
;; it: no partial is taken at a point where there is none, and no inexact 0 appears
(check (gradient-forward (lambda (x y) (+ (sqrt (- x x)) y)) 0 1) => '(0 1))
(check (gradient-forward (lambda (x y) (sqrt (+ (* x x) (* y y)))) 0. 0.) => '(0 0))
(check (gradient-forward (lambda (x y) (+ (log (+ 1 (- x x))) y)) 0. 1.) => '(0 1))
(check (jacobian (lambda (v) (list (+ (sqrt (- (car v) (car v))) (cadr v)))) '(0 1)) => '((0 1)))
(check (gradient-forward (lambda (x y) (+ (expt (- x x) 0.5) y)) 0. 1.) => '(0 1))
(check-error (gradient-forward (lambda (x y) (lambda (z) z)) 1 2) "use derivative")
(check (D (lambda (x) (list x (* x x) (vector (* 3 x)))) 2) => (list 1 4 (vector 3)))
(check (jacobian (lambda (x) (list (* x x) (* 2 x))) 3) => '(6 2))
(check (jvp (lambda (v) (list (* (car v) (cadr v)) (+ (car v) (cadr v)))) '(1 2) '(1 0)) => '(2 1))
(check (vjp (lambda (v) (list (* (car v) (cadr v)) (+ (car v) (cadr v)))) '(1 2) '(1 0)) => '(2 1))
(check (hessian-vector-product f2 '(1 2) '(1 0)) => '(4 2))
(check (value-and-derivative (lambda (x) (* x x)) 3) => '(9 6))
(check (value-and-gradient (lambda (v) (apply * v)) '(2 3 4)) => '(24 (12 8 6)))

;; exactness
(check (derivative (lambda (x) (* x x x)) 1/2) => 3/4)
(check (exact? ((D (lambda (x) (* x x x))) 2)) => #t)
(check (gradient (lambda (x) (* x x)) 1/2) => 1)
(check (gradient (lambda (x) (/ 1 x)) 2) => -1/4)
(check (D (lambda (x) (expt x 5)) 2) => 80)
(check (D (lambda (x) (expt x -1)) 2) => -1/4)
(check (hessian (lambda (v) (+ (* (car v) (car v)) (cadr v))) '(1 2)) => '((2 0) (0 0)))
(check (exact? (cadr (cadr (hessian (lambda (v) (+ (* (car v) (car v)) (cadr v))) '(1 2))))) => #t)

;; control flow on perturbed values
(check (D (lambda (x) (if (> x 0) (* x x) (- x))) 3) => 6)
(check (D (lambda (x) (if (> x 0) (* x x) (- x))) -3) => -1)
(check (D (lambda (x) (cond ((zero? x) 0) ((< x 1) (* 2 x)) (else (* x x x)))) 2) => 12)
(check (D (lambda (x) (let loop ((i 0) (acc 1)) (if (< i x) (loop (+ i 1) (* acc x)) acc))) 3) => 27)
(check (gradient (lambda (x) (let loop ((i 0) (acc 1)) (if (< i x) (loop (+ i 1) (* acc x)) acc))) 3) => 27)
(check (D (lambda (x) (if (= x 2) (* 10 x) x)) 2) => 10)
(check (D (lambda (x) (do ((i 0 (+ i 1)) (y x (* y x))) ((= i 2) y))) 2) => 12)
(check (D (lambda (x) (vector-ref (vector-map (lambda (e) (* e x)) #(1 2 3)) 2)) 5) => 3)
(check (D (lambda (x) (apply + (map (lambda (k) (* k x)) '(1 2 3)))) 7) => 6)
(define (fold-like f init l) (if (null? l) init (fold-like f (f init (car l)) (cdr l))))
(check (D (lambda (x) (fold-like + 0 (list x x x))) 1) => 3)

;; the conventions at non-differentiable and singular points
(check (D abs 0) => 0)
(check (gradient abs 0) => 0)
(check (D abs -2) => -1)
(check (D (lambda (x) (max x 2)) 2) => 1)
(check (D (lambda (x) (max 2 x)) 2) => 0)
(check (D (lambda (x) (min x 2)) 2) => 1)
(check (D (lambda (x) (min x 2)) 1) => 1)
(check (D (lambda (x) (max x 2)) 1) => 0)
(check (D floor 1.5) => 0)
(check (D round 2.5) => 0)
(check-error (D sqrt 0) "sqrt: not differentiable at 0")
(check-error (gradient sqrt 0) "sqrt: not differentiable at 0")
(check-error (D log 0) "log: not differentiable at 0")
(check-error (D (lambda (x) (/ 1 x)) 0) "/: division by zero")
(check (D (lambda (x) (* 0 (sqrt (+ x 1)))) 0) => 0)
(check (D (lambda (x) (expt x 2)) 0) => 0)
(check (D (lambda (x) (expt 0 x)) 2) => 0)

;; wrong use gets a helpful error
(check-error (gradient (lambda (v) (list (car v) (car v))) '(1 2)) "use jacobian")
(check-error (D (lambda (x) x) '(1 2)) "use gradient")
(check-error (D (lambda (x) x) "two") "derivative: expected a number, got \"two\"")
(check-error (gradient (lambda (x) x) 'a) "gradient: expected a number")
(check-error (D 5 1) "derivative: expected a procedure")
(check-error (gradient (lambda (x) (lambda (y) y)) 1) "use derivative")
(check-error (D (lambda (x) "text") 1) "not a number")

;; gradients of constants are zero of the right shape
(check (gradient (lambda (x) 5) '(1 2)) => '(0 0))
(check (gradient (lambda (v) 1.5) #(1 2 3)) => #(0 0 0))
(check (D (lambda (x) 7) 1) => 0)

;; an error inside a derivative leaves nothing behind
(check (guard (e (#t 'caught)) (D (lambda (x) (car x)) 1)) => 'caught)
(check (guard (e (#t 'caught)) (D (lambda (x) (D (lambda (y) (error "inner" y)) x)) 1)) => 'caught)
(check ((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1) => 1)
(check (gradient (lambda (v) (* (car v) (cadr v))) '(3 5)) => '(5 3))

;; custom rules
(define (softplus x) (log (+ 1 (exp x))))
(define-derivative (softplus x) (/ 1 (+ 1 (exp (- x)))))
(check (D softplus 0) => 0.5)
(check (gradient softplus 0) => 0.5)
(check (D (D softplus) 0) => 0.25)
(check (gradient (gradient softplus) 0) => 0.25)
(define (my-mul a b) (* a b))
(define-derivative (my-mul a b) (* 2 b) (* 2 a))
(check (gradient (lambda (x y) (my-mul x y)) 3 4) => '(8 6))
(check (my-mul 3 4) => 12)
(define (opaque x) (exact->inexact (* x x)))
(define-derivative (opaque x) 100)
(check (D opaque 3) => 100)
(check-error (eval '(define-derivative (opaque x) 1 2)) "needs as many partials")

;; stop-gradient
(check (D (lambda (x) (* x (stop-gradient x))) 3) => 3)
(check (gradient (lambda (x) (* x (stop-gradient x))) 3) => 3)

;; a perturbed value that outlives its derivative is the number it stands for (DESIGN §2)
(define leak #f)
(D (lambda (x) (set! leak x) x) 3)
(check (let ((p (open-output-string))) (write leak p) (get-output-string p)) => "3")
(check (* leak 2) => 6)
(check (D (lambda (y) (* leak y)) 5) => 3)
(check (gradient (lambda (y) (* leak y y)) 5) => 30)

;; jacobian perturbs every input in one pass, each in a direction of its own (a bundle tag).
;; The bundle must pass through everything the other tags pass through: procedures returned by a
;; derivative (swapped by conjugation, extracted by an older tag), and derivatives of any order.
(define (cube y) (* y y y))
(check (jacobian (lambda (v) (list ((D-hat cube) (car v)))) '(3)) => '((18)))
(check (jacobian (lambda (v) (list ((D-hat (lambda (y) (* y (cadr v)))) (car v)) (* (car v) (cadr v)))) '(3 5))
       => '((0 1) (5 3)))
(check (hessian (lambda (v) ((D-hat cube) (car v))) '(3)) => '((6)))
(check (hessian (lambda (v) ((D-hat (D-hat cube)) (* (car v) (cadr v)))) '(1 2)) => '((0 6) (6 0)))
(check ((D-hat (lambda (x) (car (car (jacobian (lambda (v) (list (* x (car v) (car v)))) (list x)))))) 3) => 12)
(check ((D (lambda (x) (hessian (lambda (v) (* x (car v) (car v) (cadr v))) '(1 2)))) 3) => '((4 2) (2 0)))
(check (jacobian (lambda (v) (jacobian (lambda (w) (list (* (car w) (car w) (car v)))) (list (* 2 (car v))))) '(3))
       => '((24)))
(check (hessian (lambda (v) (* (car v) (cadr v) (caddr v))) '(1 2 3)) => '((0 3 2) (3 0 1) (2 1 0)))
(check (jacobian (lambda (v) (list (stop-gradient (car v)) (cadr v))) '(1 2)) => '((0 0) (0 1)))
(check-approx (hessian (lambda (v) (exp (* (car v) (cadr v)))) '(1. 2.))
              => (list (list (* 4 (exp 2)) (* 3 (exp 2))) (list (* 3 (exp 2)) (exp 2))))
;; a Jacobian inside the procedure a derivative returns: its bundle values pass through the swap
;; of that procedure's tags, coefficients and all (f'' by a derivative of a Jacobian)
(define (shift-jacobian u)
  (lambda (f) (lambda (x) (car (car (jacobian (lambda (w) (list (f (+ (car w) u)))) (list x)))))))
(define D-hat-jacobian (D shift-jacobian 0))
(check ((D-hat-jacobian cube) 2) => 12)
(check ((D-hat-jacobian (D-hat-jacobian (lambda (y) (* y y y y)))) 2) => 24)
(check-approx ((D-hat-jacobian exp) 1.) => (exp 1))
(check (hessian (lambda (v) ((D-hat-jacobian cube) (* (car v) (cadr v)))) '(1 2)) => '((0 6) (6 0)))
;; the one pass of a Jacobian is the only run of the function when its value is wrong
(define jacobian-runs 0)
(check-error (jacobian (lambda (v) (set! jacobian-runs (+ jacobian-runs 1)) (list (car v) 'a)) '(1 2))
             "jacobian: the function returned a, which is not a number")
(check jacobian-runs => 1)

;; A partial of a custom rule whose error the backward pass never needs (its adjoint is 0) is no
;; error at all: a handler around the gradient does not see it, even where it happens inside a
;; dynamic-wind, where handlers otherwise see errors before the unwinding.
(define (rule-with-bad-partial x y) (* x y))
(define-derivative (rule-with-bad-partial x y)
  y
  (dynamic-wind (lambda () #f) (lambda () (car 1)) (lambda () #f)))
(check (call/cc (lambda (k)
                  (with-exception-handler
                   (lambda (e) (k 'the-handler-saw-it))
                   (lambda () (gradient (lambda (v) (+ (car v) (* 0 (rule-with-bad-partial (car v) (cadr v)))))
                                        '(1.0 2.0))))))
       => '(1 0))
(check (call/cc (lambda (k)
                  (with-exception-handler
                   (lambda (e) (k (error-object-message e)))
                   (lambda () (gradient (lambda (v) (rule-with-bad-partial (car v) (cadr v))) '(1.0 2.0))))))
       => "car: expected a pair, got 1")
;; a procedure with a rule is an ordinary procedure otherwise: its own errors reach the handler in place
(define in-rule (make-parameter 'outer))
(define (ratio x y) (parameterize ((in-rule 'inner)) (/ x y)))
(define-derivative (ratio x y) (/ 1 y) (- (/ x (* y y))))
(check (call/cc (lambda (k) (with-exception-handler (lambda (e) (k (in-rule))) (lambda () (ratio 1 0)))))
       => 'inner)
