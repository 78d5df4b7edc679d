"""Errors name file:line:col, read like Scheme, carry a backtrace, and never leak Python."""

import pytest

from nablisp.interpreter import (InternalError, Interpreter, NablispError, SchemeError,
                                 SchemeReadError, SchemeSyntaxError)


@pytest.fixture
def interp():
    return Interpreter()


def error_of(interp, source, filename="t.scm") -> NablispError:
    with pytest.raises(NablispError) as info:
        interp.eval(source, filename)
    return info.value


@pytest.mark.parametrize("source, located", [
    ("(car 3)", "t.scm:1:1: error: car: expected a pair, got 3"),
    ("\n  (cdr '())", "t.scm:2:3: error: cdr: expected a pair, got ()"),
    ("(+ 1 \"a\")", 't.scm:1:1: error: +: expected a number, got "a"'),
    ("(undefined-thing 1)", "t.scm:1:1: error: unbound variable: undefined-thing"),
    ("(vector-ref (vector 1 2) 5)", "t.scm:1:1: error: vector-ref: index 5 out of range [0, 2)"),
    ("(error \"went wrong:\" 42 'x)", "t.scm:1:1: error: went wrong: 42 x"),
    ("(raise 'boom)", "t.scm:1:1: error: uncaught exception: boom"),
    ("(/ 1 0)", "t.scm:1:1: error: /: division by zero (1 / 0)"),
    ("(set! never-defined 1)", "t.scm:1:1: error: set!: unbound variable: never-defined"),
    ("(letrec ((a b) (b 1)) a)", "t.scm:1:1: error: b: variable used before its definition"),
    ("(define (two a b) a)\n(two 1 2 3)", "t.scm:2:1: error: two: expected 2 arguments, got 3"),
    ("(5 3)", "t.scm:1:1: error: not a procedure: an integer cannot be applied"),
    ("(apply car '(1 2))", "t.scm:1:1: error: car: expected 1 argument, got 2"),
    ("(exact +inf.0)", "t.scm:1:1: error: exact: +inf.0 has no exact representation"),
    # several values where one is expected: an error that shows them, never "#<MultipleValues>"
    ("(write (exact-integer-sqrt 17))", "t.scm:1:1: error: write: expected one value, got 2 values: 4 1"),
    ("(display (values))", "t.scm:1:1: error: display: expected one value, got 0 values"),
    ("(car (values 1 \"a\"))", 't.scm:1:1: error: car: expected a pair, got #<values 1 "a">'),
    # a prelude procedure's complaint is located at the user's call, not inside the prelude
    ("(define (f n)\n  (list (iota n)))\n(f -1)",
     "t.scm:2:9: error: iota: expected an exact non-negative integer, got -1"),
    ("(define (f n)\n  (take (list 1 2) n))\n(f 5)",
     "t.scm:3:1: error: take: the list has fewer elements than 5 (1 2)"),
])
def test_runtime_errors(interp, source, located):
    error = error_of(interp, source)
    assert isinstance(error, SchemeError)
    assert error.located() == located


def test_arity_error_too_few(interp):
    error = error_of(interp, "(define (h a b) a)\n(h 1)")
    assert error.located().startswith("t.scm:2:1: error: h: too few arguments")


def test_tail_call_to_a_non_procedure_names_the_value(interp):
    error = error_of(interp, "(define (f x) (x 1))\n(f 'oops)")
    assert error.located() == "t.scm:1:15: error: not a procedure: oops"


@pytest.mark.parametrize("source, message, line, column", [
    ("(if)", "if: expected (if test consequent [alternative])", 1, 1),
    ("(lambda (1) x)", "lambda: parameter must be an identifier, got 1", 1, 1),
    ("(define)", "define: expected a name and a value", 1, 1),
    ("(let ((x 1) (x 2)) x)", "duplicate binding of x", 1, 1),
    ("(display 1)\n(let ((x)) )", "let: expected (let ((name value)", 2, 1),
    ("(+ 1 (define x 2))", "definitions are allowed only at the top level", 1, 6),
    ("(quote)", "quote: expected exactly one datum", 1, 1),
    ("(define if 3)", "cannot redefine the syntax keyword if", 1, 1),
    ("(cond (else 1) (#t 2))", "else must be the last clause", 1, 7),
    ("()", "empty combination", 1, 1),
    ("(f . 1)", "not a proper list", 1, 1),
    ("(lambda x)", "lambda: expected (lambda formals body", 1, 1),
])
def test_syntax_errors(interp, source, message, line, column):
    error = error_of(interp, source)
    assert isinstance(error, SchemeSyntaxError)
    assert message in error.message
    assert (error.span.line, error.span.column) == (line, column)
    assert error.located().startswith(f"t.scm:{line}:{column}: syntax error: ")


def test_syntax_errors_come_before_anything_runs(interp):
    interp.eval("(define ran #f)")
    error_of(interp, "(set! ran #t)\n(if)")
    assert interp.eval("ran") is False


def test_read_errors_come_before_anything_runs(interp):
    interp.eval("(define ran #f)")
    error = error_of(interp, "(set! ran #t)\n(oops")
    assert isinstance(error, SchemeReadError)
    assert error.located() == "t.scm:2:1: read error: missing ')' to close '(' opened at 2:1"
    assert interp.eval("ran") is False


def test_backtrace_lists_scheme_procedures_innermost_first(interp):
    error = error_of(interp, "(define (f x) (car x))\n(define (g y) (+ 1 (f y)))\n(g 5)")
    assert error.located() == "t.scm:1:15: error: car: expected a pair, got 5"
    assert [(name, str(span)) for name, span in error.backtrace] == [
        ("f", "t.scm:1:15"), ("g", "t.scm:2:20")]
    assert error.backtrace_text() == "  in f at t.scm:1:15\n  in g at t.scm:2:20"


def test_deep_recursion_is_a_clean_error(interp):
    error = error_of(interp, "(define (deep n) (+ 1 (deep (- n 1))))\n(deep 1)")
    assert "recursion too deep" in error.message
    assert len(error.backtrace) <= 8
    assert any("times" in name for name, _ in error.backtrace)


def test_definitions_survive_errors(interp):
    interp.eval("(define kept 41)")
    error_of(interp, "(car '())")
    error_of(interp, "(if)")
    assert interp.eval("(+ kept 1)") == 42


def test_python_failure_inside_a_primitive_is_reported_as_that_primitive(interp):
    def broken(x):
        return {}[x]
    interp.define("broken", broken)
    error = error_of(interp, "(broken 1)")
    assert isinstance(error, SchemeError)
    assert error.message.startswith("broken: ")


def test_internal_errors_are_labelled(interp):
    # an exception raised by no primitive and no compiled code is nablisp's own bug
    error = interp.translate(KeyError("x"))
    assert isinstance(error, InternalError)
    assert error.located() == "internal error: KeyError: 'x'"


def test_guard_sees_primitive_and_arity_errors(interp):
    assert interp.eval("(guard (e ((error-object? e) (error-object-message e))) (car 1))") == \
        "car: expected a pair, got 1"
    assert interp.eval("(guard (e ((error-object? e) (error-object-message e))) ((lambda (x) x)))") == \
        "lambda: too few arguments (1 missing)"


def test_a_complex_literal_is_an_error_only_where_it_is_evaluated(interp):
    # R7RS suites guard complex cases with cond-expand; the rest of the file must still run
    assert interp.eval("(cond-expand (exact-complex (complex? 3+4i)) (else 'skipped))").name == "skipped"
    assert interp.eval("(define (later)\n  (* 2 1+2i))\n'defined", "lib.scm").name == "defined"
    assert error_of(interp, "\n(later)").located().startswith(
        "lib.scm:2:3: error: complex numbers are not supported: 1+2i")
    # quoted, it is a datum that writes as it was read (suites quote what they report), and no
    # numeric procedure takes it
    assert interp.eval("(let ((p (open-output-string))) (write '(real? 2-i) p) (get-output-string p))") \
        == "(real? 2-i)"
    assert error_of(interp, "(+ 1 (cadr '(x 2-i)))").located().startswith(
        "t.scm:1:1: error: +: expected a number, got 2-i")
