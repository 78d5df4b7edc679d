"""The teaching tools: show-tape's two sweeps, the DOT graph, tape->svg, and the REPL commands."""

import shutil

import pytest

from nablisp.interpreter import Interpreter, SchemeError
from nablisp.interpreter.repl import Session


@pytest.fixture
def interp():
    return Interpreter()


def test_show_tape_lists_both_sweeps_and_the_gradient(interp):
    text = interp.eval("(tape->text (lambda (x y) (* (+ x y) y)) 3 4)")
    assert text == (
        "forward sweep:\n"
        "  v0 = 3    (input 1)\n"
        "  v1 = 4    (input 2)\n"
        "  v2 = (+ v0 v1) = 7\n"
        "  v3 = (* v2 v1) = 28\n"
        "output: v3 = 28\n"
        "backward sweep (v̄ = ∂output/∂v):\n"
        "  v̄3 = 1\n"
        "  v̄2 += v̄3 · 4    (∂v3/∂v2)  → v̄2 = 4\n"
        "  v̄1 += v̄3 · 7    (∂v3/∂v1)  → v̄1 = 7\n"
        "  v̄0 += v̄2 · 1    (∂v2/∂v0)  → v̄0 = 4\n"
        "  v̄1 += v̄2 · 1    (∂v2/∂v1)  → v̄1 = 11\n"
        "gradient: (4 11)\n")
    # the gradient it ends with is the one the other mode computes
    assert interp.eval("(gradient-forward (lambda (x y) (* (+ x y) y)) 3 4)") == [4, 11]


def test_show_tape_shows_constants_and_prints(interp, capsys):
    session = Session(interp)
    session.handle("(show-tape (lambda (x) (* 2 (sin x))) 0)")
    text = capsys.readouterr().out
    assert "v1 = (sin v0) = 0.0" in text
    assert "v2 = (* 2 v1) = 0.0" in text
    assert text.rstrip().endswith("gradient: 2.0")


def test_tape_of_a_constant_function(interp):
    assert "does not depend on the inputs" in interp.eval("(tape->text (lambda (x) 5) 1)")


def test_tape_dot(interp):
    dot = interp.eval("(tape->dot (lambda (x y) (* x (+ x y))) 2 3)")
    assert dot.startswith("digraph tape {")
    assert 'v3 [label="v3 = *\\n10\\nadjoint 1"];' in dot
    assert 'v0 [label="v0 = 2\\nadjoint 7", shape=ellipse];' in dot
    assert 'v2 -> v3 [label="2"];' in dot
    assert dot.rstrip().endswith("}")


def test_tape_svg(interp, tmp_path, monkeypatch):
    target = tmp_path / "graph.svg"
    interp.eval(f'(tape->svg (lambda (x) (* x x)) 3 "{target}")')
    if shutil.which("dot") is not None:
        assert target.read_text().lstrip().startswith("<?xml")
    # without Graphviz, tape->svg draws the tape itself; render-dot, which needs it, says so
    monkeypatch.setenv("PATH", "")
    target.unlink()
    interp.eval(f'(tape->svg (lambda (x) (* x x)) 3 "{target}")')
    assert target.read_text().count('<g class="node"') == 2
    with pytest.raises(SchemeError) as info:
        interp.eval(f'(render-dot (tape->dot (lambda (x) (* x x)) 3) "{target}")')
    assert "apt-get install graphviz" in info.value.message


def test_repl_tape_and_dot_commands(interp, tmp_path, capsys):
    session = Session(interp)
    session.handle("(define (f x y) (* x y))")
    session.handle(",tape (f 3 4)")
    text = capsys.readouterr().out
    assert "v2 = (* v0 v1) = 12" in text
    assert "gradient: (4 3)" in text
    session.handle(f",dot (f 3 4) {tmp_path / 'g.dot'}")
    assert (tmp_path / "g.dot").read_text().startswith("digraph tape {")
    assert "wrote the expression graph" in capsys.readouterr().out
