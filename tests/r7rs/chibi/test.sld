;; The part of chibi-scheme's (chibi test) that its R7RS suite uses, written for nablisp's test
;; run: every test prints one line, PASS or FAIL, with its section and its expression, which
;; tests/test_r7rs_suite.py counts.  Inexact numbers compare within a relative 1e-5, as chibi's do.

(define-library (chibi test)
  (export test test-assert test-not test-error test-values test-equal test-begin test-end
          test-group test-exit current-test-epsilon)
  (import (scheme base) (scheme write) (scheme inexact))
  (begin
    (define sections '())
    (define failures 0)
    (define current-test-epsilon (make-parameter 1e-5))

    (define (close-enough? expected got)
      (cond ((and (number? expected) (number? got))
             (if (and (exact? expected) (exact? got))
                 (= expected got)
                 (or (= expected got)
                     (and (nan? expected) (nan? got))
                     (<= (abs (- expected got))
                         (* (current-test-epsilon) (max (abs expected) (abs got) 1))))))
            ((and (pair? expected) (pair? got))
             (and (close-enough? (car expected) (car got))
                  (close-enough? (cdr expected) (cdr got))))
            ((and (vector? expected) (vector? got))
             (close-enough? (vector->list expected) (vector->list got)))
            (else (equal? expected got))))

    (define (section)
      (if (null? sections) "" (car sections)))

    (define (one-line text)
      (let loop ((chars (string->list text)) (out '()))
        (cond ((null? chars) (list->string (reverse out)))
              ((char=? (car chars) #\newline) (loop (cdr chars) (cons #\space out)))
              (else (loop (cdr chars) (cons (car chars) out))))))

    (define (written x)
      (let ((port (open-output-string)))
        (write x port)
        (one-line (get-output-string port))))

    (define (report passed? expression detail)
      (unless passed? (set! failures (+ failures 1)))
      (display (if passed? "PASS " "FAIL "))
      (display (section))
      (display " :: ")
      (display (written expression))
      (unless passed?
        (display " :: ")
        (display (one-line detail)))
      (newline))

    ;; The value of (thunk), or the error it raised, as (ok value) or (error message).
    (define (outcome thunk)
      (guard (e (#t (list 'error (if (error-object? e)
                                     (written (cons (error-object-message e) (error-object-irritants e)))
                                     (written e)))))
        (list 'ok (thunk))))

    (define (check expression expected thunk same?)
      (let ((result (outcome thunk)))
        (report (and (eq? (car result) 'ok) (same? expected (cadr result)))
                expression
                (string-append "expected " (written expected)
                               (if (eq? (car result) 'ok) " got " " raised ")
                               (if (eq? (car result) 'ok) (written (cadr result)) (cadr result))))))

    (define-syntax test
      (syntax-rules ()
        ((_ name expected expression)
         (check 'expression expected (lambda () expression) close-enough?))
        ((_ expected expression)
         (check 'expression expected (lambda () expression) close-enough?))))

    (define-syntax test-equal
      (syntax-rules ()
        ((_ same? expected expression)
         (check 'expression expected (lambda () expression) same?))))

    (define-syntax test-assert
      (syntax-rules ()
        ((_ name expression) (check 'expression #t (lambda () (and expression #t)) eq?))
        ((_ expression) (check 'expression #t (lambda () (and expression #t)) eq?))))

    (define-syntax test-not
      (syntax-rules ()
        ((_ expression) (check 'expression #f (lambda () (and expression #t)) eq?))))

    (define-syntax test-values
      (syntax-rules ()
        ((_ expected expression)
         (check 'expression (call-with-values (lambda () expected) list)
                (lambda () (call-with-values (lambda () expression) list))
                close-enough?))))

    (define-syntax test-error
      (syntax-rules ()
        ((_ expression)
         (let ((result (outcome (lambda () expression))))
           (report (eq? (car result) 'error) 'expression
                   (string-append "expected an error, got " (written (cadr result))))))))

    (define (test-begin . name)
      (set! sections (cons (if (pair? name) (car name) "") sections)))

    (define (test-end . name)
      (if (pair? sections) (set! sections (cdr sections))))

    (define-syntax test-group
      (syntax-rules ()
        ((_ name body ...) (begin (test-begin name) body ... (test-end name)))))

    (define (test-exit)
      (exit (zero? failures)))))
