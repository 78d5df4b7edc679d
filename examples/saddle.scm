;;; The saddle-point benchmark of Siskind & Pearlmutter: find the saddle of
;;;   f(x1, y1, x2, y2) = (x1² + y1²) − (x2² + y2²)
;;; as  argmin over (x1, y1) of  max over (x2, y2) of f  — a minimizer that differentiates
;;; through another optimizer, so its gradients are nested gradients.  It runs four times: with
;;; the outer and the inner gradient each in forward (F) or reverse (R) mode.
;;; The saddle is at the origin; every variant must find it and all four must agree.

(define (make-argmin grad)
  ;; gradient descent with a step that grows after ten good steps and halves after a bad one
  (lambda (f x)
    (let ((g (grad f)))
      (let loop ((x x) (fx (f x)) (gx (g x)) (eta 1e-1) (i 0))
        (cond ((<= (norm gx) 1e-5) x)
              ((= i 10) (loop x fx gx (* 2 eta) 0))
              (else
               (let ((x-new (v- x (scale eta gx))))
                 (if (<= (distance x x-new) 1e-5)
                     x
                     (let ((fx-new (f x-new)))
                       (if (< fx-new fx)
                           (loop x-new fx-new (g x-new) eta (+ i 1))
                           (loop x fx gx (/ eta 2) 0)))))))))))

(define (make-argmax grad)
  (let ((argmin (make-argmin grad)))
    (lambda (f x) (argmin (lambda (y) (- (f y))) x))))

(define (make-max grad)
  (let ((argmax (make-argmax grad)))
    (lambda (f x) (f (argmax f x)))))

(define (saddle outer-gradient inner-gradient)
  (let* ((start '(1.0 1.0))
         (f (lambda (x1 y1 x2 y2) (- (+ (* x1 x1) (* y1 y1)) (+ (* x2 x2) (* y2 y2)))))
         (inner-max (make-max inner-gradient))
         (p1 ((make-argmin outer-gradient)
              (lambda (p1) (inner-max (lambda (p2) (f (car p1) (cadr p1) (car p2) (cadr p2))) start))
              start))
         (p2 ((make-argmax inner-gradient)
              (lambda (p2) (f (car p1) (cadr p1) (car p2) (cadr p2)))
              start)))
    (list p1 p2)))

(define (show-point p) (map (lambda (x) (/ (round (* x 1e6)) 1e6)) p))

(define variants
  (list (list "FF" gradient-forward gradient-forward)
        (list "FR" gradient-forward gradient)
        (list "RF" gradient gradient-forward)
        (list "RR" gradient gradient)))

(define results
  (map (lambda (variant)
         (let ((result (saddle (cadr variant) (caddr variant))))
           (display (car variant))
           (display ": (x1 y1) = ") (write (show-point (car result)))
           (display "  (x2 y2) = ") (write (show-point (cadr result)))
           (newline)
           result))
       variants))

(define (flat r) (append (car r) (cadr r)))
(define (close-to-origin? r) (every (lambda (x) (< (abs x) 1e-4)) (flat r)))
(define (agree? a b) (every (lambda (x y) (< (abs (- x y)) 1e-9)) (flat a) (flat b)))

(display "all four at the saddle (0, 0): ")
(display (every close-to-origin? results))
(newline)
(display "all four agree: ")
(display (every (lambda (r) (agree? r (car results))) results))
(newline)

;; A finite-difference check of the nested gradient the outer optimizer follows, at one point.
(define (outer-objective p1)
  ((make-max gradient)
   (lambda (p2) (- (+ (square (car p1)) (square (cadr p1))) (+ (square (car p2)) (square (cadr p2)))))
   '(1.0 1.0)))
(define check (check-gradient outer-objective '(0.5 -0.25) 1e-4))
(display "nested gradient vs central differences at (0.5, -0.25): ")
(display (if (< (car check) 1e-4) "agree" "DISAGREE"))
(newline)
