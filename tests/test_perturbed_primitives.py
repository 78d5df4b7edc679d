"""Every procedure of the global environment, applied to perturbed numbers.

Each name has samples: Scheme expressions in which a number marked ``^`` is an input to
differentiate by (its derivative is checked against central finite differences of the plain
program), ``@`` an input whose derivative must be exactly zero (an index, a count, a step
function, `stop-gradient`), ``!`` an input at which the derivative does not exist (a clean
refusal is expected).  Each marked input in turn is perturbed in forward mode, in reverse mode,
and nested two deep in the four orders (FF, FR, RF, RR), and the outcome must be what the plain
program gives: the same values (numbers `eqv?` to the plain ones, the same exactness), the same
errors word for word, derivatives and second derivatives that agree with finite differences.
No message may show an internal object.  A name of the global environment without samples fails
`test_every_global_procedure_has_samples`, so a primitive added later is covered or the suite
says so.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

from nablisp.ad.reverse import Tape
from nablisp.ad.tags import DifferentiationError, Dual, Tracked, dual, tracked
from nablisp.interpreter import Interpreter, NablispError
from nablisp.interpreter import runtime
from nablisp.interpreter.errors import ErrorObject, SchemeDifferentiationError, SchemeExit
from nablisp.lang.datum import Char, MultipleValues, MutableString, Nil, Pair, Symbol
from nablisp.lang.reader import parse_number

# -- the samples -------------------------------------------------------------------------------


def _cxr_samples():
    """(c…r X) for every path, X built so that the path reaches a marked number."""
    samples = {}
    for path in ["a", "d", "aa", "ad", "da", "dd", "aaa", "aad", "ada", "add", "daa", "dad", "dda",
                 "ddd", "aaaa", "aaad", "aada", "aadd", "adaa", "adad", "adda", "addd", "daaa", "daad",
                 "dada", "dadd", "ddaa", "ddad", "ddda", "dddd"]:
        built = "^2.5"
        for step in path:      # the last operation applied is the first letter
            built = f"(cons {built} 0)" if step == "a" else f"(cons 0 {built})"
        samples[f"c{path}r"] = [f"(c{path}r {built})", f"(c{path}r ^1.5)"]
    return samples


QUAD = "(lambda (v) (* (car v) (car v) (cadr v)))"
PAIR_OUT = "(lambda (v) (list (* (car v) (cadr v)) (sin (car v))))"

SAMPLES = {
    # numbers
    "+": ["(+ ^1.5 ^2.25)", "(+ ^2 ^3)", "(+ ^1/2 1/3)", "(+ ^1.5 2 ^3.0 4)", "(+ ^1.5)", "(+ ^1.5 'a)"],
    "-": ["(- ^1.5 ^2.25)", "(- ^3)", "(- ^1.5 1 ^2.0)", "(- ^1/2 1/3)", "(- ^2 \"s\")"],
    "*": ["(* ^1.5 ^2.25)", "(* ^2 ^3)", "(* ^1/2 4)", "(* ^1.5 2 ^3.0)", "(* ^1.5)", "(* 0 ^1.5)"],
    "/": ["(/ ^1.5 ^2.25)", "(/ ^3)", "(/ ^6 ^4)", "(/ ^1.5 2 ^3.0)", "(/ ^1 0)", "(/ ^0 ^1.5)"],
    "=": ["(= ^1.5 ^2.5)", "(= ^2 2 ^2.0)", "(= ^1.5)"],
    "<": ["(< ^1.5 ^2.5)", "(< ^2 1 ^3)", "(< ^1.5)", "(< ^1.5 'a)"],
    ">": ["(> ^1.5 ^2.5)", "(> ^3 2 ^1)"],
    "<=": ["(<= ^1.5 ^2.5)", "(<= ^2 2 ^3)"],
    ">=": ["(>= ^1.5 ^2.5)", "(>= ^3 3 ^1)"],
    "abs": ["(abs ^-1.5)", "(abs ^2)", "(abs ^-1/2)"],
    "magnitude": ["(magnitude ^-1.5)"],
    "acos": ["(acos ^0.5)", "(acos ^2.0)", "(acos !1.0)"],
    "asin": ["(asin ^0.5)", "(asin !-1.0)"],
    "atan": ["(atan ^0.5)", "(atan ^1.0 ^2.0)", "(atan ^-1 ^2)", "(atan !0 !0.0)"],
    "acosh": ["(acosh ^1.5)", "(acosh !1.0)"],
    "asinh": ["(asinh ^0.5)"],
    "atanh": ["(atanh ^0.5)", "(atanh ^2.0)"],
    "sin": ["(sin ^0.5)", "(sin ^2)"],
    "cos": ["(cos ^0.5)", "(cos ^1/2)"],
    "tan": ["(tan ^0.5)"],
    "exp": ["(exp ^0.5)", "(exp ^0)"],
    "sinh": ["(sinh ^0.5)"],
    "cosh": ["(cosh ^0.5)"],
    "tanh": ["(tanh ^0.5)"],
    "log": ["(log ^2.5)", "(log ^8 ^2)", "(log !0)", "(log ^-1.0)", "(log ^2 @1)"],
    "sqrt": ["(sqrt ^2.5)", "(sqrt ^4)", "(sqrt ^1/4)", "(sqrt ^-1.0)", "(sqrt !0.0)"],
    "square": ["(square ^1.5)", "(square ^2/3)"],
    "expt": ["(expt ^1.5 ^2.5)", "(expt ^2 3)", "(expt ^2 ^-1)", "(expt ^0.0 2)", "(expt !0.0 0.5)",
             "(expt ^-2.0 !2)", "(expt @0 ^-1)"],
    "exact": ["(exact ^1.5)", "(exact ^2)", "(exact @+inf.0)"],
    "inexact->exact": ["(inexact->exact ^0.25)"],
    "inexact": ["(inexact ^1/2)", "(inexact ^1.5)"],
    "exact->inexact": ["(exact->inexact ^1/4)"],
    "max": ["(max ^1.5 ^2.5)", "(max ^1 ^2.5)", "(max ^1.5 'a)"],
    "min": ["(min ^1.5 ^2.5 0.5)", "(min ^3 ^2)"],
    "floor": ["(floor ^1.5)", "(floor ^7/2)", "(floor @2)"],
    "ceiling": ["(ceiling ^1.5)", "(ceiling ^7/2)"],
    "round": ["(round ^1.25)", "(round @5/2)"],
    "truncate": ["(truncate ^-1.5)"],
    "number?": ["(number? ^1.5)"], "complex?": ["(complex? ^1.5)"], "real?": ["(real? ^1.5)"],
    "rational?": ["(rational? ^1.5)", "(rational? @+inf.0)"],
    "integer?": ["(integer? ^1.5)", "(integer? @2.0)", "(integer? @2)"],
    "exact?": ["(exact? ^1.5)", "(exact? ^1/2)"], "inexact?": ["(inexact? ^1.5)", "(inexact? ^2)"],
    "exact-integer?": ["(exact-integer? @2)", "(exact-integer? ^2.5)"],
    "exact-rational?": ["(exact-rational? @1/2)", "(exact-rational? ^2.5)"],
    "exact-nonnegative-integer?": ["(exact-nonnegative-integer? @2)", "(exact-nonnegative-integer? @-2)"],
    "nan?": ["(nan? ^1.5)", "(nan? @+nan.0)"], "infinite?": ["(infinite? ^1.5)", "(infinite? @-inf.0)"],
    "finite?": ["(finite? ^1.5)"],
    "zero?": ["(zero? @0)", "(zero? ^1.5)"], "positive?": ["(positive? ^1.5)"], "negative?": ["(negative? ^-1.5)"],
    "odd?": ["(odd? @3)", "(odd? @3.0)", "(odd? ^2.5)"], "even?": ["(even? @4)", "(even? ^2.5)"],
    "numerator": ["(numerator @3/4)", "(numerator @0.5)"], "denominator": ["(denominator @3/4)", "(denominator @0.5)"],
    "floor/": ["(call-with-values (lambda () (floor/ @7 @-2)) list)"],
    "floor-quotient": ["(floor-quotient @7 @2)", "(floor-quotient @7.0 @2)", "(floor-quotient @7 @0)"],
    "floor-remainder": ["(floor-remainder @-7 @2)"], "modulo": ["(modulo @-7 @2)"],
    "truncate/": ["(call-with-values (lambda () (truncate/ @-7 @2)) list)"],
    "truncate-quotient": ["(truncate-quotient @-7 @2)"], "quotient": ["(quotient @7 @2)", "(quotient ^7.5 @2)"],
    "truncate-remainder": ["(truncate-remainder @-7 @2)"], "remainder": ["(remainder @7 @2)"],
    "gcd": ["(gcd @12 @18)", "(gcd @12.0 @18)"], "lcm": ["(lcm @4 @6)"],
    "rationalize": ["(rationalize @3/10 @1/10)", "(rationalize @0.3 @1/10)"],
    "exact-integer-sqrt": ["(call-with-values (lambda () (exact-integer-sqrt @17)) list)",
                           "(exact-integer-sqrt ^2.5)"],
    "number->string": ["(number->string ^1.5)", "(number->string @10 @2)", "(number->string ^1/3)"],
    "string->number": ["(string->number \"1.5\" @10)", "(string->number ^1.5)"],
    "sum": ["(sum (list ^1.5 ^2.5 3))", "(sum (list ^1 2))", "(sum ^1.5)"],
    # pairs and lists
    "cons": ["(cons ^1.5 ^2.5)"], "list": ["(list ^1.5 2 ^3)"], "cons*": ["(cons* ^1 ^2.5 (list ^3.5))"],
    "list*": ["(list* ^1.5 (list 2))"],
    "car": ["(car (cons ^1.5 2))", "(car ^1.5)"], "cdr": ["(cdr (cons 1 ^2.5))", "(cdr ^1.5)"],
    "set-car!": ["(let ((p (cons 1 2))) (set-car! p ^1.5) p)"],
    "set-cdr!": ["(let ((p (cons 1 2))) (set-cdr! p ^1.5) p)", "(set-cdr! ^1.5 2)"],
    "pair?": ["(pair? ^1.5)"], "null?": ["(null? ^1.5)"], "list?": ["(list? ^1.5)", "(list? (list ^1.5))"],
    "length": ["(length (list ^1.5 2))", "(length ^1.5)"],
    "append": ["(append (list ^1.5) (list 2 ^2.5))", "(append (list 1) ^1.5)", "(append ^1.5 (list 1))"],
    "append!": ["(append! (list ^1.5) (list 2))"],
    "reverse": ["(reverse (list ^1.5 2))", "(reverse ^1.5)"],
    "list-tail": ["(list-tail (list 1 ^2.5) @1)", "(list-tail (list 1) @2)"],
    "list-ref": ["(list-ref (list 1.0 ^2.5) @1)", "(list-ref (list 1.0) ^0.5)"],
    "list-set!": ["(let ((l (list 1 2))) (list-set! l @1 ^2.5) l)"],
    "list-copy": ["(list-copy (list ^1.5 2))", "(list-copy ^1.5)"],
    "last-pair": ["(last-pair (list 1 ^2.5))", "(last-pair ^1.5)"],
    "make-list": ["(make-list @2 ^1.5)", "(make-list ^1.5)", "(make-list @-1)"],
    "memq": ["(memq @2 (list 1 2 3))", "(memq 'b (list 'a ^1.5 'b))"],
    "memv": ["(memv @2.0 (list 1.0 2.0 3.0))", "(memv @2 (list 1 2.0 2))"],
    "member": ["(member @2.0 (list 1.0 2.0))", "(member (list @1.5) (list (list 1.5) 2))",
               "(member ^2 (list 1 ^2.5 3) <)"],
    "assq": ["(assq 'b (list (list 'a ^1.5) (list 'b ^2.5)))", "(assq @2 (list (list 2 'x)))"],
    "assv": ["(assv @2.0 (list (cons 1.0 'a) (cons 2.0 'b)))", "(assv @2 (list (cons 2.0 'a) (cons 2 'b)))"],
    "assoc": ["(assoc @2.0 (list (list 1.0 'a) (list 2.0 'b)))",
              "(cadr (assoc 2 (list (list 1 ^1.5) (list 2 ^2.5))))", "(assoc ^2.5 (list (cons 1 2)) <)"],
    "sort": ["(sort (list ^2.5 1.0 ^3.5) <)", "(sort (list ^2 1 3) >)", "(sort (list ^2.5 0.5) (lambda (a b) (< a b)))"],
    # control
    "apply": ["(apply + ^1.5 (list ^2.5 1))", "(apply * (list ^1.5 ^2.5))", "(apply + ^1.5)"],
    "map": ["(map (lambda (x) (* x x)) (list ^1.5 ^2.5))", "(map * (list ^1.5 2) (list 3 ^2.5))",
            "(map + (list ^1.5) (list 2 5) (list ^3.5))", "(map car ^1.5)"],
    "for-each": ["(let ((s 0)) (for-each (lambda (x) (set! s (+ s (* x x)))) (list ^1.5 ^2.5)) s)",
                 "(let ((s 0)) (for-each (lambda (x y) (set! s (+ s (* x y)))) (list ^1.5 2) (list 3 ^2.5)) s)",
                 "(let ((s 0)) (for-each (lambda (x y z) (set! s (* x y z))) (list ^1.5) (list 2) (list ^3.5)) s)"],
    "call-with-current-continuation": ["(call-with-current-continuation (lambda (k) (* 2 (k (* 3 ^1.5)))))"],
    "call/cc": ["(call/cc (lambda (k) (* 2 (k (* 3 ^1.5)))))", "(+ 1 (call/cc (lambda (k) ^1.5)))"],
    "call/ec": ["(call/ec (lambda (k) (* 2 (k (* 3 ^1.5)))))"],
    "call-with-escape-continuation": ["(call-with-escape-continuation (lambda (k) (k ^1.5)))"],
    "call-with-values": ["(call-with-values (lambda () (values ^1.5 2)) *)"],
    "values": ["(call-with-values (lambda () (values ^1.5 ^2.5)) list)", "(values ^1.5)"],
    "dynamic-wind": ["(dynamic-wind (lambda () #f) (lambda () (* ^1.5 ^2.5)) (lambda () #f))"],
    "procedure?": ["(procedure? ^1.5)"],
    "procedure-documentation": ["(procedure-documentation ^1.5)",
                                "(procedure-documentation (lambda (x) \"Doc.\" (* x ^1.5)))"],
    "force": ["(force (make-promise ^1.5))", "(force (delay (* ^1.5 2)))", "(force ^1.5)"],
    "make-promise": ["(force (make-promise (* ^1.5 ^2.5)))"], "promise?": ["(promise? ^1.5)"],
    "make-parameter": ["((make-parameter ^1.5))", "((make-parameter ^1.5 (lambda (x) (* x x))))",
                       "(let ((p (make-parameter 1))) (parameterize ((p ^2.5)) (* (p) (p))))"],
    "error": ["(error \"bad\" ^1.5)", "(error-object-irritants (guard (e (#t e)) (error \"bad\" ^1.5 2)))"],
    "error-object?": ["(error-object? ^1.5)"],
    "error-object-message": ["(error-object-message (guard (e (#t e)) (error \"bad\" ^1.5)))",
                             "(error-object-message ^1.5)"],
    "error-object-irritants": ["(car (error-object-irritants (guard (e (#t e)) (error \"bad\" (* ^1.5 2)))))"],
    "file-error?": ["(file-error? ^1.5)"], "read-error?": ["(read-error? ^1.5)"],
    "void": ["(void ^1.5)"],
    # equivalence and booleans
    "eq?": ["(eq? @2 2)", "(eq? ^1.5 ^1.5)", "(eq? @2 2.0)"],
    "eqv?": ["(eqv? @2 2)", "(eqv? @2 2.0)", "(eqv? ^1.5 1.5)", "(eqv? @0.0 -0.0)", "(eqv? @1/2 1/2)"],
    "equal?": ["(equal? (list ^1.5 2) (list 1.5 ^2))", "(equal? (vector @2) (vector 2.0))"],
    "not": ["(not ^1.5)"], "boolean?": ["(boolean? ^1.5)"], "boolean=?": ["(boolean=? ^1.5 #t)"],
    # characters, strings, symbols
    "char->integer": ["(char->integer ^1.5)"], "integer->char": ["(integer->char @65)", "(integer->char ^1.5)"],
    "char?": ["(char? ^1.5)"], "digit-value": ["(digit-value ^1)"],
    "char-alphabetic?": ["(char-alphabetic? ^1)"], "char-numeric?": ["(char-numeric? ^1)"],
    "char-whitespace?": ["(char-whitespace? ^1)"], "char-upper-case?": ["(char-upper-case? ^1)"],
    "char-lower-case?": ["(char-lower-case? ^1)"], "char-upcase": ["(char-upcase ^1.5)"],
    "char-downcase": ["(char-downcase ^1.5)"], "char-foldcase": ["(char-foldcase ^1.5)"],
    "char=?": ["(char=? #\\a ^1)"], "char<?": ["(char<? #\\a ^1)"], "char>?": ["(char>? ^1 #\\a)"],
    "char<=?": ["(char<=? ^1 #\\a)"], "char>=?": ["(char>=? ^1 #\\a)"], "char-ci=?": ["(char-ci=? ^1 #\\a)"],
    "char-ci<?": ["(char-ci<? ^1 #\\a)"], "char-ci>?": ["(char-ci>? ^1 #\\a)"],
    "char-ci<=?": ["(char-ci<=? ^1 #\\a)"], "char-ci>=?": ["(char-ci>=? ^1 #\\a)"],
    "string?": ["(string? ^1.5)"], "symbol?": ["(symbol? ^1.5)"],
    "make-string": ["(make-string @3 #\\a)", "(make-string ^1.5 #\\a)"],
    "string": ["(string #\\a ^1)"], "string-length": ["(string-length ^1.5)"],
    "string-ref": ["(string-ref \"abc\" @1)", "(string-ref \"abc\" @5)"],
    "string-set!": ["(let ((s (make-string 3 #\\a))) (string-set! s @1 #\\b) s)"],
    "substring": ["(substring \"abcd\" @1 @3)", "(substring \"abcd\" ^1.5 3)"],
    "string-copy": ["(string-copy \"abcd\" @1 @3)"],
    "string-copy!": ["(let ((s (make-string 4 #\\a))) (string-copy! s @1 \"xy\") s)"],
    "string-fill!": ["(let ((s (make-string 3 #\\a))) (string-fill! s #\\b @1) s)"],
    "string-append": ["(string-append \"a\" ^1)"], "string->list": ["(string->list \"abc\" @1)"],
    "list->string": ["(list->string (list #\\a ^1.5))"], "string->vector": ["(string->vector \"abc\" @1)"],
    "vector->string": ["(vector->string (vector #\\a #\\b) @1)"],
    "string->symbol": ["(string->symbol ^1.5)"], "symbol->string": ["(symbol->string ^1.5)"],
    "symbol=?": ["(symbol=? 'a ^1.5)"],
    "string-upcase": ["(string-upcase ^1)"], "string-downcase": ["(string-downcase ^1)"],
    "string-foldcase": ["(string-foldcase ^1)"], "string-null?": ["(string-null? ^1)"],
    "string-contains": ["(string-contains \"abc\" ^1)"], "string-index": ["(string-index \"abc\" ^1)"],
    "string-join": ["(string-join (list \"a\" \"b\") ^1)"], "string-split": ["(string-split \"a b\" ^1)"],
    "string-map": ["(string-map (lambda (c) ^1.5) \"ab\")"],
    "string-for-each": ["(let ((n 0)) (string-for-each (lambda (c) (set! n (+ n ^1.5))) \"ab\") n)"],
    "string=?": ["(string=? \"a\" ^1)"], "string<?": ["(string<? \"a\" ^1)"], "string>?": ["(string>? ^1 \"a\")"],
    "string<=?": ["(string<=? ^1 \"a\")"], "string>=?": ["(string>=? ^1 \"a\")"],
    "string-ci=?": ["(string-ci=? ^1 \"a\")"], "string-ci<?": ["(string-ci<? ^1 \"a\")"],
    "string-ci>?": ["(string-ci>? ^1 \"a\")"], "string-ci<=?": ["(string-ci<=? ^1 \"a\")"],
    "string-ci>=?": ["(string-ci>=? ^1 \"a\")"],
    "gensym": ["(symbol? (gensym ^1))"], "generate-uninterned-symbol": ["(symbol? (generate-uninterned-symbol ^1))"],
    # vectors
    "vector": ["(vector ^1.5 2)"], "vector?": ["(vector? ^1.5)"], "make-vector": ["(make-vector @2 ^1.5)"],
    "vector-length": ["(vector-length (vector ^1.5))", "(vector-length ^1.5)"],
    "vector-ref": ["(vector-ref (vector 1 ^2.5) @1)", "(vector-ref (vector 1) @3)", "(vector-ref (vector 1) ^0.5)"],
    "vector-set!": ["(let ((v (vector 1 2))) (vector-set! v @1 ^2.5) v)"],
    "vector->list": ["(vector->list (vector 1 ^2.5 3) @1)"], "list->vector": ["(list->vector (list ^1.5 2))"],
    "vector-append": ["(vector-append (vector ^1.5) (vector 2 ^2.5))"],
    "vector-copy": ["(vector-copy (vector ^1.5 2 3) @0 @2)"],
    "vector-copy!": ["(let ((v (make-vector 3 0))) (vector-copy! v @1 (vector ^1.5 2)) v)"],
    "vector-fill!": ["(let ((v (make-vector 3 0))) (vector-fill! v ^1.5 @1) v)"],
    "vector-map": ["(vector-map * (vector ^1.5 2) (vector 3 ^2.5))"],
    "vector-for-each": ["(let ((s 0)) (vector-for-each (lambda (x) (set! s (+ s x))) (vector ^1.5 ^2.5)) s)"],
    # ports and output
    "display": ["(let ((p (open-output-string))) (display (list ^1.5 \"s\") p) (get-output-string p))"],
    "write": ["(let ((p (open-output-string))) (write (vector ^1.5 \"s\") p) (get-output-string p))"],
    "write-shared": ["(let ((p (open-output-string))) (write-shared (list ^1.5) p) (get-output-string p))"],
    "write-simple": ["(let ((p (open-output-string))) (write-simple ^1/3 p) (get-output-string p))"],
    "write-char": ["(write-char ^1)"],
    "write-string": ["(let ((p (open-output-string))) (write-string \"abc\" p @1) (get-output-string p))"],
    "newline": ["(newline ^1)"], "fresh-line": ["(fresh-line ^1)"], "flush-output-port": ["(flush-output-port ^1)"],
    "open-input-string": ["(open-input-string ^1)"], "open-output-string": ["(open-output-string ^1)"],
    "get-output-string": ["(get-output-string ^1)"],
    "read": ["(read ^1)", "(* ^1.5 (read (open-input-string \"2.5\")))"],
    "read-char": ["(read-char ^1)"], "peek-char": ["(peek-char ^1)"], "read-line": ["(read-line ^1)"],
    "read-string": ["(read-string @2 (open-input-string \"abc\"))"], "char-ready?": ["(char-ready? ^1)"],
    "eof-object": ["(eof-object ^1)"], "eof-object?": ["(eof-object? ^1.5)"],
    "port?": ["(port? ^1.5)"], "input-port?": ["(input-port? ^1.5)"], "output-port?": ["(output-port? ^1.5)"],
    "textual-port?": ["(textual-port? ^1.5)"], "input-port-open?": ["(input-port-open? ^1.5)"],
    "output-port-open?": ["(output-port-open? ^1.5)"], "close-port": ["(close-port ^1)"],
    "close-input-port": ["(close-input-port ^1)"], "close-output-port": ["(close-output-port ^1)"],
    "current-input-port": ["(current-input-port ^1)"], "current-output-port": ["(current-output-port ^1)"],
    "current-error-port": ["(current-error-port ^1)"],
    "call-with-port": ["(call-with-port (open-input-string \"x\") (lambda (p) (* ^1.5 ^2.5)))"],
    # bytevectors and binary ports
    "bytevector?": ["(bytevector? ^1.5)"],
    "make-bytevector": ["(make-bytevector @3 @7)", "(make-bytevector ^1.5)", "(make-bytevector @2 @256)"],
    "bytevector": ["(bytevector @1 @255)", "(bytevector ^1.5)", "(bytevector @-1)"],
    "bytevector-u8-ref": ["(bytevector-u8-ref (bytevector 1 2 3) @1)",
                          "(* ^1.5 (bytevector-u8-ref (bytevector 1 2 3) @2))",
                          "(bytevector-u8-ref (bytevector 1 2 3) @3)"],
    "bytevector-u8-set!": ["(let ((b (make-bytevector 3 0))) (bytevector-u8-set! b @1 @200) b)",
                           "(bytevector-u8-set! (make-bytevector 3 0) @1 ^1.5)"],
    "bytevector-length": ["(bytevector-length ^1.5)", "(* ^1.5 (bytevector-length (bytevector 1 2)))"],
    "bytevector-copy": ["(bytevector-copy (bytevector 1 2 3) @1 @2)"],
    "bytevector-copy!": ["(let ((b (make-bytevector 4 0))) (bytevector-copy! b @1 (bytevector 7 8 9) @1) b)"],
    "bytevector-append": ["(bytevector-append (bytevector @1) (bytevector @2))", "(bytevector-append ^1.5)"],
    "utf8->string": ["(utf8->string (bytevector 65 66 67) @1 @2)"],
    "string->utf8": ["(string->utf8 \"abc\" @1)"],
    "open-input-bytevector": ["(open-input-bytevector ^1)"], "open-output-bytevector": ["(open-output-bytevector ^1)"],
    "get-output-bytevector": ["(let ((p (open-output-bytevector))) (write-u8 @7 p) (get-output-bytevector p))"],
    "read-u8": ["(* ^1.5 (read-u8 (open-input-bytevector (bytevector 2))))", "(read-u8 ^1)"],
    "peek-u8": ["(peek-u8 ^1)"], "u8-ready?": ["(u8-ready? ^1)"],
    "read-bytevector": ["(read-bytevector @2 (open-input-bytevector (bytevector 1 2 3)))"],
    "read-bytevector!": ["(let ((b (make-bytevector 3 0))) (read-bytevector! b (open-input-bytevector (bytevector 5 6)) @1) b)"],
    "write-u8": ["(let ((p (open-output-bytevector))) (write-u8 @255 p) (get-output-bytevector p))", "(write-u8 ^1.5)"],
    "write-bytevector": ["(let ((p (open-output-bytevector))) (write-bytevector (bytevector 1 2 3) p @1 @2) "
                         "(get-output-bytevector p))"],
    "binary-port?": ["(binary-port? ^1.5)"],
    # files (names that are not strings: no file is touched)
    "open-input-file": ["(open-input-file ^1)"], "open-output-file": ["(open-output-file ^1)"],
    "open-binary-input-file": ["(open-binary-input-file ^1)"],
    "open-binary-output-file": ["(open-binary-output-file ^1)"],
    "call-with-input-file": ["(call-with-input-file ^1 read)"],
    "call-with-output-file": ["(call-with-output-file ^1 write)"],
    "with-input-from-file": ["(with-input-from-file ^1 read)"],
    "with-output-to-file": ["(with-output-to-file ^1 newline)"],
    "file-exists?": ["(file-exists? ^1)"], "delete-file": ["(delete-file ^1)"],
    # the session
    "eval": ["(eval (list '* ^1.5 ^2.5))", "(eval (list 'sin ^1.5) (interaction-environment))"],
    "load": ["(load ^1)"], "exit": ["(exit @3)"], "emergency-exit": ["(emergency-exit @4)"],
    "command-line": ["(command-line ^1)"], "features": ["(features ^1)"],
    "get-environment-variable": ["(get-environment-variable ^1)"],
    "get-environment-variables": ["(get-environment-variables ^1)"],
    "current-second": ["(current-second ^1)"], "current-jiffy": ["(current-jiffy ^1)"],
    "jiffies-per-second": ["(jiffies-per-second ^1)"], "runtime": ["(runtime ^1)"],
    "interaction-environment": ["(interaction-environment ^1)"], "environment": ["(environment @1)"],
    "scheme-report-environment": ["(scheme-report-environment @5)"], "null-environment": ["(null-environment @5)"],
    "raise": ["(guard (e (#t (* e 2))) (raise ^1.5))", "(raise ^1.5)"],
    "raise-continuable": ["(with-exception-handler (lambda (e) (* e 2)) (lambda () (+ 1 (raise-continuable ^1.5))))"],
    "with-exception-handler": ["(with-exception-handler (lambda (e) ^1.5) (lambda () (raise-continuable 'oops)))"],
    "render-dot": ["(render-dot ^1 \"x\")"],
    # the derivative operators
    "derivative": ["(derivative (lambda (x) (* x x x)) ^1.5)", "((derivative (lambda (x) (lambda (y) (* x y))) ^1.5) ^2.5)",
                   "(derivative sin ^2)", "(derivative sin (list ^1.5))"],
    "D": ["(D (lambda (x) (* x (exp x))) ^0.5)"],
    "gradient": [f"(gradient {QUAD} (list ^1.5 ^2.5))", "(gradient (lambda (x y) (* x y y)) ^1.5 ^2.5)",
                 "(gradient (lambda (x) (list x)) ^1.5)"],
    "grad": [f"(grad {QUAD} (vector ^1.5 2))"],
    "gradient-forward": [f"(gradient-forward {QUAD} (list ^1.5 ^2.5))", "(gradient-forward exp ^1.5)"],
    "hessian": [f"(hessian {QUAD} (list ^1.5 ^2.5))", "(hessian (lambda (x) (* x x x)) ^1.5)"],
    "hessian-vector-product": [f"(hessian-vector-product {QUAD} (list ^1.5 2.0) (list 1.0 ^0.5))"],
    "hvp": [f"(hvp {QUAD} (list 1.5 ^2.0) (list ^1.0 0.5))"],
    "jacobian": [f"(jacobian {PAIR_OUT} (list ^1.5 ^2.5))"],
    "jacobian-forward": [f"(jacobian-forward {PAIR_OUT} (list ^1.5 2.0))"],
    "jacobian-reverse": [f"(jacobian-reverse {PAIR_OUT} (list 1.5 ^2.0))"],
    "jvp": ["(jvp (lambda (v) (* (car v) (cadr v))) (list ^1.5 2.0) (list 1.0 ^0.5))",
            "(jvp sin ^1.5 (list 1))"],
    "vjp": ["(vjp (lambda (v) (list (* (car v) (cadr v)) (car v))) (list ^1.5 2.0) (list 1.0 ^0.5))",
            "(vjp (lambda (v) (list (car v) (car v))) (list ^1.5) (list ^2.0 0.5))", "(vjp sin ^1.5 \"s\")"],
    "value-and-derivative": ["(value-and-derivative (lambda (x) (* x x x)) ^1.5)"],
    "value-and-gradient": [f"(value-and-gradient {QUAD} (list ^1.5 ^2.5))"],
    "stop-gradient": ["(stop-gradient @1.5)", "(* ^1.5 (stop-gradient @2.5))", "(stop-gradient (list @1.5))"],
    "tape->text": ["(tape->text (lambda (x) (* x x)) ^1.5)"],
    "tape->dot": ["(tape->dot (lambda (x y) (* x y)) ^1.5 2)"],
    # the prelude
    "->list": ["(->list (vector ^1.5 2))"], "like": ["(like (vector 1) (list ^1.5))"],
    "fold-left": ["(fold-left * 1 (list ^1.5 ^2.5))",
                  "(fold-left (lambda (acc x y) (+ acc (* x y))) 0 (list ^1.5 2) (list 3 ^2.5))"],
    "fold-right": ["(fold-right (lambda (x acc) (- x acc)) 0 (list ^1.5 ^2.5))"],
    "fold": ["(fold cons* '() (list ^1.5 2) (list 3 ^2.5))"],
    "reduce": ["(reduce + 0 (list ^1.5 ^2.5))", "(reduce + ^1.5 '())"],
    "filter": ["(filter (lambda (x) (> x 1)) (list ^1.5 0.5 ^2.5))"],
    "remove": ["(remove (lambda (x) (> x 1)) (list ^1.5 0.5))"],
    "partition": ["(call-with-values (lambda () (partition (lambda (x) (> x 1)) (list ^1.5 0.5))) list)"],
    "delete": ["(delete @2.0 (list 1.0 2.0 ^3.5))"],
    "delete-duplicates": ["(delete-duplicates (list ^1.5 2.0 2.0))"],
    "check-count": ["(check-count 'n @3)", "(check-count 'n ^1.5)"],
    "check-list": ["(check-list 'l (list ^1.5 2))", "(check-list 'l ^1.5)"],
    "check-lists": ["(check-lists 'l (list ^1.5 (list ^2.5)))"],
    "iota": ["(iota @3)", "(iota @3 ^1.5 ^0.5)"],
    "last": ["(last (list 1 ^2.5))"], "take": ["(take (list ^1.5 2 3) @2)"], "drop": ["(drop (list 1 ^2.5) @1)"],
    "any": ["(any (lambda (x) (and (> x 1) (* x x))) (list 0.5 ^1.5))"],
    "every": ["(every (lambda (x) (* x 2)) (list 1.0 ^2.5))"],
    "count": ["(count (lambda (x) (> x 1)) (list ^1.5 0.5))"],
    "list-index": ["(list-index (lambda (x) (> x 1)) (list 0.5 ^1.5))"],
    "find": ["(find (lambda (x) (> x 1)) (list 0.5 ^1.5))"],
    "append-map": ["(append-map (lambda (x) (list x (* x x))) (list ^1.5 2))"],
    "filter-map": ["(filter-map (lambda (x) (and (> x 1) (* x x))) (list ^1.5 0.5))"],
    "product": ["(product (list ^1.5 ^2.5))"],
    "list-tabulate": ["(list-tabulate @3 (lambda (i) (* i ^1.5)))"],
    "flatten": ["(flatten (list ^1.5 (list 2 (list ^2.5))))"],
    "argmin": ["(argmin (lambda (x) (* x x)) (list 1.0 ^0.5 -2.0))"],
    "argmax": ["(argmax (lambda (x) (* x x)) (list 1.0 ^2.5 -2.0))"],
    "v+": ["(v+ (list ^1.5 2) (list 3 ^2.5))"], "v-": ["(v- (vector ^1.5 2) (vector 3 ^2.5))"],
    "scale": ["(scale ^1.5 (list 1.0 ^2.5))"], "dot": ["(dot (list ^1.5 2.0) (list 3.0 ^0.5))"],
    "norm": ["(norm (list ^1.5 ^2.5))"], "distance": ["(distance (list ^1.5 2.0) (list 0.5 ^0.5))"],
    "transpose": ["(transpose (list (list ^1.5 2) (list 3 4)))"],
    "matrix*vector": ["(matrix*vector (list (list ^1.5 2) (list 3 4)) (list 1 ^2.5))"],
    "matrix*matrix": ["(matrix*matrix (list (list ^1.5 2) (list 3 4)) (list (list 1 0) (list 0 ^2.5)))"],
    "identity-matrix": ["(identity-matrix @2)"],
    "solve-linear": ["(solve-linear (list (list ^2.0 1.0) (list 1.0 3.0)) (list 1.0 ^2.0))"],
    "gradient-descent": ["(gradient-descent (lambda (v) (square (- (car v) ^1.5))) (list 0.0) 0.25 @10)"],
    "gradient-descent-backtracking":
        ["(gradient-descent-backtracking (lambda (v) (square (- (car v) ^1.5))) (list 0.0))"],
    "newton-minimize": ["(newton-minimize (lambda (v) (+ (square (- (car v) ^1.5)) (square (cadr v)))) (list 0.0 0.0))"],
    "newton-root": ["(newton-root (lambda (x) (- (* x x) ^2.0)) 1.0)"],
    "check-gradient": ["(cadr (check-gradient (lambda (x) (* x x x)) ^1.5))"],
    "nth-derivative": ["((nth-derivative @2 (lambda (x) (* x x x))) ^1.5)"],
    "taylor-coefficients": ["(taylor-coefficients exp ^0.5 @3)"],
    "show-tape": ["(show-tape (lambda (x) (* x x)) ^1.5)"],
    "tape->svg": ["(tape->svg (lambda (x) x) ^1.5)"],
    "draw-tape": ["(picture? (draw-tape (lambda (x) (* x ^1.5)) ^2.0))"],
    # code, not a number: the same whatever the captured number carries
    "derivative-code": ["(length (derivative-code (lambda (x) (* x ^1.5))))"],
    "gradient-code": ["(length (gradient-code (lambda (x) (* x ^1.5))))"],
    "hessian-code": ["(length (hessian-code (lambda (x) (* x x ^1.5)) 2.0))"],
    "save-picture": ["(save-picture ^1 \"x\")"], "picture?": ["(picture? ^1.5)"],
    "picture->svg": ["(picture->svg ^1.5)"],
    # a picture is not differentiable: plots look at the numbers under the perturbations
    "plot": ["(picture? (plot (lambda (x) (* x ^1.5)) ^0 1 'samples 3))"],
    "plot-gradient-field": ["(picture? (plot-gradient-field (lambda (x y) (* x y ^1.5)) ^0 1 0 1 'arrows 2 'contours 0))"],
    "plot-path": ["(picture? (plot-path (lambda (p) (* (car p) ^1.5)) (list (list ^0 0) (list 1 1)) 'contours 0))"],
    "gradient-descent-path": ["(gradient-descent-path (lambda (v) (square (- (car v) ^1.5))) (list 0.0) 0.25 @10)"],
    "newton-minimize-path": ["(newton-minimize-path (lambda (v) (+ (square (- (car v) ^1.5)) (square (cadr v)))) (list 0.0 0.0))"],
    **_cxr_samples(),
}

# Forms that look like procedures to a user but are syntax have no entry; these are the globals
# that are procedures and take numbers nowhere, or whose effect a test cannot make twice.
LEVELS = [("F",), ("R",), ("F", "F"), ("F", "R"), ("R", "F"), ("R", "R")]
INTERNAL = re.compile(r"#<(dual|tracked)|Dual|Tracked|Bundle|Singular|ε")


# -- running a sample --------------------------------------------------------------------------

_MARKER = re.compile(r"([\^@!])([-+]?(?:\d[\d./e]*|inf\.0|nan\.0))")


def parse_sample(source: str):
    markers = []

    def replace(match):
        value = parse_number(match[2])
        assert value is not None, f"bad marker {match[0]} in {source}"
        markers.append((match[1], value))
        return f"p{len(markers) - 1}"
    template = _MARKER.sub(replace, source)
    return template, markers


class Outcome:
    def __init__(self, kind, value=None, message=None, error=None):
        self.kind, self.value, self.message, self.error = kind, value, message, error


def run(interp, proc, args) -> Outcome:
    try:
        return Outcome("value", interp.run(lambda: runtime.apply_procedure(proc, args)))
    except SchemeExit as error:
        return Outcome("exit", error.code)
    except NablispError as error:
        return Outcome("error", message=error.message, error=error)


def observe(value, number, out):
    """The shape of ``value`` as a list of tokens; every number leaf goes through ``number``
    into ``out`` (test code: the values here are small)."""
    cls = value.__class__
    if cls in (int, float, Fraction, Dual, Tracked):
        out.append(number(value))
        return ["N"]
    if cls is Pair:
        tokens = ["("] + observe(value.car, number, out)
        node = value.cdr
        while node.__class__ is Pair:
            tokens += observe(node.car, number, out)
            node = node.cdr
        if node is not Nil:
            tokens += ["."] + observe(node, number, out)
        return tokens + [")"]
    if cls is list:
        return ["#("] + [t for item in value for t in observe(item, number, out)] + [")"]
    if cls is MultipleValues:
        return ["values("] + [t for item in value for t in observe(item, number, out)] + [")"]
    if cls is runtime.Record:
        return [f"record {value.rtype.name}("] + [t for item in value.values for t in observe(item, number, out)] + [")"]
    if cls is ErrorObject:
        return [f"error {value.message}("] + [t for item in value.irritants for t in observe(item, number, out)] + [")"]
    if cls is MutableString:
        return [f"string {str(value)!r}"]
    if cls is bytearray:
        return [f"bytevector {bytes(value)!r}"]
    if cls in (str, bool, Char, Symbol) or value is None or value is Nil:
        if cls is Symbol and value.name.startswith("g"):     # gensym: a new name each time
            return ["symbol"]
        return [f"{cls.__name__} {value!r}"]
    if callable(value):
        return ["procedure"]
    return [f"object {cls.__name__}"]


def same_number(a, b) -> bool:
    """eqv?: the same exactness, the same value (NaN as NaN, 0.0 apart from -0.0)."""
    if a.__class__ is not b.__class__:
        return False
    if a.__class__ is float:
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def close(a, b, tolerance) -> bool:
    a, b = float(a), float(b)
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def numbers_of(outcome):
    numbers = []
    tokens = observe(outcome.value, lambda x: x, numbers)
    return tokens, numbers


class Perturbation:
    """One marked input perturbed at the given levels (innermost first), in one interpreter."""

    def __init__(self, interp, levels, value):
        self.levels = []
        x = value
        for kind in levels:
            if kind == "F":
                tag = interp.operators.tags.fresh()
                x = dual(tag, x, 1)
                self.levels.append((kind, tag, None))
            else:
                tag = interp.operators.tags.fresh(Tape())
                node = tag.tape.new_input()
                x = tracked(tag, x, node)
                self.levels.append((kind, tag, node))
        self.input = x

    def close(self):
        for _, tag, _ in self.levels:
            tag.close()

    @staticmethod
    def split(value, level):
        kind, tag, node = level
        if value.__class__ is Dual and value.tag is tag:
            return value.primal, value.tangent
        if value.__class__ is Tracked and value.tag is tag:
            adjoint = tag.tape.backward({value.node: 1})[node]
            return value.primal, 0 if adjoint is None else adjoint
        return value, 0

    def jet(self, value):
        """(value, d/d inner, d/d outer, d²/d inner d outer) for two levels; (value, d) for one."""
        if len(self.levels) == 1:
            return self.split(value, self.levels[0])
        inner, outer = self.levels
        primal, d_outer = self.split(value, outer)
        value, d_inner = self.split(primal, inner)
        d_outer_primal, cross = self.split(d_outer, inner)
        return value, d_inner, d_outer_primal, cross


def forward_derivatives(interp, proc, args, position):
    """d/d args[position] of every number of the value, by forward mode (one level)."""
    perturbation = Perturbation(interp, ("F",), args[position])
    try:
        shifted = list(args)
        shifted[position] = perturbation.input
        outcome = run(interp, proc, shifted)
        assert outcome.kind == "value", f"forward mode failed at a shifted point: {outcome.message}"
        numbers = []
        observe(outcome.value, perturbation.jet, numbers)
        return [d for _, d in numbers]
    finally:
        perturbation.close()


def finite_difference(interp, proc, args, position, evaluate, count, source):
    """Central differences of ``evaluate`` (args → list of numbers) in args[position]."""
    x = float(args[position])
    h = 1e-6 * max(1.0, abs(x))
    values = []
    for point in (x + h, x - h):
        shifted = list(args)
        shifted[position] = point
        found = evaluate(shifted)
        assert len(found) == count, f"{source}: the value changes shape near the point; choose another sample"
        values.append(found)
    return [(float(a) - float(b)) / (2 * h) for a, b in zip(*values)]


def check_sample(interp, source):
    template, markers = parse_sample(source)
    assert markers, f"{source}: no marked number"
    params = " ".join(f"p{i}" for i in range(len(markers)))
    proc = interp.evaluate(f"(lambda ({params}) {template})", "<sample>")
    args = [value for _, value in markers]
    plain = run(interp, proc, args)
    if plain.kind == "error":
        assert not INTERNAL.search(plain.message), f"{source}: {plain.message}"
    for position, (kind, _) in enumerate(markers):
        fd = fd2 = None
        for levels in LEVELS:
            perturbation = Perturbation(interp, levels, args[position])
            try:
                perturbed = list(args)
                perturbed[position] = perturbation.input
                outcome = run(interp, proc, perturbed)
                where = f"{source}, input {position + 1} perturbed {''.join(levels)}"
                if outcome.kind == "error":
                    assert not INTERNAL.search(outcome.message), f"{where}: internal object in {outcome.message!r}"
                if kind == "!":
                    # forward mode refuses at the operation; reverse mode when the backward pass
                    # reaches the undefined partial with a nonzero adjoint
                    if outcome.kind == "value":
                        with pytest.raises(DifferentiationError):
                            observe(outcome.value, perturbation.jet, [])
                    else:
                        assert isinstance(outcome.error, SchemeDifferentiationError), \
                            f"{where}: expected a refusal to differentiate, got {outcome.kind} {outcome.message}"
                    continue
                assert outcome.kind == plain.kind, \
                    f"{where}: plain gives {plain.kind} {plain.message or plain.value!r}, perturbed " \
                    f"{outcome.kind} {outcome.message or ''}"
                if plain.kind == "error":
                    assert outcome.message == plain.message, f"{where}: {outcome.message!r} != {plain.message!r}"
                    continue
                if plain.kind == "exit":
                    assert outcome.value == plain.value, where
                    continue
                plain_numbers = []
                plain_tokens = observe(plain.value, lambda x: x, plain_numbers)
                jets = []
                try:
                    tokens = observe(outcome.value, perturbation.jet, jets)
                except DifferentiationError as error:
                    raise AssertionError(f"{where}: {error}") from None
                assert tokens == plain_tokens, f"{where}: shape {tokens} != {plain_tokens}"
                for expected, jet in zip(plain_numbers, jets):
                    for part in jet:
                        assert part.__class__ in (int, float, Fraction), f"{where}: a perturbation is left: {part!r}"
                    assert same_number(jet[0], expected), f"{where}: value {jet[0]!r} != {expected!r}"
                if kind == "@":
                    for jet in jets:
                        assert all(part == 0 for part in jet[1:]), f"{where}: expected no derivative, got {jet}"
                    continue
                if fd is None:
                    fd = finite_difference(interp, proc, args, position,
                                           lambda a: numbers_of(run(interp, proc, a))[1], len(plain_numbers), source)
                for jet, estimate in zip(jets, fd):
                    assert close(jet[1], estimate, 1e-5), f"{where}: derivative {jet[1]} vs finite differences {estimate}"
                    if len(jet) == 4:
                        assert close(jet[2], estimate, 1e-5), f"{where}: outer derivative {jet[2]} vs {estimate}"
                if len(levels) == 2:
                    if fd2 is None:
                        fd2 = finite_difference(interp, proc, args, position,
                                                lambda a: forward_derivatives(interp, proc, a, position),
                                                len(plain_numbers), source)
                    for jet, estimate in zip(jets, fd2):
                        assert close(jet[3], estimate, 1e-4), f"{where}: second derivative {jet[3]} vs {estimate}"
            finally:
                perturbation.close()


# -- the tests ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def interp():
    return Interpreter()


def global_procedures(interp) -> set:
    return {name for name, value in interp.globals.items() if name != "__builtins__" and callable(value)}


def test_every_global_procedure_has_samples(interp):
    names = global_procedures(interp)
    missing = sorted(names - set(SAMPLES))
    assert not missing, f"procedures without perturbed samples: {missing}"
    stale = sorted(set(SAMPLES) - names)
    assert not stale, f"samples of names that are not procedures of the global environment: {stale}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_primitive_on_perturbed_arguments(interp, name):
    for source in SAMPLES[name]:
        check_sample(interp, source)
