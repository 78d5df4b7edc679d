"""The Python-side API of the interpreter."""

from fractions import Fraction

import pytest

from nablisp.interpreter import Interpreter, SchemeError


def test_eval_returns_the_last_value():
    interp = Interpreter()
    assert interp.eval("(define x 2) (* x 21)") == 42
    assert interp.eval("(/ 1 3)") == Fraction(1, 3)


def test_interpreters_are_independent():
    a, b = Interpreter(), Interpreter()
    a.eval("(define only-in-a 1)")
    a.eval("(define-syntax only-macro (syntax-rules () ((_) 1)))")
    with pytest.raises(SchemeError):
        b.eval("only-in-a")
    with pytest.raises(SchemeError):
        b.eval("(only-macro)")
    a.eval("(define (car x) 'mine)")
    assert b.eval("(car '(1))") == 1


def test_call_and_define():
    interp = Interpreter()
    interp.eval("(define (add a b) (+ a b))")
    assert interp.call("add", 1, 2) == 3
    assert interp.call(interp.lookup("add"), 3, 4) == 7
    interp.define("py-square", lambda x: x * x)
    assert interp.eval("(py-square 9)") == 81


def test_load(tmp_path):
    path = tmp_path / "m.scm"
    path.write_text("(define loaded 'yes)")
    interp = Interpreter()
    interp.load(path)
    assert interp.eval("loaded").name == "yes"


def test_lookup_of_unbound_name():
    with pytest.raises(SchemeError) as info:
        Interpreter().lookup("nothing-here")
    assert "unbound variable: nothing-here" in str(info.value)
