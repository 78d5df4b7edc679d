;;; syntax-rules and the auxiliary keywords as R7RS 4.3.2 defines them, with the cases chibi's
;;; suite (and its authors' corner cases) check.

;; A literal matches an input identifier by binding: both unbound, or bound to the same thing.
(define-syntax my-cond
  (syntax-rules (else)
    ((_ (else e)) e)
    ((_ (c e)) (if c e #f))))
(check (my-cond (else 3)) => 3)
(check (let ((else #f)) (my-cond (else 2))) => #f)
(check (let ((else #t)) (my-cond (else 2))) => 2)
(check (let () (define-syntax m (syntax-rules (else) ((_ else) 'literal) ((_ x) 'variable)))
         (list (m else) (let ((else 1)) (m else))))
       => '(literal variable))
;; …and a macro-introduced literal is not a pattern variable of the same name (bound-identifier=?)
(check (let-syntax
           ((m (syntax-rules ()
                 ((m x) (let-syntax
                            ((n (syntax-rules (k)
                                  ((n x) 'bound-identifier=?)
                                  ((n y) 'free-identifier=?))))
                          (n z))))))
         (m k))
       => 'bound-identifier=?)

;; The built-in forms look at else and => the same way.
(check (let ((else #f)) (cond (else 1))) => (if #f #f))
(check (let ((else #f)) (cond (else 1) (#t 2))) => 2)
(check (let ((=> #f)) (cond (#t => 'ok))) => 'ok)
(check (guard (e (else 'caught)) (raise 'x)) => 'caught)
(check (guard (outer (#t (list 'outer outer)))
         (let ((else #f)) (guard (e (else 'inner)) (raise 'x))))
       => '(outer x))
(check-error (let ((else #f)) (case 1 (else 1))) "a clause starts with a list of datums or else")
;; Hygiene both ways: a template's else means what it meant where the macro was defined.
(define-syntax if-by-cond (syntax-rules () ((_ c a b) (cond (c a) (else b)))))
(check (let ((else #f)) (if-by-cond #f 1 2)) => 2)
(define-syntax case-other (syntax-rules () ((_ k) (case k ((1) 'one) (else 'other)))))
(check (let ((else #f)) (case-other 5)) => 'other)
(check (let ((else #f)) (let-syntax ((m (syntax-rules () ((_ x) (cond (x 1) (else 2)))))) (m #f)))
       => (if #f #f))

;; A literal spelled like the ellipsis takes priority over it; a custom ellipsis frees `...`.
(define-syntax elli-lit (syntax-rules ... (...) ((_ x) '(x ...))))
(check (elli-lit 100) => '(100 ...))
(define-syntax dots-as-variable (syntax-rules ::: () ((_ ... x :::) (list ... x :::))))
(check (dots-as-variable 1 2 3) => '(1 2 3))
(define-syntax custom-nested (syntax-rules ::: () ((_ x :::) '((x ...) :::))))
(check (custom-nested 1 2) => '((1 ...) (2 ...)))
(define-syntax escaped (syntax-rules () ((_ x ...) '((... ...) x ...))))
(check (escaped 1 2) => '(... 1 2))
(define-syntax flatten (syntax-rules () ((_ (x ...) ...) '(x ... ...))))
(check (flatten (1 2) (3)) => '(1 2 3))
(define-syntax in-vector (syntax-rules () ((_ #(x ... y)) '(y x ...))))
(check (in-vector #(1 2 3)) => '(3 1 2))

;; A malformed macro is an error where it is defined, not a wrong expansion later.
(check-error (let () (define-syntax m (syntax-rules (1) ((_ x) x))) 1) "literal must be an identifier")
(check-error (let () (define-syntax m (syntax-rules () ((_ a ... b ...) 1))) 1) "more than one ellipsis")
(check-error (let () (define-syntax m (syntax-rules () ((_ ... x) 1))) 1) "an ellipsis must follow a subpattern")
(check-error (let () (define-syntax m (syntax-rules () ((_ . ...) 1))) 1) "an ellipsis must follow a subpattern")
(check-error (let () (define-syntax m (syntax-rules () ((_ x x) 1))) 1) "pattern variable x appears twice")
(check-error (let () (define-syntax m (syntax-rules () ((_) (...)))) 1) "the escape (... template) takes one template")
(check-error (let () (define-syntax m (syntax-rules () ((_ a) (a . ...)))) 1) "an ellipsis must follow a subtemplate")
(check (let () (define-syntax m (syntax-rules () ((_ _ _) 'ok))) (m 1 2)) => 'ok)

;; syntax-error (R7RS 4.3.3): an error while the program is expanded, message and irritants
(define-syntax simple-let
  (syntax-rules ()
    ((_ (head ... ((x . y) val) . tail) body1 body2 ...)
     (syntax-error "expected an identifier but got" (x . y)))
    ((_ ((name val) ...) body1 body2 ...)
     ((lambda (name ...) body1 body2 ...) val ...))))
(check (simple-let ((a 1) (b 2)) (+ a b)) => 3)
(check-error (simple-let (((a . b) 1)) a) "expected an identifier but got (a . b)")
(check-error (syntax-error "bad" "x" #\a 1.5) "bad \"x\" #\\a 1.5")
(check-error (syntax-error 1) "syntax-error: expected (syntax-error \"message\" irritant …)")
;; …raised while expanding, so even a branch never taken reports it
(check-error (if #t 1 (syntax-error "never run, still reported")) "never run, still reported")

;; The derived forms R7RS 4.2 lists, in their corner cases
(check (let () (define-values (a b . c) (values 1 2 3 4)) (list a b c)) => '(1 2 (3 4)))
(check (let () (define-values all (values)) all) => '())
(check (case 5 ((1 2) 'low) (else => (lambda (x) (* x 2)))) => 10)
(check (case 2 ((1 2) => (lambda (x) (list x 'found))) (else 'no)) => '(2 found))
(check (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'a 42)))) => 42)
(check (guard (e ((assq 'a e) => cdr) ((assq 'b e))) (raise (list (cons 'b 23)))) => '(b . 23))
(check (do ((i 0 (+ i 1)) (acc '())) ((= i 3) acc) (set! acc (cons i acc))) => '(2 1 0))
(check (let ((p (make-parameter 1 (lambda (x) (* x 10))))) (list (p) (parameterize ((p 2)) (p)) (p))) => '(10 20 10))
;; a parameter given one argument is set to it, converted (Racket, chibi; Larceny's suite)
(check (let ((p (make-parameter 1 (lambda (x) (* x 10)))))
         (p 3)
         (list (p) (parameterize ((p 2)) (p 4) (p)) (p)))
       => '(30 40 30))
(check-error ((make-parameter 1) 1 2) "expected no arguments (to get its value) or one (to set it)")
(check ((case-lambda ((x) (list 'one x)) ((x y) (list 'two x y)) ((x . r) (list 'many x r))) 1 2 3) => '(many 1 (2 3)))
(check-error ((case-lambda ((x) x) ((x y) y))) "no clause accepts 0 arguments")
(check (force (delay-force (delay-force (delay (+ 1 2))))) => 3)
(check (let loop ((i 0) (p (delay 0))) (if (= i 10000) (force p) (loop (+ i 1) (delay-force p)))) => 0)
(check (list (promise? (make-promise 1)) (promise? (delay 1)) (promise? 1)) => '(#t #t #f))
(check (let ((p (delay 1))) (eq? p (make-promise p))) => #t)
(check (force (make-promise (make-promise 5))) => 5)
(check (force 7) => 7)

;; A custom ellipsis is the identifier written, so a macro-writing macro can take its user's
;; `...` as a literal beside an ellipsis of its own (Al Petrofsky's case, Larceny's suite)
(check (let-syntax
           ((m (syntax-rules ::: ()
                 ((m dots)
                  (let-syntax ((n (syntax-rules ... (dots)
                                    ((n dots ...) 1))))
                    (n dots))))))
         (m ...))
       => 1)
;; `...` bound as a variable is no ellipsis in a syntax-rules inside that binding
(check (let ((... 19))
         (define-syntax bar (syntax-rules () ((bar x y ...) (list y x ...))))
         (bar 1 2 3))
       => '(2 1 3))
(check (let ((... 19))
         (define-syntax bar (syntax-rules () ((bar x y) (list y x ...))))
         (bar 1 2))
       => '(2 1 19))
;; but the current ports are shared by every interpreter of the process: parameterize only
(check-error (current-output-port (open-output-string)) "parameterize changes the current port")
