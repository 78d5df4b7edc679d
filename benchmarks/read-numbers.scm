;;; How long `read` takes to read N numbers, one at a time, from a string port:
;;;   .venv/bin/nablisp benchmarks/read-numbers.scm 10000
;;; (The reader was quadratic in the port's length before December 2026: 2,000 numbers took
;;; 38 s and 10,000 took 24 minutes; it now takes time proportional to what it reads.)

(define (numbers-text n)
  (let ((out (open-output-string)))
    (do ((i 0 (+ i 1))) ((= i n)) (write i out) (write-char #\space out))
    (get-output-string out)))

(define (count-data text)
  (let ((port (open-input-string text)))
    (let loop ((k 0))
      (if (eof-object? (read port)) k (loop (+ k 1))))))

(define n (if (pair? (cdr (command-line))) (string->number (cadr (command-line))) 10000))
(define text (numbers-text n))
(define start (current-jiffy))
(define count (count-data text))
(display (list 'read count 'numbers 'in
               (/ (- (current-jiffy) start) (exact->inexact (jiffies-per-second))) 's))
(newline)
