"""Core forms: what the expander produces and the compiler consumes.

Every derived form, macro and definition of nablisp reduces to these few nodes.  Variables are
resolved here, once: a `LocalRef` names the very `Variable` object its binding made, so the
compiler never looks a name up.
"""

from __future__ import annotations

from ..lang.datum import Span


class Variable:
    """A lexical binding.  The analysis flags tell the compiler how to represent it."""

    __slots__ = ("name", "uid", "owner", "captured", "assigned")
    _counter = 0

    def __init__(self, name: str, owner: "Lambda | None"):
        Variable._counter += 1
        self.name = name
        self.uid = Variable._counter
        self.owner = owner          # the Lambda (or None: the top-level form) whose frame holds it
        self.captured = False       # referenced from an inner lambda
        self.assigned = False       # target of set! (not counting its own initialisation)

    @property
    def python_name(self) -> str:
        # A space cannot occur in a symbol the reader makes without bars, so no global collides.
        return f"{self.name} {self.uid}"

    def __repr__(self) -> str:
        return f"<var {self.python_name}>"


class Node:
    __slots__ = ("span",)


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, value, span: Span | None = None):
        self.value = value
        self.span = span


class LocalRef(Node):
    __slots__ = ("var",)

    def __init__(self, var: Variable, span: Span | None = None):
        self.var = var
        self.span = span


class GlobalRef(Node):
    __slots__ = ("name",)

    def __init__(self, name: str, span: Span | None = None):
        self.name = name
        self.span = span


class SetLocal(Node):
    __slots__ = ("var", "value", "is_definition")

    def __init__(self, var: Variable, value: Node, span: Span | None = None, is_definition=False):
        self.var = var
        self.value = value
        self.span = span
        self.is_definition = is_definition


class SetGlobal(Node):
    __slots__ = ("name", "value", "is_definition")

    def __init__(self, name: str, value: Node, span: Span | None = None, is_definition=False):
        self.name = name
        self.value = value
        self.span = span
        self.is_definition = is_definition


class If(Node):
    __slots__ = ("test", "then", "otherwise")

    def __init__(self, test: Node, then: Node, otherwise: Node, span: Span | None = None):
        self.test = test
        self.then = then
        self.otherwise = otherwise
        self.span = span


class Lambda(Node):
    __slots__ = ("params", "rest", "body", "name", "self_var", "self_global", "doc", "plain_entry")

    def __init__(self, span: Span | None = None, name: str | None = None):
        self.params: list[Variable] = []
        self.doc: str | None = None             # the docstring: `(lambda (x) "doc" body …)`
        self.rest: Variable | None = None
        self.body: Node | None = None
        self.name = name
        self.span = span
        self.self_var: Variable | None = None   # the letrec variable bound to this lambda
        self.self_global: str | None = None     # or the global it is defined as
        # generated code (ad/): the parameters that, when each holds a float or an exact integer
        # (or a list of them), let the body run on Python's own arithmetic — the Calls marked
        # `plain` — instead of the primitives; (variable, "number" or "list") pairs, or None
        self.plain_entry: list | None = None


class Seq(Node):
    __slots__ = ("nodes",)

    def __init__(self, nodes: list[Node], span: Span | None = None):
        self.nodes = nodes
        self.span = span


class Call(Node):
    __slots__ = ("fn", "args", "plain")

    def __init__(self, fn: Node, args: list[Node], span: Span | None = None):
        self.fn = fn
        self.args = args
        self.span = span
        # in generated code: the primitive's name when every argument is known to be a number,
        # so that under Lambda.plain_entry Python's operator may compute it
        self.plain: str | None = None


class Let(Node):
    """Bind ``variables`` to ``inits`` (evaluated first, in the outer scope), then run ``body``.

    With ``recursive`` the variables are in scope in the inits, which run in order (letrec*)."""

    __slots__ = ("variables", "inits", "body", "recursive")

    def __init__(self, variables: list[Variable], inits: list[Node], body: Node,
                 recursive: bool = False, span: Span | None = None):
        self.variables = variables
        self.inits = inits
        self.body = body
        self.recursive = recursive
        self.span = span


def children(node: Node) -> tuple | list:
    """The core forms directly inside ``node``, for the walks over generated code (each keeps
    its own work stack: no recursion that grows with the code)."""
    cls = node.__class__
    if cls is Call:
        return [node.fn, *node.args]
    if cls is Let:
        return [*node.inits, node.body]
    if cls is If:
        return (node.test, node.then, node.otherwise)
    if cls is Lambda:
        return (node.body,) if node.body is not None else ()
    if cls is Seq:
        return node.nodes
    if cls is SetLocal or cls is SetGlobal:
        return (node.value,)
    return ()
