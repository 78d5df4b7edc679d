"""Core forms → data, to show a user what a form expands to (the REPL's `,expand`).

The expander's output names variables by objects, not by names, so that hygiene holds; shown
as text, two different variables of one name (a macro's temporary and the user's own) would
look the same.  Such names get a suffix, `tmp.1` and `tmp.2`; a name used by one variable only
is shown as written.
"""

from __future__ import annotations

from ..lang.datum import Nil, Pair, Symbol, make_list
from .core import Call, Const, GlobalRef, If, Lambda, Let, LocalRef, Seq, SetGlobal, SetLocal
from .libraries import display_name

_QUOTE = Symbol("quote")


def core_datum(node, let_star: bool = False):
    """``node`` written back as a nablisp datum built of the core forms: quote, if, define,
    set!, lambda, begin, let, letrec* and applications.  With ``let_star``, a chain of lets of
    one variable each is shown as one let* (as generated code is: a binding per step), and a
    procedure the code calls directly (a helper of generated code) by its name."""
    return _Shower(node, let_star).datum(node)


class _Shower:
    def __init__(self, root, let_star: bool = False):
        self.let_star = let_star
        self.names: dict = {}
        by_name: dict = {}
        for variable in _variables(root):
            by_name.setdefault(variable.name, []).append(variable)
        for name, variables in by_name.items():
            unique = list(dict.fromkeys(variables))
            for index, variable in enumerate(unique, 1):
                self.names[variable] = name if len(unique) == 1 else f"{name}.{index}"

    def variable(self, variable) -> Symbol:
        return Symbol(self.names.get(variable, variable.name))

    def datum(self, node):
        cls = node.__class__
        if cls is Const and self.let_star and callable(node.value) and hasattr(node.value, "__name__"):
            return Symbol(node.value.__name__.replace("_", "-"))
        if cls is Const:
            value = node.value
            if value.__class__ in (Symbol, Pair) or value is Nil:
                return make_list([_QUOTE, value])
            return value if value is not None else make_list([Symbol("if"), False, False])
        if cls is LocalRef:
            return self.variable(node.var)
        if cls is GlobalRef:
            return Symbol(display_name(node.name))
        if cls is SetLocal or cls is SetGlobal:
            target = self.variable(node.var) if cls is SetLocal else Symbol(display_name(node.name))
            keyword = "define" if node.is_definition else "set!"
            return make_list([Symbol(keyword), target, self.datum(node.value)])
        if cls is If:
            parts = [Symbol("if"), self.datum(node.test), self.datum(node.then)]
            if not (node.otherwise.__class__ is Const and node.otherwise.value is None):
                parts.append(self.datum(node.otherwise))
            return make_list(parts)
        if cls is Lambda:
            formals = make_list([self.variable(v) for v in node.params],
                                self.variable(node.rest) if node.rest is not None else Nil)
            return make_list([Symbol("lambda"), formals] + self.body(node.body))
        if cls is Seq:
            return make_list([Symbol("begin")] + [self.datum(n) for n in node.nodes])
        if cls is Call:
            return make_list([self.datum(node.fn)] + [self.datum(a) for a in node.args])
        if cls is Let and self.let_star and not node.recursive and len(node.variables) == 1 \
                and node.body.__class__ is Let and not node.body.recursive:
            pairs = []
            while node.__class__ is Let and not node.recursive and len(node.variables) == 1:
                pairs.append(make_list([self.variable(node.variables[0]), self.datum(node.inits[0])]))
                node = node.body
            return make_list([Symbol("let*"), make_list(pairs)] + self.body(node))
        if cls is Let:
            bindings = make_list([make_list([self.variable(v), self.datum(i)])
                                  for v, i in zip(node.variables, node.inits)])
            return make_list([Symbol("letrec*" if node.recursive else "let"), bindings] + self.body(node.body))
        return Symbol(f"#<{cls.__name__}>")

    def body(self, node) -> list:
        if node is None:
            return []
        if node.__class__ is Seq:
            return [self.datum(n) for n in node.nodes]
        return [self.datum(node)]


def _variables(root):
    """Every Variable bound or referenced under ``root``, in the order met (a work stack: no
    Python recursion)."""
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        cls = node.__class__
        if cls is LocalRef:
            found.append(node.var)
        elif cls is SetLocal:
            found.append(node.var)
            stack.append(node.value)
        elif cls is SetGlobal:
            stack.append(node.value)
        elif cls is If:
            stack.extend((node.otherwise, node.then, node.test))
        elif cls is Lambda:
            found.extend(node.params)
            if node.rest is not None:
                found.append(node.rest)
            stack.append(node.body)
        elif cls is Seq:
            stack.extend(reversed(node.nodes))
        elif cls is Call:
            stack.extend(reversed(node.args))
            stack.append(node.fn)
        elif cls is Let:
            found.extend(node.variables)
            stack.append(node.body)
            stack.extend(reversed(node.inits))
    return found
