;;; A short tour of nablisp: run it with `nablisp examples/tour.scm`.

;; Derivatives are procedures like any other, and nest in any order and mode
(define (cube x) (* x x x))
(display "d/dx x³ at 2 = ") (display ((D cube) 2)) (newline)
(display "d²/dx² x³ at 2 = ") (display ((D (D cube)) 2)) (newline)
(display "∇(x²y) at (3, 4) = ") (display (gradient (lambda (v) (* (car v) (car v) (cadr v))) '(3 4))) (newline)
(display "Hessian of x²y at (3, 4) = ") (display (hessian (lambda (v) (* (car v) (car v) (cadr v))) '(3 4))) (newline)
(display "d/dx [x · d/dy (x + y)] = ")
(display ((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1))
(display "   (no perturbation confusion: a confused system says 2)") (newline)

;; Procedures, recursion and exact arithmetic
(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))
(display "30! = ") (display (factorial 30)) (newline)
(display "1/3 + 1/6 = ") (display (+ 1/3 1/6)) (newline)

;; Higher-order procedures and closures
(define (compose . fs)
  (if (null? fs) (lambda (x) x) (lambda (x) ((car fs) ((apply compose (cdr fs)) x)))))
(define add1-then-square (compose (lambda (x) (* x x)) (lambda (x) (+ x 1))))
(display "(add1-then-square 4) = ") (display (add1-then-square 4)) (newline)

;; Loops are tail calls: this one runs a million times in constant stack
(define (sum-to n) (let loop ((i 1) (total 0)) (if (> i n) total (loop (+ i 1) (+ total i)))))
(display "1 + 2 + ... + 1000000 = ") (display (sum-to 1000000)) (newline)

;; Hygienic macros
(define-syntax swap!
  (syntax-rules () ((_ a b) (let ((tmp a)) (set! a b) (set! b tmp)))))
(define tmp 'first) (define other 'second)
(swap! tmp other)
(display "after swap!: ") (write (list tmp other)) (newline)

;; Records
(define-record-type point (make-point x y) point? (x point-x) (y point-y))
(define (distance p q)
  (sqrt (+ (square (- (point-x p) (point-x q))) (square (- (point-y p) (point-y q))))))
(display "distance (0,0)-(3,4) = ") (display (distance (make-point 0 0) (make-point 3 4))) (newline)

;; Errors are values you can catch
(display "caught: ")
(display (guard (e ((error-object? e) (error-object-message e)))
           (car '())))
(newline)

;; The eight queens, by backtracking
(define (queens board-size)
  (define (safe? col placed)
    (let loop ((rest placed) (distance 1))
      (or (null? rest)
          (and (not (= (car rest) col))
               (not (= (abs (- (car rest) col)) distance))
               (loop (cdr rest) (+ distance 1))))))
  (let place ((row 0) (placed '()))
    (if (= row board-size)
        1
        (let try ((col 0) (count 0))
          (if (= col board-size)
              count
              (try (+ col 1)
                   (if (safe? col placed) (+ count (place (+ row 1) (cons col placed))) count)))))))
(display "solutions of the 8 queens: ") (display (queens 8)) (newline)
