"""The Python-side API: evaluation, conversions both ways, isolation, Python procedures and
primitives with derivative rules, and the exception types."""

import math
from fractions import Fraction

import pytest

from nablisp.interpreter import (Char, Interpreter, MultipleValues, NablispError, Pair,
                                 Procedure, SchemeDifferentiationError, SchemeError,
                                 SchemeReadError, SchemeSyntaxError, Symbol)


@pytest.fixture
def interp():
    return Interpreter()


def test_eval_returns_the_last_value(interp):
    assert interp.eval("(define x 2) (* x 21)") == 42
    assert interp.eval("(/ 1 3)") == Fraction(1, 3)


@pytest.mark.parametrize("source, expected", [
    ("42", 42), ("1/3", Fraction(1, 3)), ("2.5", 2.5), ("#t", True), ("#f", False),
    ('"text"', "text"), ("'(1 (2 3))", [1, [2, 3]]), ("'()", []), ("#(1 #(2))", (1, (2,))),
    ("(if #f #f)", None), ("'sym", Symbol("sym")), (r"#\a", Char(ord("a"))),
])
def test_values_from_nablisp(interp, source, expected):
    value = interp.eval(source)
    assert value == expected and type(value) is type(expected)


def test_values_that_keep_their_nablisp_type(interp):
    improper = interp.eval("'(1 . 2)")
    assert isinstance(improper, Pair) and improper.car == 1 and improper.cdr == 2
    several = interp.eval("(values 1 '(2))")
    assert isinstance(several, MultipleValues) and list(several) == [1, [2]]


@pytest.mark.parametrize("value, predicate", [
    (7, "exact-integer?"), (Fraction(1, 2), "exact-rational?"), (1.5, "inexact?"), (True, "boolean?"),
    ("s", "string?"), ([1, 2], "list?"), ((1, 2), "vector?"), (None, "(lambda (x) (eq? x (if #f #f)))"),
    (lambda x: x, "procedure?"),
])
def test_values_into_nablisp(interp, value, predicate):
    interp.define("value-from-python", value)
    assert interp.eval(f"({predicate} value-from-python)") is True


def test_round_trip_of_nested_structures(interp):
    data = [1, [2.5, Fraction(1, 3)], (True, "x", [])]
    assert interp.call("list-copy", data) == data


def test_procedures_cross_both_ways(interp):
    interp.eval("(define (add a b) (+ a b))")
    add = interp.lookup("add")
    assert isinstance(add, Procedure)
    assert add(1, 2) == 3
    assert interp.call("add", 3, 4) == 7
    assert interp.call(add, 5, 6) == 11
    # a procedure returned from nablisp can be handed back to nablisp
    interp.define("python-held", add)
    assert interp.eval("(python-held 10 20)") == 30
    # a Python callable receives and returns Python values
    interp.define("py-sum", lambda xs: sum(xs))
    assert interp.eval("(py-sum '(1 2 3))") == 6
    interp.define("py-pair", lambda: [1, (2, 3)])
    assert interp.eval("(py-pair)") == [1, (2, 3)]


def test_numpy_like_inputs_are_converted(interp):
    class FakeArray:
        dtype = "float64"

        def __init__(self, values):
            self.values = values

        def tolist(self):
            return list(self.values)

    assert interp.call("gradient", interp.lookup("+"), 1.0) == 1
    grad = interp.eval("(gradient (lambda (v) (* (car v) (cadr v))))")
    assert grad(FakeArray([3.0, 4.0])) == [4.0, 3.0]


def test_numpy_arrays_when_numpy_is_installed(interp):
    numpy = pytest.importorskip("numpy", reason="numpy is optional; conversions are duck-typed")
    grad = interp.eval("(gradient (lambda (v) (* (car v) (cadr v))))")
    assert grad(numpy.array([3.0, 4.0])) == [4.0, 3.0]
    assert interp.call("+", numpy.float64(1.5), numpy.int64(2)) == 3.5


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
    a.eval("(D (lambda (x) x) 1)")
    assert a.ops is b.ops  # the arithmetic is shared, the tags are not
    assert b.eval("((D (lambda (x) (* x ((D (lambda (y) (+ x y))) 1)))) 1)") == 1


def test_load_and_lookup(tmp_path, interp):
    path = tmp_path / "m.scm"
    path.write_text("(define loaded 'yes)")
    interp.load(path)
    assert interp.lookup("loaded") == Symbol("yes")
    with pytest.raises(SchemeError) as info:
        interp.lookup("nothing-here")
    assert "unbound variable: nothing-here" in str(info.value)


def test_custom_primitive_with_derivative_rules(interp):
    ops = interp.ops
    interp.define_primitive("my-sin", math.sin, partials=[lambda x: ops.cos(x)])
    interp.define_primitive("hypot2", lambda a, b: a * a + b * b,
                            partials=[lambda a, b: ops.mul(2, a), lambda a, b: ops.mul(2, b)])
    assert interp.eval("(my-sin 0.5)") == pytest.approx(math.sin(0.5))
    assert interp.eval("(D my-sin 0.5)") == pytest.approx(math.cos(0.5))          # forward
    assert interp.eval("(gradient my-sin 0.5)") == pytest.approx(math.cos(0.5))   # reverse
    assert interp.eval("((D (D my-sin)) 0.5)") == pytest.approx(-math.sin(0.5))    # nested
    assert interp.eval("((gradient (D my-sin)) 0.5)") == pytest.approx(-math.sin(0.5))
    assert interp.eval("(gradient (lambda (a b) (hypot2 a b)) 3 4)") == [6, 8]
    assert interp.eval("(hessian (lambda (v) (hypot2 (car v) (cadr v))) '(3 4))") == [[2, 0], [0, 2]]


def test_custom_primitive_without_rules_says_so(interp):
    interp.define_primitive("opaque", lambda x: x + 1)
    assert interp.eval("(opaque 1)") == 2
    with pytest.raises(SchemeError) as info:
        interp.eval("(D opaque 1)")
    assert "opaque: no derivative rule" in info.value.message


def test_exception_types(interp):
    with pytest.raises(SchemeReadError):
        interp.eval("(1 2")
    with pytest.raises(SchemeSyntaxError):
        interp.eval("(if)")
    with pytest.raises(SchemeDifferentiationError) as info:
        interp.eval("(D sqrt 0)", "ad.scm")
    assert info.value.located() == "ad.scm:1:1: error: sqrt: not differentiable at 0"
    for error_class in (SchemeReadError, SchemeSyntaxError, SchemeError, SchemeDifferentiationError):
        assert issubclass(error_class, NablispError)


def test_runtime_errors_carry_position_and_backtrace(interp):
    with pytest.raises(SchemeError) as info:
        interp.eval("(define (f x) (car x))\n(f 1)", "m.scm")
    error = info.value
    assert (error.span.file, error.span.line, error.span.column) == ("m.scm", 1, 15)
    assert error.backtrace[0][0] == "f"


def test_python_exception_in_a_python_procedure_is_the_cause(interp):
    def failing(x):
        raise ValueError("no good")
    interp.define("failing", failing)
    with pytest.raises(SchemeError) as info:
        interp.eval("(+ 1 (failing 2))", "c.scm")
    error = info.value
    assert error.message == "failing: ValueError: no good"
    assert isinstance(error.__cause__, ValueError)
    assert str(error.span) == "c.scm:1:6"


def test_scipy_example():
    pytest.importorskip("scipy", reason="scipy is not installed; examples/scipy-minimize.py needs it")
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "examples" / "scipy-minimize.py")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "minimum at (1.000000, 1.000000)" in result.stdout
    assert "success: True" in result.stdout


def test_a_partial_written_with_math_says_how_to_write_it_when_nested(interp):
    interp.define_primitive("my-cos", math.cos, partials=[lambda x: -math.sin(x)])
    assert interp.eval("(D my-cos 1.0)") == pytest.approx(-math.sin(1.0))      # one level: fine
    for source in ("((D (D my-cos)) 1.0)", "((gradient (D my-cos)) 1.0)", "(hessian my-cos 1.0)"):
        with pytest.raises(SchemeDifferentiationError) as info:
            interp.eval(source)
        message = info.value.message
        assert "my-cos: the partial derivative with respect to argument 1 cannot be differentiated again" in message
        assert "Interpreter.ops" in message and "Dual" not in message and "Tracked" not in message


def test_a_partial_that_returns_no_number_is_named(interp):
    interp.define_primitive("bad-rule", lambda x: x, partials=[lambda x: "one"])
    with pytest.raises(SchemeDifferentiationError) as info:
        interp.eval("(D bad-rule 1.0)")
    assert info.value.message == "bad-rule: the partial derivative with respect to argument 1 returned 'one', not a number"


def test_a_python_procedure_refuses_a_number_being_differentiated(interp):
    interp.define("py-norm", lambda xs: math.sqrt(sum(x * x for x in xs)))
    assert interp.eval("(py-norm '(3 4))") == 5.0
    for source in ("(gradient (lambda (v) (py-norm v)) '(3 4))", "(D (lambda (x) (py-norm (list x 4))) 3)"):
        with pytest.raises(SchemeDifferentiationError) as info:
            interp.eval(source)
        assert info.value.message.startswith("py-norm: a Python procedure cannot be differentiated through "
                                             "(it was given 3, a number being differentiated)")


def test_a_value_that_outlived_its_derivative_reaches_python_as_its_number(interp):
    interp.define("py-double", lambda x: 2 * x)
    interp.eval("(define kept #f) (gradient (lambda (x) (set! kept (list x (* x x))) x) 3)")
    assert interp.eval("kept") == [3, 9]
    assert interp.eval("(py-double (cadr kept))") == 18
    assert interp.lookup("kept") == [3, 9]
