;;; A small multilayer perceptron (2 inputs, 3 tanh hidden units, 1 sigmoid output) learns XOR
;;; by full-batch gradient descent.  The parameters are one flat list; the gradient has its shape.

(define data '(((0 0) 0) ((0 1) 1) ((1 0) 1) ((1 1) 0)))

(define (sigmoid x) (/ 1 (+ 1 (exp (- x)))))

(define (predict params input)
  ;; params: 3 hidden units × (2 weights + bias), then 3 output weights + bias
  (let* ((hidden (map (lambda (unit)
                        (let ((w (list-tail params (* 3 unit))))
                          (tanh (+ (* (car w) (car input)) (* (cadr w) (cadr input)) (caddr w)))))
                      '(0 1 2)))
         (out (list-tail params 9)))
    (sigmoid (+ (dot (take out 3) hidden) (list-ref out 3)))))

(define (loss params)
  (/ (sum (map (lambda (example) (square (- (predict params (car example)) (cadr example))))
               data))
     (length data)))

(define initial '(0.5 -0.4 0.1  -0.3 0.6 -0.2  0.8 0.7 -0.5  0.4 -0.6 0.9  0.05))

(define trained
  (let loop ((params initial) (epoch 0))
    (when (= 0 (remainder epoch 500))
      (display "epoch ") (display epoch) (display "  loss ")
      (display (/ (round (* (loss params) 1e6)) 1e6)) (newline))
    (if (= epoch 3000)
        params
        (loop (v- params (scale 2.0 ((gradient loss) params))) (+ epoch 1)))))

(for-each (lambda (example)
            (display (car example)) (display " → ")
            (display (/ (round (* 1000 (predict trained (car example)))) 1000))
            (display "  (target ") (display (cadr example)) (display ")") (newline))
          data)
(display "learned XOR: ")
(display (every (lambda (e) (< (abs (- (predict trained (car e)) (cadr e))) 0.2)) data))
(newline)
