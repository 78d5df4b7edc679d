;;; Hessians by nesting gradients, four ways: the outer Jacobian and the inner gradient each in
;;; forward (F) or reverse (R) mode.  f(x, y, z) = x²y + y·sin z + z³, whose Hessian is
;;;   [[2y, 2x, 0], [2x, 0, cos z], [0, cos z, 6z]]

(define (f v)
  (let ((x (car v)) (y (cadr v)) (z (caddr v)))
    (+ (* x x y) (* y (sin z)) (* z z z))))

(define point '(1.0 2.0 0.5))

(define (symbolic-hessian v)
  (let ((x (car v)) (y (cadr v)) (z (caddr v)))
    (list (list (* 2 y) (* 2 x) 0)
          (list (* 2 x) 0 (cos z))
          (list 0 (cos z) (- (* 6 z) (* y (sin z)))))))

(define (show-matrix name m)
  (display name) (newline)
  (for-each (lambda (row)
              (display "  ")
              (for-each (lambda (x) (display (/ (round (* x 1e6)) 1e6)) (display "  ")) row)
              (newline))
            m))

(define ways
  (list (list "FF: jacobian-forward of gradient-forward" (jacobian-forward (gradient-forward f) point))
        (list "FR: jacobian-forward of gradient (forward over reverse)" (jacobian-forward (gradient f) point))
        (list "RF: jacobian-reverse of gradient-forward" (jacobian-reverse (gradient-forward f) point))
        (list "RR: jacobian-reverse of gradient" (jacobian-reverse (gradient f) point))
        (list "hessian" (hessian f point))))

(for-each (lambda (way) (show-matrix (car way) (cadr way))) ways)
(show-matrix "symbolic" (symbolic-hessian point))

(define (same? a b)
  (every (lambda (ra rb) (every (lambda (x y) (< (abs (- x y)) 1e-12)) ra rb)) a b))
(display "all agree with the symbolic Hessian: ")
(display (every (lambda (way) (same? (cadr way) (symbolic-hessian point))) ways))
(newline)
(display "exact inputs give an exact Hessian: ")
(write (hessian (lambda (v) (* (car v) (car v) (cadr v))) '(1 2)))
(newline)
