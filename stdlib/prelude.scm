;;; The nablisp prelude: procedures written in nablisp itself, loaded when a session starts.
;;; Everything here is ordinary nablisp, so every procedure can be differentiated.

;;; ---------------------------------------------------------------------------------------------
;;; Arguments: what the procedures below check before they walk or count, so that a bad list or
;;; count is an error that says so, not a walk that never ends.

(define (check-count who n)
  ;; a count or an order: an exact non-negative integer, whose own derivative is no concern
  (if (exact-nonnegative-integer? n)
      (stop-gradient n)
      (error (string-append (symbol->string who) ": expected an exact non-negative integer, got") n)))

(define (check-list who l)
  ;; a proper list: not improper, not circular
  (if (list? l) l (error (string-append (symbol->string who) ": expected a proper list, got") l)))

(define (check-lists who lists)
  ;; lists walked side by side until the shortest ends: at least one of them must end
  (let loop ((ls lists))
    (cond ((null? ls) (error (string-append (symbol->string who) ": expected proper lists, got") lists))
          ((list? (car ls)) lists)
          (else (loop (cdr ls))))))

;;; ---------------------------------------------------------------------------------------------
;;; Lists

(define (fold-left f init . lists)
  ;; (fold-left f init '(a b c)) = (f (f (f init a) b) c)
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((acc init) (l (check-list 'fold-left (car lists))))
        (if (null? l) acc (loop (f acc (car l)) (cdr l))))
      (let loop ((acc init) (ls (check-lists 'fold-left lists)))
        (if (any null? ls) acc (loop (apply f acc (map car ls)) (map cdr ls))))))

(define (fold-right f init . lists)
  ;; (fold-right f init '(a b c)) = (f a (f b (f c init)))
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((acc init) (l (reverse (check-list 'fold-right (car lists)))))
        (if (null? l) acc (loop (f (car l) acc) (cdr l))))
      (let loop ((acc init) (ls (map reverse (map (lambda (l) (check-list 'fold-right l)) lists))))
        (if (any null? ls) acc (loop (apply f (append (map car ls) (list acc))) (map cdr ls))))))

(define (fold f init . lists)
  ;; SRFI 1 argument order: (fold cons '() '(1 2 3)) = (3 2 1)
  (apply fold-left (lambda (acc . xs) (apply f (append xs (list acc)))) init (check-lists 'fold lists)))

(define (reduce f initial l)
  ;; (reduce + 0 '(1 2 3)) = 6; the initial value only for the empty list
  (if (null? (check-list 'reduce l)) initial (fold-left (lambda (acc x) (f x acc)) (car l) (cdr l))))

(define (filter keep? l)
  (let loop ((l (check-list 'filter l)) (out '()))
    (cond ((null? l) (reverse out))
          ((keep? (car l)) (loop (cdr l) (cons (car l) out)))
          (else (loop (cdr l) out)))))

(define (remove drop? l) (filter (lambda (x) (not (drop? x))) (check-list 'remove l)))

(define (partition keep? l)
  (let loop ((l (check-list 'partition l)) (in '()) (out '()))
    (cond ((null? l) (values (reverse in) (reverse out)))
          ((keep? (car l)) (loop (cdr l) (cons (car l) in) out))
          (else (loop (cdr l) in (cons (car l) out))))))

(define (delete x l . same?)
  (let ((same? (if (pair? same?) (car same?) equal?)))
    (remove (lambda (y) (same? x y)) (check-list 'delete l))))

(define (delete-duplicates l . same?)
  (let ((same? (if (pair? same?) (car same?) equal?)))
    (let loop ((l (check-list 'delete-duplicates l)) (out '()))
      (cond ((null? l) (reverse out))
            ((any (lambda (y) (same? (car l) y)) out) (loop (cdr l) out))
            (else (loop (cdr l) (cons (car l) out)))))))

(define (iota count . options)
  ;; (iota 5) = (0 1 2 3 4); (iota 5 1) = (1 2 3 4 5); (iota 5 0 2) = (0 2 4 6 8)
  (let ((count (check-count 'iota count))
        (start (if (pair? options) (car options) 0))
        (step (if (and (pair? options) (pair? (cdr options))) (cadr options) 1)))
    (let loop ((i (- count 1)) (out '()))
      (if (< i 0) out (loop (- i 1) (cons (+ start (* i step)) out))))))

(define (last l) (car (last-pair l)))

(define (take l k)
  (let loop ((rest l) (n (check-count 'take k)) (out '()))
    (if (= n 0) (reverse out)
        (if (pair? rest) (loop (cdr rest) (- n 1) (cons (car rest) out))
            (error "take: the list has fewer elements than" k l)))))

(define (drop l k) (list-tail l k))

(define (any pred . lists)
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((l (check-list 'any (car lists))))
        (cond ((null? l) #f) ((pred (car l)) => (lambda (x) x)) (else (loop (cdr l)))))
      (let loop ((ls (check-lists 'any lists)))
        (if (let check ((ls ls)) (and (pair? ls) (or (null? (car ls)) (check (cdr ls)))))
            #f
            (or (apply pred (map car ls)) (loop (map cdr ls)))))))

(define (every pred . lists)
  (if (and (pair? lists) (null? (cdr lists)))
      (let loop ((l (check-list 'every (car lists))) (last #t))
        (if (null? l) last (let ((r (pred (car l)))) (if r (loop (cdr l) r) #f))))
      (let loop ((ls (check-lists 'every lists)) (last #t))
        (if (let check ((ls ls)) (and (pair? ls) (or (null? (car ls)) (check (cdr ls)))))
            last
            (let ((r (apply pred (map car ls)))) (if r (loop (map cdr ls) r) #f))))))

(define (count pred l)
  (let loop ((l (check-list 'count l)) (n 0)) (if (null? l) n (loop (cdr l) (if (pred (car l)) (+ n 1) n)))))

(define (list-index pred l)
  (let loop ((l (check-list 'list-index l)) (i 0))
    (cond ((null? l) #f) ((pred (car l)) i) (else (loop (cdr l) (+ i 1))))))

(define (find pred l)
  (let loop ((l (check-list 'find l))) (cond ((null? l) #f) ((pred (car l)) (car l)) (else (loop (cdr l))))))

(define (append-map f . lists) (apply append (apply map f lists)))

(define (filter-map f l) (filter (lambda (x) x) (map f l)))

(define (product l) (apply * l))

(define (list-tabulate n f) (map f (iota (check-count 'list-tabulate n))))

(define (argmin f l)
  ;; the element of l where f is smallest (the first one, at a tie)
  (if (or (null? l) (not (list? l))) (error "argmin: expected a non-empty proper list, got" l))
  (let loop ((best (car l)) (best-value (f (car l))) (l (cdr l)))
    (if (null? l) best
        (let ((v (f (car l))))
          (if (< v best-value) (loop (car l) v (cdr l)) (loop best best-value (cdr l)))))))

(define (argmax f l) (argmin (lambda (x) (- (f x))) l))

;;; ---------------------------------------------------------------------------------------------
;;; Vectors and matrices: lists of numbers, and lists of rows.  (Vectors #(…) work too where
;;; noted: the operations keep the kind of their first argument.)

(define (->list v) (if (vector? v) (vector->list v) v))
(define (like v l) (if (vector? v) (list->vector l) l))

(define (v+ a b) (like a (map + (->list a) (->list b))))
(define (v- a b) (like a (map - (->list a) (->list b))))
(define (scale k v) (like v (map (lambda (x) (* k x)) (->list v))))
(define (dot a b) (sum (map * (->list a) (->list b))))
(define (norm v) (sqrt (dot v v)))
(define (distance a b) (norm (v- a b)))

(define (transpose m) (if (null? (car m)) '() (apply map list m)))
(define (matrix*vector m v) (map (lambda (row) (dot row v)) m))
(define (matrix*matrix a b)
  (let ((columns (transpose b)))
    (map (lambda (row) (map (lambda (column) (dot row column)) columns)) a)))
(define (identity-matrix n)
  (map (lambda (i) (map (lambda (j) (if (= i j) 1 0)) (iota n))) (iota n)))

(define (solve-linear a b)
  ;; x with (matrix*vector a x) = b, by Gaussian elimination with partial pivoting
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
  ;; x ← x − step·∇f(x), a fixed number of times
  (let loop ((x x0) (i 0) (iterations (check-count 'gradient-descent iterations)))
    (if (= i iterations) x (loop (v- x (scale step ((gradient f) x))) (+ i 1) iterations))))

(define (gradient-descent-backtracking f x0 . options)
  ;; steepest descent with an Armijo backtracking line search; stops when the gradient is small
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
  ;; Newton's method: solve H·step = ∇f and move by −step, until the step is small
  (let ((tolerance (if (pair? options) (car options) 1e-10))
        (max-iterations (check-count 'newton-minimize
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 100))))
    (let loop ((x x0) (i 0))
      (let ((step (solve-linear (hessian f x) ((gradient f) x))))
        (let ((next (v- x step)))
          (if (or (< (norm step) tolerance) (= i max-iterations)) next (loop next (+ i 1))))))))

(define (newton-root f x0 . options)
  ;; Newton–Raphson: x ← x − f(x)/f'(x)
  (let ((tolerance (if (pair? options) (car options) 1e-12))
        (max-iterations (check-count 'newton-root
                                     (if (and (pair? options) (pair? (cdr options))) (cadr options) 100))))
    (let loop ((x x0) (i 0))
      (let* ((fx (f x)) (next (- x (/ fx ((derivative f) x)))))
        (if (or (<= (abs (- next x)) (* tolerance (max 1 (abs x)))) (= i max-iterations))
            next
            (loop next (+ i 1)))))))

(define (check-gradient f x . options)
  ;; Compares the gradient by AD with central differences (step h, default 1e-6) and returns
  ;; (list largest-difference ad-gradient numeric-gradient); x is a number, list or vector.
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
  ;; (nth-derivative 3 f) = (D (D (D f))); given more arguments, applied to them at once, as
  ;; the derivative operators are
  (let loop ((k (check-count 'nth-derivative n)) (g f))
    (cond ((> k 0) (loop (- k 1) (derivative g)))
          ((null? args) g)
          (else (apply g args)))))

(define (taylor-coefficients f x n)
  ;; the first n coefficients f(x), f'(x), f''(x)/2!, …, exact where f and x are
  (let loop ((k 0) (g f) (factorial 1) (out '()) (n (check-count 'taylor-coefficients n)))
    (if (= k n) (reverse out)
        (loop (+ k 1) (derivative g) (* factorial (+ k 1)) (cons (/ (g x) factorial) out) n))))

;;; ---------------------------------------------------------------------------------------------
;;; Teaching: the tape of a gradient computation

(define (show-tape f . xs)
  ;; print the forward sweep (numbered assignments) and the backward sweep (adjoint updates)
  (display (apply tape->text f xs)))

(define (tape->svg f . xs-and-file)
  ;; render the expression graph of f at xs with Graphviz's dot into the file named last
  (let* ((file (last xs-and-file))
         (xs (take xs-and-file (- (length xs-and-file) 1))))
    (render-dot (apply tape->dot f xs) file)))
