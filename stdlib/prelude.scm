;;; The nablisp prelude: procedures written in nablisp itself, loaded when a session starts.
;;; Everything here is ordinary nablisp, so every procedure can be differentiated.

;;; ---------------------------------------------------------------------------------------------
;;; Arguments: what the procedures below check before they walk or count, so that a bad list or
;;; count is an error that says so, not a walk that never ends.

(define (check-count who n)
  "(check-count who n)
   n when it is an exact non-negative integer (a count or an order, never differentiated);
   otherwise an error that names the procedure who. The prelude's procedures check their counts
   with it."
  (if (exact-nonnegative-integer? n)
      (stop-gradient n)
      (error (string-append (symbol->string who) ": expected an exact non-negative integer, got") n)))

(define (check-list who l)
  "(check-list who l)
   l when it is a proper list; otherwise an error that names the procedure who."
  (if (list? l) l (error (string-append (symbol->string who) ": expected a proper list, got") l)))

(define (check-lists who lists)
  "(check-lists who lists)
   lists when at least one of them is a proper list (so that walking them side by side ends);
   otherwise an error that names the procedure who."
  (let loop ((ls lists))
    (cond ((null? ls) (error (string-append (symbol->string who) ": expected proper lists, got") lists))
          ((list? (car ls)) lists)
          (else (loop (cdr ls))))))

;;; ---------------------------------------------------------------------------------------------
;;; Lists

(define (fold-left f init . lists)
  "(fold-left f init list1 list …)
   Combine the elements from the left: (fold-left f init '(a b c)) is (f (f (f init a) b) c);
   with several lists, f takes the accumulator then one element of each, until the shortest list
   ends."
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((acc init) (l (check-list 'fold-left (car lists))))
        (if (null? l) acc (loop (f acc (car l)) (cdr l))))
      (let loop ((acc init) (ls (check-lists 'fold-left lists)))
        (if (any null? ls) acc (loop (apply f acc (map car ls)) (map cdr ls))))))

(define (fold-right f init . lists)
  "(fold-right f init list1 list …)
   Combine the elements from the right: (fold-right f init '(a b c)) is (f a (f b (f c init)));
   with several lists, f takes one element of each then the accumulator."
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((acc init) (l (reverse (check-list 'fold-right (car lists)))))
        (if (null? l) acc (loop (f (car l) acc) (cdr l))))
      (let loop ((acc init) (ls (map reverse (map (lambda (l) (check-list 'fold-right l)) lists))))
        (if (any null? ls) acc (loop (apply f (append (map car ls) (list acc))) (map cdr ls))))))

(define (fold f init . lists)
  "(fold f init list1 list …)
   SRFI 1's fold: (f element accumulator) from the left, so (fold cons '() '(1 2 3)) is (3 2 1)."
  (apply fold-left (lambda (acc . xs) (apply f (append xs (list acc)))) init (check-lists 'fold lists)))

(define (reduce f initial l)
  "SRFI 1's reduce: (fold f (car l) (cdr l)), so (reduce + 0 '(1 2 3)) is 6; initial is the
   value for the empty list only."
  (if (null? (check-list 'reduce l)) initial (fold-left (lambda (acc x) (f x acc)) (car l) (cdr l))))

(define (filter keep? l)
  "A new list of the elements of l that satisfy keep?, in their order."
  (let loop ((l (check-list 'filter l)) (out '()))
    (cond ((null? l) (reverse out))
          ((keep? (car l)) (loop (cdr l) (cons (car l) out)))
          (else (loop (cdr l) out)))))

(define (remove drop? l)
  "A new list of the elements of l that do not satisfy drop?, in their order."
  (filter (lambda (x) (not (drop? x))) (check-list 'remove l)))

(define (partition keep? l)
  "Two values: the elements of l that satisfy keep? and those that do not, each in their order."
  (let loop ((l (check-list 'partition l)) (in '()) (out '()))
    (cond ((null? l) (values (reverse in) (reverse out)))
          ((keep? (car l)) (loop (cdr l) (cons (car l) in) out))
          (else (loop (cdr l) in (cons (car l) out))))))

(define (delete x l . same?)
  "(delete x l [same?])
   A new list of the elements of l that are not equal? to x (or for which (same? x element) is
   false)."
  (let ((same? (if (pair? same?) (car same?) equal?)))
    (remove (lambda (y) (same? x y)) (check-list 'delete l))))

(define (delete-duplicates l . same?)
  "(delete-duplicates l [same?])
   A new list of the elements of l without repeats (by equal?, or same?), keeping the first of
   each."
  (let ((same? (if (pair? same?) (car same?) equal?)))
    (let loop ((l (check-list 'delete-duplicates l)) (out '()))
      (cond ((null? l) (reverse out))
            ((any (lambda (y) (same? (car l) y)) out) (loop (cdr l) out))
            (else (loop (cdr l) (cons (car l) out)))))))

(define (iota count . options)
  "(iota count [start [step]])
   The list of count numbers start, start + step, …: (iota 5) is (0 1 2 3 4), (iota 5 1) is (1 2
   3 4 5), (iota 5 0 2) is (0 2 4 6 8)."
  (let ((count (check-count 'iota count))
        (start (if (pair? options) (car options) 0))
        (step (if (and (pair? options) (pair? (cdr options))) (cadr options) 1)))
    (let loop ((i (- count 1)) (out '()))
      (if (< i 0) out (loop (- i 1) (cons (+ start (* i step)) out))))))

(define (last l)
  "The last element of the non-empty list l."
  (car (last-pair l)))

(define (take l k)
  "A new list of the first k elements of l; an error when l has fewer."
  (let loop ((rest l) (n (check-count 'take k)) (out '()))
    (if (= n 0) (reverse out)
        (if (pair? rest) (loop (cdr rest) (- n 1) (cons (car rest) out))
            (error "take: the list has fewer elements than" k l)))))

(define (drop l k)
  "The list l after its first k elements (shared with l), as list-tail."
  (list-tail l k))

(define (any pred . lists)
  "(any pred list1 list …)
   The first true value of pred on the elements of the lists, position by position, or #f."
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((l (check-list 'any (car lists))))
        (cond ((null? l) #f) ((pred (car l)) => (lambda (x) x)) (else (loop (cdr l)))))
      (let loop ((ls (check-lists 'any lists)))
        (if (let check ((ls ls)) (and (pair? ls) (or (null? (car ls)) (check (cdr ls)))))
            #f
            (or (apply pred (map car ls)) (loop (map cdr ls)))))))

(define (every pred . lists)
  "(every pred list1 list …)
   Whether pred is true of the elements at every position of the lists: #f at the first false
   one, else the last value of pred (#t for empty lists)."
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((l (check-list 'every (car lists))) (last #t))
        (if (null? l) last (let ((r (pred (car l)))) (if r (loop (cdr l) r) #f))))
      (let loop ((ls (check-lists 'every lists)) (last #t))
        (if (let check ((ls ls)) (and (pair? ls) (or (null? (car ls)) (check (cdr ls)))))
            last
            (let ((r (apply pred (map car ls)))) (if r (loop (map cdr ls) r) #f))))))

(define (count pred l)
  "The number of elements of l that satisfy pred."
  (let loop ((l (check-list 'count l)) (n 0)) (if (null? l) n (loop (cdr l) (if (pred (car l)) (+ n 1) n)))))

(define (list-index pred l)
  "The index of the first element of l that satisfies pred, or #f."
  (let loop ((l (check-list 'list-index l)) (i 0))
    (cond ((null? l) #f) ((pred (car l)) i) (else (loop (cdr l) (+ i 1))))))

(define (find pred l)
  "The first element of l that satisfies pred, or #f."
  (let loop ((l (check-list 'find l))) (cond ((null? l) #f) ((pred (car l)) (car l)) (else (loop (cdr l))))))

(define (append-map f . lists)
  "(append-map f list1 list …)
   The lists that f returns for the elements of the lists, appended: (append-map (lambda (x)
   (list x x)) '(1 2)) is (1 1 2 2)."
  (apply append (apply map f lists)))

(define (filter-map f l)
  "The true values of (f element) for the elements of l, in their order: map that drops the #f
   results."
  (filter (lambda (x) x) (map f l)))

(define (product l)
  "The product of the numbers of the list l, (apply * l)."
  (apply * l))

(define (list-tabulate n f)
  "The list (f 0) (f 1) … (f (- n 1))."
  (map f (iota (check-count 'list-tabulate n))))

(define (argmin f l)
  "The element of the non-empty list l at which f is smallest (the first one at a tie)."
  (if (or (null? l) (not (list? l))) (error "argmin: expected a non-empty proper list, got" l))
  (let loop ((best (car l)) (best-value (f (car l))) (l (cdr l)))
    (if (null? l) best
        (let ((v (f (car l))))
          (if (< v best-value) (loop (car l) v (cdr l)) (loop best best-value (cdr l)))))))

(define (argmax f l)
  "The element of the non-empty list l at which f is largest (the first one at a tie)."
  (argmin (lambda (x) (- (f x))) l))

;;; ---------------------------------------------------------------------------------------------
;;; Vectors and matrices: lists of numbers, and lists of rows.  (Vectors #(…) work too where
;;; noted: the operations keep the kind of their first argument.)

(define (->list v)
  "v as a list: the elements of a vector, a list as it is. For the vector operations below,
   which take lists and vectors alike."
  (if (vector? v) (vector->list v) v))
(define (like v l)
  "The list l as a vector when v is a vector, else as it is: results keep the kind of their
   first argument."
  (if (vector? v) (list->vector l) l))

(define (v+ a b)
  "The sum of the vectors a and b, element by element (lists or vectors; the result has the kind
   of a)."
  (like a (map + (->list a) (->list b))))
(define (v- a b)
  "The difference of the vectors a and b, element by element (lists or vectors; the result has
   the kind of a)."
  (like a (map - (->list a) (->list b))))
(define (scale k v)
  "The vector v (a list or vector) times the number k, element by element."
  (like v (map (lambda (x) (* k x)) (->list v))))
(define (dot a b)
  "The dot product of the vectors a and b (lists or vectors of numbers)."
  (sum (map * (->list a) (->list b))))
(define (norm v)
  "The Euclidean norm of the vector v, (sqrt (dot v v))."
  (sqrt (dot v v)))
(define (distance a b)
  "The Euclidean distance between the points a and b, (norm (v- a b))."
  (norm (v- a b)))

(define (transpose m)
  "The transpose of the matrix m, a list of rows: its columns as rows."
  (if (null? (car m)) '() (apply map list m)))
(define (matrix*vector m v)
  "The product of the matrix m (a list of rows) and the vector v, a list."
  (map (lambda (row) (dot row v)) m))
(define (matrix*matrix a b)
  "The product of the matrices a and b, lists of rows."
  (let ((columns (transpose b)))
    (map (lambda (row) (map (lambda (column) (dot row column)) columns)) a)))
(define (identity-matrix n)
  "The n×n identity matrix, a list of rows of exact 0s and 1s."
  (map (lambda (i) (map (lambda (j) (if (= i j) 1 0)) (iota n))) (iota n)))

(define (solve-linear a b)
  "The vector x with (matrix*vector a x) = b, for a square matrix a (a list of rows) and a
   vector b, by Gaussian elimination with partial pivoting; exact for exact input; an error for
   a singular matrix. Differentiable, as it is written in nablisp."
  (let* ((n (length b))
         (rows (list->vector (map (lambda (row bi) (list->vector (append row (list bi)))) a b))))
    (do ((col 0 (+ col 1))) ((= col n))
      (let ((pivot (argmax (lambda (r) (abs (vector-ref (vector-ref rows r) col))) (iota (- n col) col))))
        (when (zero? (vector-ref (vector-ref rows pivot) col))
          (error "solve-linear: the matrix is singular"))
        (let ((tmp (vector-ref rows col)))
          (vector-set! rows col (vector-ref rows pivot))
          (vector-set! rows pivot tmp))
        (do ((r (+ col 1) (+ r 1))) ((= r n))
          (let* ((row (vector-ref rows r))
                 (factor (/ (vector-ref row col) (vector-ref (vector-ref rows col) col))))
            (do ((k col (+ k 1))) ((> k n))
              (vector-set! row k (- (vector-ref row k) (* factor (vector-ref (vector-ref rows col) k)))))))))
    (let loop ((r (- n 1)) (x '()))
      (if (< r 0) x
          (let* ((row (vector-ref rows r))
                 (known (let sum ((k (+ r 1)) (xs x) (acc 0))
                          (if (null? xs) acc (sum (+ k 1) (cdr xs) (+ acc (* (vector-ref row k) (car xs))))))))
            (loop (- r 1) (cons (/ (- (vector-ref row n) known) (vector-ref row r)) x)))))))

;;; ---------------------------------------------------------------------------------------------
;;; Numerical methods built on the derivative operators

(define (gradient-descent f x0 step iterations)
  "Take iterations steps x ← x − step·∇f(x) from x0 and return the last x; f maps a number, list
   or vector to a number."
  (let loop ((x x0) (i 0) (iterations (check-count 'gradient-descent iterations)))
    (if (= i iterations) x (loop (v- x (scale step ((gradient f) x))) (+ i 1) iterations))))

(define (gradient-descent-backtracking f x0 . options)
  "(gradient-descent-backtracking f x0 [tolerance [max-iterations]])
   Steepest descent from x0 with an Armijo backtracking line search (the step halves from 1
   until f decreases enough), until the gradient's norm is below tolerance (1e-8) or after
   max-iterations (1000) steps; returns the last x."
  (let ((tolerance (if (pair? options) (car options) 1e-8))
        (max-iterations (check-count 'gradient-descent-backtracking
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 1000))))
    (let loop ((x x0) (i 0))
      (let* ((fx (f x)) (g ((gradient f) x)) (g2 (dot g g)))
        (if (or (< g2 (* tolerance tolerance)) (= i max-iterations))
            x
            (let search ((t 1.0))
              (let ((candidate (v- x (scale t g))))
                (if (or (<= (f candidate) (- fx (* 1e-4 t g2))) (< t 1e-12))
                    (loop candidate (+ i 1))
                    (search (/ t 2))))))))))

(define (newton-minimize f x0 . options)
  "(newton-minimize f x0 [tolerance [max-iterations]])
   Newton's method for a stationary point (a minimum, if f is convex there) of f from x0, a list
   of numbers: solves H·step = ∇f with the Hessian and moves by −step until the step's norm is
   below tolerance (1e-10) or after max-iterations (100) steps."
  (let ((tolerance (if (pair? options) (car options) 1e-10))
        (max-iterations (check-count 'newton-minimize
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 100))))
    (let loop ((x x0) (i 0))
      (let ((step (solve-linear (hessian f x) ((gradient f) x))))
        (let ((next (v- x step)))
          (if (or (< (norm step) tolerance) (= i max-iterations)) next (loop next (+ i 1))))))))

(define (gradient-descent-path f x0 step iterations)
  "(gradient-descent-path f x0 step iterations)
   Every point gradient-descent visits, as a list: x0 first, its answer last; the path that
   plot-path draws over the contour lines of f."
  (let loop ((x x0) (i 0) (path (list x0)) (iterations (check-count 'gradient-descent-path iterations)))
    (if (= i iterations)
        (reverse path)
        (let ((next (v- x (scale step ((gradient f) x)))))
          (loop next (+ i 1) (cons next path) iterations)))))

(define (newton-minimize-path f x0 . options)
  "(newton-minimize-path f x0 [tolerance [max-iterations]])
   Every point newton-minimize visits, as a list: x0 first, its answer last; the path that
   plot-path draws over the contour lines of f."
  (let ((tolerance (if (pair? options) (car options) 1e-10))
        (max-iterations (check-count 'newton-minimize-path
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 100))))
    (let loop ((x x0) (i 0) (path (list x0)))
      (let* ((step (solve-linear (hessian f x) ((gradient f) x)))
             (next (v- x step)))
        (if (or (< (norm step) tolerance) (= i max-iterations))
            (reverse (cons next path))
            (loop next (+ i 1) (cons next path)))))))

(define (newton-root f x0 . options)
  "(newton-root f x0 [tolerance [max-iterations]])
   Newton–Raphson for a zero of f, a function of one number: x ← x − f(x)/f′(x) from x0, until a
   step is below tolerance (1e-12, relative to x when |x| > 1) or after max-iterations (100)
   steps."
  (let ((tolerance (if (pair? options) (car options) 1e-12))
        (max-iterations (check-count 'newton-root
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 100))))
    (let loop ((x x0) (i 0))
      (let* ((fx (f x)) (next (- x (/ fx ((derivative f) x)))))
        (if (or (<= (abs (- next x)) (* tolerance (max 1 (abs x)))) (= i max-iterations))
            next
            (loop next (+ i 1)))))))

(define (check-gradient f x . options)
  "(check-gradient f x [h])
   Compare the gradient of f at x by AD with central differences of step h (1e-6): (list
   largest-difference ad-gradient numeric-gradient), for x a number, list or vector."
  (let* ((h (if (pair? options) (car options) 1e-6))
         (ad ((gradient f) x))
         (numeric
          (if (number? x)
              (/ (- (f (+ x h)) (f (- x h))) (* 2 h))
              (let ((xs (->list x)))
                (like x (map (lambda (i)
                               (let ((bump (lambda (d) (like x (map (lambda (xj j) (if (= i j) (+ xj d) xj))
                                                                    xs (iota (length xs)))))))
                                 (/ (- (f (bump h)) (f (bump (- h)))) (* 2 h))))
                             (iota (length xs))))))))
    (list (if (number? x)
              (abs (- ad numeric))
              (fold-left max 0 (map (lambda (a n) (abs (- a n))) (->list ad) (->list numeric))))
          ad
          numeric)))

(define (nth-derivative n f . args)
  "The n-th derivative of f, a function of one number: (nth-derivative 3 f) is (D (D (D f)));
   (nth-derivative 0 f) is f.  Given more arguments, it is applied to them at once:
   (nth-derivative 2 sin 1.0) is ((nth-derivative 2 sin) 1.0), as the derivative operators are."
  (let loop ((k (check-count 'nth-derivative n)) (g f))
    (cond ((> k 0) (loop (- k 1) (derivative g)))
          ((null? args) g)
          (else (apply g args)))))

(define (taylor-coefficients f x n)
  "The first n Taylor coefficients of f at x, f(x), f′(x), f″(x)/2!, …, as a list; exact where f
   and x are."
  (let loop ((k 0) (g f) (factorial 1) (out '()) (n (check-count 'taylor-coefficients n)))
    (if (= k n) (reverse out)
        (loop (+ k 1) (derivative g) (* factorial (+ k 1)) (cons (/ (g x) factorial) out) n))))

;;; ---------------------------------------------------------------------------------------------
;;; Teaching: the tape of a gradient computation

(define (show-tape f . xs)
  "(show-tape f x …)
   Print how the gradient of f at x is computed: the forward sweep as numbered assignments, then
   the backward sweep, one adjoint update a line (tape->text gives the text)."
  (display (apply tape->text f xs)))

