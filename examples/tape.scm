;;; The Wengert list of a small function: reverse mode runs the program forwards as a sequence
;;; of assignments of basic operations, then walks it backwards accumulating adjoints.

(define (f x y) (* (sin (* x y)) (+ x y)))

(show-tape f 1.5 2.0)
(newline)
(display "the same gradient in forward mode: ")
(write (gradient-forward f 1.5 2.0))
(newline)
(display "the expression graph in Graphviz DOT:")
(newline)
(display (tape->dot f 1.5 2.0))
