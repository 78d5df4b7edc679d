"""The tape drawn by nablisp itself: one box per tape entry, one edge per recorded partial,
labelled with what the tape holds; tape->svg writes it without Graphviz; the REPL saves it."""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ElementTree

import pytest

from nablisp.ad.tape_drawing import layers_of
from nablisp.interpreter import Interpreter, SchemeError
from nablisp.interpreter.pictures import Picture
from nablisp.interpreter.repl import Session

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def interp():
    return Interpreter()


def parse(svg: str):
    return ElementTree.fromstring(svg)


def groups(root, kind):
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def texts(group):
    return [t.text for t in group.iter(f"{SVG}text")]


def test_one_node_per_tape_entry_with_operation_value_and_adjoint(interp):
    source = "(lambda (x y) (* (+ x y) y))"
    listing = interp.eval(f"(tape->text {source} 3 4)")
    entries = re.findall(r"^  v(\d+) = ", listing, re.M)
    picture = interp.evaluate(f"(draw-tape {source} 3 4)")
    assert picture.__class__ is Picture and picture.kind == "tape"
    nodes = groups(parse(picture.svg), "node")
    assert [n.get("id") for n in nodes] == [f"v{k}" for k in entries] == ["v0", "v1", "v2", "v3"]
    # v2 = x + y = 7, v3 = v2 · y = 28; adjoints: v̄0 = 4, v̄1 = 11 (the gradient), v̄2 = 4, v̄3 = 1
    assert texts(nodes[2]) == ["v2 = +", "value 7", "v̄ 4"]
    assert texts(nodes[3]) == ["v3 = *", "value 28", "v̄ 1"]
    assert texts(nodes[0]) == ["v0 = input", "value 3", "v̄ 4"]
    assert texts(nodes[1]) == ["v1 = input", "value 4", "v̄ 11"]
    assert interp.eval(f"((gradient {source}) 3 4)") == [4, 11]


def test_one_edge_per_partial_labelled_with_it(interp):
    nodes_and_edges = parse(interp.evaluate("(draw-tape (lambda (x y) (* (sin x) y)) 0.5 2.0)").svg)
    edges = {g.find(f"{SVG}title").text: texts(g)[0] for g in groups(nodes_and_edges, "edge")}
    # v2 = sin v0: ∂/∂v0 = cos 0.5; v3 = v2 · v1: ∂/∂v2 = y = 2, ∂/∂v1 = sin 0.5
    assert edges == {"v0 → v2": "0.877583", "v2 → v3": "2.0", "v1 → v3": "0.479426"}


def test_inputs_below_what_uses_them_and_the_output_on_top(interp):
    root = parse(interp.evaluate("(draw-tape (lambda (x) (exp (sin (* x x)))) 0.3)").svg)
    heights = {g.get("id"): float(g.find(f"{SVG}rect").get("y")) for g in groups(root, "node")}
    assert heights["v0"] > heights["v1"] > heights["v2"] > heights["v3"]
    output = [g for g in groups(root, "node") if g.find(f"{SVG}rect").get("stroke-width") == "2.5"]
    assert [g.get("id") for g in output] == ["v3"]


def test_layers_come_from_one_pass_over_a_long_tape():
    """A chain of 100 000 entries: one layer each, without recursion."""
    count = 100_000
    notes = [("input", 1.0, [])] + [("sin", 0.0, [k]) for k in range(count - 1)]
    entries = [[]] + [[k, 1.0] for k in range(count - 1)]
    assert layers_of(notes, entries)[-1] == count - 1


def test_a_tape_too_large_to_draw_is_refused_with_a_reason(interp):
    with pytest.raises(SchemeError) as info:
        interp.eval("(draw-tape (lambda (x) (let loop ((i 0) (y x)) (if (= i 3000) y (loop (+ i 1) (sin y))))) 1.0)")
    assert "too many to draw" in info.value.message and "tape->text" in info.value.message


def test_draw_tape_is_curried_like_the_other_operators(interp):
    picture = interp.evaluate("((draw-tape (lambda (x) (* x x))) 3)")
    assert len(groups(parse(picture.svg), "node")) == 2


def test_tape_svg_writes_nablisps_drawing_without_graphviz(interp, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")        # no dot on the path
    target = tmp_path / "tape.svg"
    assert interp.eval(f'(tape->svg (lambda (x) (* x x)) 3 "{target}")') == str(target)
    assert len(groups(parse(target.read_text(encoding="utf-8")), "node")) == 2


def test_save_picture_and_its_errors(interp, tmp_path):
    target = tmp_path / "saved.svg"
    interp.eval(f'(save-picture (draw-tape (lambda (x) (* x x)) 3) "{target}")')
    assert target.read_text(encoding="utf-8").startswith("<svg")
    with pytest.raises(SchemeError) as info:
        interp.eval(f'(save-picture 42 "{target}")')
    assert info.value.message == "save-picture: expected a picture, got 42"
    with pytest.raises(SchemeError) as info:
        interp.eval(f'(save-picture (draw-tape (lambda (x) x) 1) "{tmp_path}/no/such/dir.svg")')
    assert info.value.message.startswith("save-picture: cannot write")
    assert interp.eval("(picture? (draw-tape (lambda (x) x) 1))") is True
    assert interp.eval("(picture? 1)") is False
    assert interp.eval("(string? (picture->svg (draw-tape (lambda (x) x) 1)))") is True


def test_the_repl_writes_a_picture_to_a_file_and_says_where(interp, tmp_path, monkeypatch):
    monkeypatch.setenv("NABLISP_PICTURES", str(tmp_path))
    out = io.StringIO()
    session = Session(interp, out=out)
    session.handle("(draw-tape (lambda (x y) (* x y)) 2 3)")
    session.handle("(draw-tape (lambda (x) (sin x)) 2)")
    lines = out.getvalue().splitlines()
    first, second = tmp_path / "tape-1.svg", tmp_path / "tape-2.svg"
    assert lines == [f"#<picture tape: the gradient tape of lambda> written to {first}",
                     f"#<picture tape: the gradient tape of lambda> written to {second}"]
    assert len(groups(parse(first.read_text(encoding="utf-8")), "node")) == 3
    assert len(groups(parse(second.read_text(encoding="utf-8")), "node")) == 2


def test_a_picture_prints_as_what_it_shows(interp):
    assert interp.eval('(let ((port (open-output-string))) (write (draw-tape (lambda (x) x) 1) port) '
                       '(get-output-string port))') == "#<picture tape: the gradient tape of lambda>"


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="runs the REPL in a pseudo-terminal")
def test_in_the_terminal_repl_a_picture_goes_to_a_file_named_on_screen(tmp_path, monkeypatch):
    from test_repl import Terminal
    pictures = tmp_path / "pictures"
    monkeypatch.setenv("NABLISP_PICTURES", str(pictures))
    term = Terminal(tmp_path)
    term.expect(r"nablisp \d+\.\d+\.\d+ .*,help")
    term.send("(draw-tape (lambda (x y) (* (sin x) y)) 1.0 2.0)\r")
    screen = term.expect(r"written to \S+\.svg")
    path = re.search(r"written to (\S+\.svg)", screen).group(1)
    assert path == str(pictures / "tape-1.svg")
    assert len(groups(parse(open(path, encoding="utf-8").read()), "node")) == 4
    time.sleep(0.5)                # Ctrl-D typed before the next prompt is up is not read
    term.send("\x04")
    assert term.wait() == 0
