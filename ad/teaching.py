"""Teaching tools: the Wengert list of a gradient computation, shown.

Every differentiable program is a sequence of assignments of basic operations; reverse mode
runs it forwards recording each assignment (the forward sweep), then walks the record backwards
accumulating adjoints v̄ = ∂output/∂v (the backward sweep).  `tape_text` prints both sweeps,
`tape_dot` describes the expression graph for Graphviz, `tape_svg_text` draws it without
Graphviz (tape_drawing.py lays it out).
"""

from __future__ import annotations

from ..lang.datum import make_list
from ..lang.printer import write_string
from .reverse import Tape
from .structure import leaves, map_structure
from .tags import DifferentiationError, Tracked, live_value, plain, tracked


def _show(value) -> str:
    value = plain(value)
    if value.__class__ is float:
        text = f"{value:.6g}"
        return text if any(c in text for c in ".einn") else text + ".0"
    return write_string(value)


class Recording:
    """One gradient computation on an annotated tape."""

    def __init__(self, operators, f, xs, who: str):
        self.who = who
        self.tag = operators.tags.fresh(Tape(annotated=True))
        tape = self.tag.tape

        def leaf(x):
            from .tags import is_number
            if not is_number(x):
                raise DifferentiationError(f"{who}: expected numbers, got {write_string(x)}")
            return tracked(self.tag, x, tape.new_input(x))
        try:
            self.inputs = [map_structure(leaf, x, who) for x in xs]
            self.output = operators.apply(f, self.inputs)
            operators._check_scalar(who, self.output)
            self.output = live_value(self.output)
            self.updates = []
            if self.output.__class__ is Tracked and self.output.tag is self.tag:
                self.adjoints = tape.backward({self.output.node: 1},
                                              trace=lambda *update: self.updates.append(update))
            else:
                self.adjoints = [None] * len(tape.entries)
            self.gradient = [map_structure(lambda t: self.adjoint(t.node), x) for x in self.inputs]
        finally:
            self.tag.close()        # the tape stays, to be shown; its values are numbers now

    @property
    def tape(self) -> Tape:
        return self.tag.tape

    def adjoint(self, node):
        value = self.adjoints[node] if node < len(self.adjoints) else None
        return 0 if value is None else value

    def expression(self, node) -> str:
        operation, _, operands = self.tape.notes[node]
        names = [f"v{o}" if isinstance(o, int) else _show(o[1]) for o in operands]
        return f"({operation} {' '.join(names)})"

    def text(self) -> str:
        notes = self.tape.notes
        input_nodes = [t.node for x in self.inputs for t in leaves(x)]
        lines = ["forward sweep:"]
        for node, (operation, value, _) in enumerate(notes):
            if operation == "input":
                lines.append(f"  v{node} = {_show(value)}    (input {input_nodes.index(node) + 1})")
            else:
                lines.append(f"  v{node} = {self.expression(node)} = {_show(value)}")
        output = self.output
        if output.__class__ is Tracked and output.tag is self.tag:
            lines.append(f"output: v{output.node} = {_show(output)}")
            lines.append("backward sweep (v̄ = ∂output/∂v):")
            lines.append(f"  v̄{output.node} = 1")
            for node, parent, partial, contribution, total in self.updates:
                lines.append(f"  v̄{parent} += v̄{node} · {_show(partial)}    "
                             f"(∂v{node}/∂v{parent})  → v̄{parent} = {_show(total)}")
        else:
            lines.append(f"output: {_show(output)}, which does not depend on the inputs")
        gradient = self.gradient[0] if len(self.gradient) == 1 else make_list(self.gradient)
        lines.append(f"gradient: {write_string(map_structure(plain, gradient))}")
        return "\n".join(lines) + "\n"

    def dot(self) -> str:
        notes = self.tape.notes
        lines = ["digraph tape {", "  rankdir=BT;", '  node [shape=box, fontname="monospace"];']
        for node, (operation, value, operands) in enumerate(notes):
            label = f"v{node} = {_show(value)}" if operation == "input" else f"v{node} = {operation}\\n{_show(value)}"
            label += f"\\nadjoint {_show(self.adjoint(node))}"
            shape = ', shape=ellipse' if operation == "input" else ""
            lines.append(f'  v{node} [label="{label}"{shape}];')
        for node, entry in enumerate(self.tape.entries):
            for k in range(0, len(entry), 2):
                lines.append(f'  v{entry[k]} -> v{node} [label="{_show(entry[k + 1])}"];')
        output = self.output
        if output.__class__ is Tracked and output.tag is self.tag:
            lines.append(f"  v{output.node} [penwidth=2];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def svg(self) -> str:
        from .tape_drawing import tape_svg
        return tape_svg(self, _show)


def tape_text(operators, f, *xs):
    return Recording(operators, f, xs, "show-tape").text()


def tape_dot(operators, f, *xs):
    return Recording(operators, f, xs, "tape->dot").dot()


def tape_svg_text(operators, f, *xs, who: str = "draw-tape"):
    return Recording(operators, f, xs, who).svg()
