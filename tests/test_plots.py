"""Plots: checked for what they contain (the curves they name, the arrows they draw, the
points of a path), against independent references (the known derivative drawn as a function
of its own, the gradient written out by hand), never against a picture's hash."""

from __future__ import annotations

import math
import re
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from nablisp.interpreter import Interpreter, SchemeError
from nablisp.interpreter.pictures import Picture

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def interp():
    return Interpreter()


@pytest.fixture
def with_matplotlib():
    pytest.importorskip("matplotlib")


def svg_of(interp, source) -> str:
    picture = interp.evaluate(source)
    assert picture.__class__ is Picture
    return picture.svg


def element(svg, gid):
    root = ElementTree.fromstring(svg)
    found = [e for e in root.iter() if e.get("id") == gid]
    assert len(found) == 1, f"{gid} found {len(found)} times"
    return found[0]


def path_points(path_element) -> list[tuple[float, float]]:
    d = path_element.get("d")
    return [(float(x), float(y)) for x, y in re.findall(r"[ML] (-?[\d.e+-]+) (-?[\d.e+-]+)", d)]


def curve(svg, gid):
    return path_points(element(svg, gid).find(f"{SVG}path"))


def legend_texts(svg) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [t.text for t in root.iter(f"{SVG}text")]


def test_plot_names_its_curves(interp, with_matplotlib):
    svg = svg_of(interp, "(plot sin 0 7)")
    assert {"sin", "sin′", "sin″"} <= set(legend_texts(svg))
    for order in (0, 1, 2):
        assert len(curve(svg, f"curve-{order}")) == 200
    svg = svg_of(interp, "(define (bump x) (exp (- (* x x)))) (plot bump -2 2 'orders '(0 1) "
                         "'labels '(\"bump\" \"slope\") 'samples 50 'title \"a bump\")")
    assert {"bump", "slope", "a bump"} <= set(legend_texts(svg))
    assert len(curve(svg, "curve-1")) == 50
    assert "curve-2" not in svg


def test_a_derivative_curve_is_the_curve_of_the_known_derivative(interp, with_matplotlib):
    """d/dx sin is cos and d²/dx² sin is −sin: drawn alone, on the same axes, they give the
    same points as the derivative curves of sin (the samples are forward-mode derivatives)."""
    derived = svg_of(interp, "(plot sin 0 3 'orders '(1 2) 'samples 31)")
    known = svg_of(interp, "(plot (lambda (x) (list-ref (list (cos x) (- (sin x))) 0)) 0 3 'orders '(0) 'samples 31)")
    known_both = svg_of(interp, "(plot cos 0 3 'orders '(0 1) 'samples 31)")
    # cos and its derivative −sin span the same values as sin′ and sin″: the same axes
    assert curve(derived, "curve-1") == curve(known_both, "curve-0")
    assert curve(derived, "curve-2") == curve(known_both, "curve-1")
    assert len(curve(known, "curve-0")) == 31
    # and the third derivative is exact too: x³ has 6 as its third derivative, a flat line
    flat = curve(svg_of(interp, "(plot (lambda (x) (* x x x)) -1 1 'orders '(3) 'samples 9)"), "curve-3")
    assert len({y for _, y in flat}) == 1


def test_where_the_function_is_undefined_the_curve_has_a_gap(interp, with_matplotlib):
    picture = interp.evaluate("(plot log -1 2 'orders '(0) 'samples 31)")
    assert picture.description == "log on [-1, 2] (10 of 31 points undefined)"
    with pytest.raises(SchemeError) as info:
        interp.evaluate("(plot (lambda (x) (log (- -1 (* x x)))) -1 1 'orders '(0))")
    assert "log" in info.value.message


def test_a_gap_is_not_an_error_the_programs_handlers_see(interp, with_matplotlib):
    # inside a parameterize (or a dynamic-wind, or by error), where handlers see errors in place
    interp.evaluate("(define p (make-parameter 1)) (define seen 0)"
                    "(define (f x) (parameterize ((p 2)) (if (< x 0) (vector-ref (vector) 0) (error \"no\" x))))"
                    "(define (g x) (parameterize ((p 2)) (if (< x 0) (error \"undefined\" x) (* x x))))")
    picture = interp.evaluate("(call/cc (lambda (k) (with-exception-handler (lambda (e) (k 'the-handler-saw-it))"
                              " (lambda () (plot g -1 1 'orders '(0) 'samples 10)))))")
    assert picture.description == "g on [-1, 1] (5 of 10 points undefined)"
    assert interp.evaluate("(with-exception-handler (lambda (e) (set! seen (+ seen 1)))"
                           " (lambda () (plot g -1 1 'orders '(0) 'samples 10))) seen") == 0
    # nowhere defined: the error is raised, and the handler sees that
    assert interp.evaluate("(call/cc (lambda (k) (with-exception-handler (lambda (e) (k (error-object-message e)))"
                           " (lambda () (plot f -1 1 'orders '(0) 'samples 10)))))") == "no"


def test_plot_argument_errors_say_what_is_wrong(interp, with_matplotlib):
    cases = {
        "(plot 5 0 1)": "plot: expected a procedure, got 5",
        "(plot sin 1 0)": "plot: the interval must go from a smaller to a larger number, got 1 to 0",
        "(plot sin 0 1 'orders)": "plot: options come in pairs, a symbol and its value: got (orders)",
        "(plot sin 0 1 'colour 'red)": "plot: unknown option colour; the options are 'orders 'labels 'samples 'title",
        "(plot sin 0 1 'orders '(0 -1))": "plot: 'orders must be a non-empty list of derivative orders (0 is f itself), got (0 -1)",
        "(plot sin 0 1 'labels '(\"only one\"))": "plot: 1 labels for 3 curves",
        "(plot (lambda (x) \"text\") 0 1)": "plot: the function returned \"text\" at x = 0; expected a real number",
        "(plot sin 0 +inf.0)": "plot: the interval's end must be finite, got +inf.0",
    }
    for source, message in cases.items():
        with pytest.raises(SchemeError) as info:
            interp.evaluate(source)
        assert info.value.message == message, source


def test_without_matplotlib_plots_say_how_to_get_it(interp, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    for source in ("(plot sin 0 1)", "(plot-gradient-field (lambda (x y) (* x y)) 0 1 0 1)",
                   "(plot-path (lambda (p) (car p)) '((0 0) (1 1)))"):
        with pytest.raises(SchemeError) as info:
            interp.evaluate(source)
        assert "matplotlib, which is not installed" in info.value.message
        assert "pip install 'nablisp[jupyter]'" in info.value.message


def arrows(svg):
    return [path_points(p) for p in element(svg, "gradient-field").iter(f"{SVG}path")]


@pytest.mark.parametrize("f", ["(lambda (x y) (+ (* x x) (* 3 y y)))",
                               "(lambda (p) (+ (* (car p) (car p)) (* 3 (cadr p) (cadr p))))"])
def test_the_gradient_field_points_along_the_gradient(interp, with_matplotlib, f):
    """f = x² + 3y², of two numbers or of a point: ∇f = (2x, 6y).  Each arrow's tip is its
    fourth corner; on screen y grows downwards."""
    count = 5
    svg = svg_of(interp, f"(plot-gradient-field {f} -2 2 -1 1 'arrows {count} 'title \"bowl\")")
    assert "bowl" in legend_texts(svg)
    drawn = arrows(svg)
    assert len(drawn) == count * count
    k = 0
    for i in range(count):
        for j in range(count):
            x, y = -2 + 4 * i / (count - 1), -1 + 2 * j / (count - 1)
            gx, gy = 2 * x, 6 * y
            (tail_x, tail_y), tip = drawn[k][0], drawn[k][3]
            if abs(gx) > 1e-9:
                assert math.copysign(1, tip[0] - tail_x) == math.copysign(1, gx), (x, y)
            if abs(gy) > 1e-9:
                assert math.copysign(1, tail_y - tip[1]) == math.copysign(1, gy), (x, y)
            k += 1
    assert "contours" in svg


def test_a_gradient_field_leaves_out_the_arrows_at_a_pole(interp, with_matplotlib):
    picture = interp.evaluate("(plot-gradient-field (lambda (x y) (/ y (- x 0.5))) 0 1 0 1 'arrows 5)")
    assert len(arrows(picture.svg)) == 20
    assert picture.description.endswith("(5 of 25 points undefined)")


def test_a_gradient_field_needs_a_scalar_function_of_two_numbers(interp, with_matplotlib):
    with pytest.raises(SchemeError) as info:
        interp.evaluate("(plot-gradient-field (lambda (x y z) x) 0 1 0 1)")
    assert "the function takes 3 arguments but was given 2" in info.value.message
    with pytest.raises(SchemeError) as info:
        interp.evaluate("(plot-gradient-field (lambda (x y) (list x y)) 0 1 0 1)")
    assert "jacobian" in info.value.message


ROSENBROCK = "(define (rosenbrock p) (+ (square (- 1 (car p))) (* 10 (square (- (cadr p) (square (car p)))))))"


def test_the_optimizers_paths_end_where_the_optimizers_do(interp):
    interp.evaluate(ROSENBROCK)
    path = interp.eval("(gradient-descent-path rosenbrock '(-1.0 1.0) 0.01 25)")
    assert len(path) == 26 and path[0] == [-1.0, 1.0]
    assert path[-1] == interp.eval("(gradient-descent rosenbrock '(-1.0 1.0) 0.01 25)")
    # each step is the one gradient descent takes: x − step·∇f(x)
    for before, after in zip(path[:3], path[1:4]):
        x, y = before
        gradient = [-2 * (1 - x) - 40 * x * (y - x * x), 20 * (y - x * x)]
        assert after == pytest.approx([x - 0.01 * gradient[0], y - 0.01 * gradient[1]], rel=1e-12)
    newton = interp.eval("(newton-minimize-path rosenbrock '(-1.0 1.0))")
    assert newton[0] == [-1.0, 1.0]
    assert newton[-1] == interp.eval("(newton-minimize rosenbrock '(-1.0 1.0))")
    assert newton[-1] == pytest.approx([1.0, 1.0])


def test_plot_path_draws_each_path_over_contour_lines(interp, with_matplotlib):
    interp.evaluate(ROSENBROCK)
    picture = interp.evaluate("(plot-path rosenbrock (list (gradient-descent-path rosenbrock '(-1.0 1.0) 0.01 40)"
                              " (newton-minimize-path rosenbrock '(-1.0 1.0)))"
                              " 'labels '(\"gradient descent\" \"Newton\"))")
    svg = picture.svg
    texts = legend_texts(svg)
    newton_steps = len(interp.eval("(newton-minimize-path rosenbrock '(-1.0 1.0))")) - 1
    assert "gradient descent (40 steps)" in texts and f"Newton ({newton_steps} steps)" in texts
    assert len(curve(svg, "path-0")) == 41
    assert len(curve(svg, "path-1")) == newton_steps + 1
    assert "contours" in svg
    assert picture.description.endswith("Newton ends at (1, 1)")
    # one path alone, of vectors, within ranges given
    svg = svg_of(interp, "(plot-path rosenbrock (list #(0 0) #(0.5 0.25) #(1 1)) 'x-range '(-2 2) 'y-range '(-1 3))")
    assert "path (2 steps)" in legend_texts(svg)


def test_plot_path_errors(interp, with_matplotlib):
    interp.evaluate(ROSENBROCK)
    cases = {
        "(plot-path rosenbrock '((0 0) (1)))": "plot-path: expected a path (a list of points of two numbers) "
                                               "or a list of paths, got ((0 0) (1))",
        "(plot-path rosenbrock '())": "plot-path: expected a path (a list of points of two numbers) "
                                      "or a list of paths, got ()",
        "(plot-path rosenbrock '((0 0)) 'labels '(\"a\" \"b\"))": "plot-path: 2 labels for 1 paths",
        "(plot-path rosenbrock '((0 0)) 'x-range '(1))": "plot-path: 'x-range must be a list of two numbers, got (1)",
    }
    for source, message in cases.items():
        with pytest.raises(SchemeError) as info:
            interp.evaluate(source)
        assert info.value.message == message, source
