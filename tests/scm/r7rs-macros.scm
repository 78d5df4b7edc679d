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
