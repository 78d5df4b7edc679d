;;; The charged-particle benchmark of Siskind & Pearlmutter: a particle starts at (0, 8) moving
;;; right at 0.75 and is pushed by two repelling charges, at (10, 10 − w) and (10, 0).  Simulate
;;; it (Euler's method; the force is the gradient of the potential) until it hits the x axis, and
;;; choose w so that it lands at x = 0.  The outer optimizer differentiates the whole simulation,
;;; whose every step takes a gradient: nested gradients again, in all four mode combinations.

(define (make-argmin grad)
  (lambda (f x)
    (let ((g (grad f)))
      (let loop ((x x) (fx (f x)) (gx (g x)) (eta 1e-2) (i 0))
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

(define (make-simulation inner-gradient)
  (lambda (w)
    (let* ((charges (list (list 10.0 (- 10.0 w)) (list 10.0 0.0)))
           (potential (lambda (x) (sum (map (lambda (c) (/ 1.0 (distance x c))) charges))))
           (dt 1e-1))
      (let loop ((x '(0.0 8.0)) (velocity '(0.75 0.0)))
        (let ((acceleration (scale -1.0 ((inner-gradient potential) x)))
              (x-new (v+ x (scale dt velocity))))
          (if (positive? (cadr x-new))
              (loop x-new (v+ velocity (scale dt acceleration)))
              ;; the last step, cut where the path crosses the axis
              (let* ((dt-final (/ (- 0.0 (cadr x)) (cadr velocity)))
                     (landing (v+ x (scale dt-final velocity))))
                (square (car landing)))))))))

(define (particle outer-gradient inner-gradient)
  (let ((simulate (make-simulation inner-gradient)))
    (car ((make-argmin outer-gradient) (lambda (w) (simulate (car w))) '(0.0)))))

(define variants
  (list (list "FF" gradient-forward gradient-forward)
        (list "FR" gradient-forward gradient)
        (list "RF" gradient gradient-forward)
        (list "RR" gradient gradient)))

(define results
  (map (lambda (variant)
         (let ((w (particle (cadr variant) (caddr variant))))
           (display (car variant)) (display ": w* = ") (display (/ (round (* w 1e8)) 1e8)) (newline)
           w))
       variants))

(display "all four agree: ")
(display (every (lambda (w) (< (abs (- w (car results))) 1e-9)) results))
(newline)

;; The derivative of the landing point with respect to w, by AD through the simulation (whose
;; steps take gradients) and by central differences.
(define landing-error (make-simulation gradient))
(define check (check-gradient (lambda (w) (landing-error (car w))) '(0.1) 1e-5))
(display "d(landing²)/dw at w = 0.1 by AD vs central differences: ")
(display (if (< (car check) 1e-4) "agree" "DISAGREE"))
(newline)
