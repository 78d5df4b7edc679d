"""Reverse mode by source transformation: the core forms of a procedure → the core forms of its
gradient, a forward sweep and a reverse sweep, as the back-prop listings write them.

A tail-recursive program runs as a sequence of *segments*: the body of the function up to the
call of its loop, then one iteration of the loop after another, the last ending in the value.
Each segment is straight-line code from its inputs (the function's parameters, or the loop's
for that iteration) to its outputs (the arguments of the next call, or the value), once its
branches are known.  The generated code

- runs the segments forwards, pushing each iteration's inputs on a stack;
- at the end seeds the value's adjoint with 1 and runs the last segment backwards: for each
  binding v = (op a b) of its path, from the last, ā += v̄·∂v/∂a and b̄ += v̄·∂v/∂b, as locals;
- then pops the iterations one by one: each is computed again from its inputs (the code has no
  side effects, so it takes the same branches), and run backwards from the adjoints of the
  next iteration's inputs to its own;
- and when the stack is empty runs the function's own body backwards to the adjoints of its
  parameters, the gradient.

Keeping only each iteration's inputs, and computing the rest again, is checkpointing at every
iteration: the memory is that of the loop's variables per step, not of every operation.

A list argument is read with car and cdr: each suffix of it knows how far in it starts, and
the adjoint of an element it reads goes straight to its place in one array of adjoints per
list argument (adjoint_add below), whichever iteration reads it: walking a list of n numbers
costs O(n) backwards as forwards.

What this does not read — a loop whose value is used inside an expression, a second loop, a
list built by the program, and everything source_forward.py does not read — raises
NotTransformable, and the gradient is taken on the tape.
"""

from __future__ import annotations

from ..interpreter.core import Call, Const, GlobalRef, If, Lambda, Let, LocalRef, Variable, children
from ..lang.datum import make_list
from .source_forward import (_A_NUMBER, _NOT_A_PROCEDURE, _PRIMITIVE, BY_RULE, LIST_READS, NO_TANGENT, PLAIN, ZERO_TANGENT,
                             NotTransformable, Source, _is_number, guard_holds, mark_captured,
                             builtin_names, callee_environment, check_inlining, free_variables, remove_dead)

SMOOTH = frozenset(("+", "-", "*", "/", "square", "sin", "cos", "tan", "exp", "sinh", "cosh",
                    "tanh", "atan", "inexact", "exact->inexact"))
LIST_TESTS = frozenset(("null?", "pair?"))
RULE_PRIMITIVES = frozenset(("+", "-", "*", "/", "cos", "sin", "cosh", "sinh"))
MAX_PATHS = 64      # the branches of one segment, each run backwards on its own
MAX_INLINED = 64

NUMBER, LIST, OTHER = "number", "list", "other"


# -- helpers the generated code calls --------------------------------------------------------------

def adjoint_array(items):
    """The adjoints of an input list's elements, zero until the reverse sweep adds to them."""
    return [0] * sum(1 for _ in items)


def adjoint_add(array, index, value):
    """The reverse sweep's one effect: add an adjoint to an element of an input list.  A list
    the program walks is read by suffixes, and each suffix knows how far in it starts: its
    adjoints go straight to their places, whichever iteration reads them."""
    if value.__class__ is int and value == 0:
        return None
    previous = array[index]
    array[index] = value if previous.__class__ is int and previous == 0 else _add(previous, value)
    return None


def adjoint_list(array):
    return make_list(array)








def _add(a, b):
    """The generic + (the helpers add what may be duals of an outer derivative)."""
    if a.__class__ is float and b.__class__ is float:
        return a + b
    from .lift import G
    return G.add(a, b)




# The stack of the reverse sweep, which never leaves the generated code: a record is a tuple
# (the iteration's inputs…, the stack below), the empty stack None.  In the plain body the
# compiler writes these as Python's tuple operations (Call.plain "stack …").

def stack_push(*items):
    return items


def stack_item(record, index):
    return record[index]


def stack_empty(stack):
    return stack is None


def unreachable():
    raise AssertionError("the reverse sweep took another path than the forward sweep")


# -- the transformation ------------------------------------------------------------------------------

class Val:
    __slots__ = ("atom", "kind", "active", "origin", "offset", "array")

    def __init__(self, atom, kind, active, origin=None, offset=None, array=None):
        self.atom = atom            # Const, LocalRef or GlobalRef
        self.kind = kind            # NUMBER, LIST or OTHER
        self.active = active        # depends on the inputs: has an adjoint
        self.origin = origin        # the Binding that made it (None: an input or a constant)
        # a list: the suffix of an input list it is (an atom: how many cells in) and the
        # variable holding that input's adjoints, one per element
        self.offset = offset
        self.array = array


class Binding:
    """v = (op args…) on the path being generated: what the reverse sweep runs backwards."""

    __slots__ = ("variable", "op", "args", "val")

    def __init__(self, variable, op, args, val):
        self.variable = variable
        self.op = op
        self.args = args
        self.val = val


class ReverseTransformer:
    def __init__(self, source_of, builtins: dict, rule_partial, names: dict | None = None):
        self.source_of = source_of
        self.builtins = builtins
        self.names = names if names is not None else builtin_names(builtins)
        self.rule_partial = rule_partial
        self.guards: list = []
        self.namespace: dict = {}
        self.inlining: list = []
        self.inlined = 0
        self.paths = 0
        self.counter = 0
        self.loop = None

    def builtin(self, name):
        return Const(self.builtins[name])

    # -- entry -------------------------------------------------------------------------------------

    def gradient(self, source: Source, kinds: tuple) -> Lambda:
        """(lambda (free … params …) …) returning the gradient: for one parameter its adjoint
        (a number, or a list for a list), for several a list of them.  ``kinds[i]`` says what
        parameter i holds: NUMBER or LIST (of numbers)."""
        node = source.node
        if node.rest is not None or len(node.params) != len(kinds):
            raise NotTransformable("it takes another number of arguments")
        for value in source.values:
            if not _is_number(value):
                raise NotTransformable("it refers to a variable that holds something other than a number")
        self.namespace = source.namespace
        self.result = Lambda(node.span, node.name)
        env = {}
        for variable in source.free:
            copy = Variable(variable.name, self.result)
            self.result.params.append(copy)
            env[variable] = Val(LocalRef(copy), NUMBER, False)
        self.inputs = []
        arrays = []
        for param, kind in zip(node.params, kinds):
            copy = Variable(param.name, self.result)
            self.result.params.append(copy)
            val = Val(LocalRef(copy), kind, True)
            if kind == LIST:
                val.offset = Const(0)
                val.array = Variable(param.name + "\u0304", self.result)
                arrays.append((val.array, copy))
            env[param] = val
            self.inputs.append(val)
        self.owner = self.result
        self.result.plain_entry = [(variable, "number") for variable in self.result.params[:len(source.free)]] + \
            [(val.atom.var, "number" if val.kind == NUMBER else "list") for val in self.inputs]
        self.effects: set = set()
        body = self.segment(node.body, env, [], root=True)
        for array, items in reversed(arrays):
            body = Let([array], [Call(Const(adjoint_array), [LocalRef(items)], node.span)], body, span=node.span)
        self.result.body = body
        self.guards.append((self.namespace, "+", _PRIMITIVE))      # the offsets are added with it
        self.check_guards()
        if self.loop is not None:
            # the reverse sweep computes again only what the forward sweep computed without
            # error: what it does not use need not be computed
            remove_dead(self.result, {v for v in _bound(self.result)
                                      if v.owner is self.loop.back_node and v not in self.effects})
        mark_captured(self.result)
        return self.result

    # -- a segment, forwards -----------------------------------------------------------------------

    def segment(self, body, env, path, root: bool, loop=None):
        """The code of a segment: ``body`` computed forwards along each branch, ending as each
        path ends — the value (then the reverse sweep starts), or a call of the loop."""
        return self.transform(body, env, path, End(self, root, loop))

    def transform(self, node, env, path, end):
        cls = node.__class__
        if cls is If:
            return self.value(node.test, env, path, lambda test, path: self.branch(node, test, env, path, end))
        if cls is Let and node.recursive:
            return self.loop_definition(node, env, path, end)
        if cls is Let:
            return self.bind(node, 0, dict(env), path, lambda env, path: self.transform(node.body, env, path, end))
        if cls is Call and node.fn.__class__ is LocalRef and env.get(node.fn.var).__class__ is LoopInfo:
            return self.values(node.args, env, path, lambda vals, path: end.call(env.get(node.fn.var), vals, path, node))
        if cls is Call and node.fn.__class__ is GlobalRef and self.user_procedure(node) is not None:
            return self.inline(node, env, path, lambda callee_env, body, path: self.transform(body, callee_env, path, end))
        return self.value(node, env, path, lambda val, path: end.value(val, path, node.span))

    def branch(self, node: If, test: Val, env, path, end):
        self.paths += 1
        if self.paths > MAX_PATHS:
            raise NotTransformable("it has too many branches to run backwards one by one")
        return If(test.atom, self.transform(node.then, env, path, end),
                  self.transform(node.otherwise, env, path, end), node.span)

    def bind(self, node: Let, index, env, path, k):
        if index == len(node.variables):
            return k(env, path)
        variable = node.variables[index]
        if variable.assigned:
            raise NotTransformable(f"it assigns {variable.name} (set!)")

        def bound(val, path):
            env[variable] = val
            if val.origin is not None and val.origin.variable.name.startswith("v") and val.atom.__class__ is LocalRef:
                val.origin.variable.name = variable.name       # the program's name for it
            return self.bind(node, index + 1, env, path, k)
        return self.value(node.inits[index], env, path, bound)

    def values(self, nodes, env, path, k, done=()):
        if len(done) == len(nodes):
            return k(list(done), path)
        return self.value(nodes[len(done)], env, path,
                          lambda val, path: self.values(nodes, env, path, k, done + (val,)))

    def value(self, node, env, path, k):
        """Compute ``node`` forwards; k(its Val, the path with its bindings) makes the rest."""
        cls = node.__class__
        if cls is Const:
            value = node.value
            return k(Val(Const(value, node.span), NUMBER if _is_number(value) else OTHER, False), path)
        if cls is LocalRef:
            val = env.get(node.var)
            if val is None or val.__class__ is LoopInfo:
                raise NotTransformable(f"it uses the procedure {node.var.name} as a value")
            return k(val, path)
        if cls is GlobalRef:
            value = self.global_value(node.name)
            if callable(value):
                raise NotTransformable(f"it uses the procedure {node.name} as a value")
            self.guards.append((self.namespace, node.name, _A_NUMBER if _is_number(value) else _NOT_A_PROCEDURE))
            return k(Val(GlobalRef(node.name, node.span), NUMBER if _is_number(value) else OTHER, False), path)
        if cls is If:
            # an if whose value is used: the rest is written in each branch
            return self.value(node.test, env, path, lambda test, path: self.branch_value(node, test, env, path, k))
        if cls is Let and not node.recursive:
            return self.bind(node, 0, dict(env), path, lambda env, path: self.value(node.body, env, path, k))
        if cls is Call:
            if node.fn.__class__ is GlobalRef and self.user_procedure(node) is not None:
                return self.inline(node, env, path, lambda callee_env, body, path: self.value(body, callee_env, path, k))
            if node.fn.__class__ is not GlobalRef:
                raise NotTransformable("it calls a procedure that is not a global one it can see")
            return self.values(node.args, env, path, lambda vals, path: self.primitive(node, vals, path, k))
        raise NotTransformable(f"it uses {node.__class__.__name__} where a value is needed")

    def branch_value(self, node: If, test, env, path, k):
        self.paths += 1
        if self.paths > MAX_PATHS:
            raise NotTransformable("it has too many branches to run backwards one by one")
        return If(test.atom, self.value(node.then, env, path, k), self.value(node.otherwise, env, path, k),
                  node.span)

    def primitive(self, node: Call, vals, path, k):
        name_in_program = node.fn.name
        value = self.global_value(name_in_program)
        name = self.names.get(id(value))
        if name is None or self.builtins[name] is not value:
            raise NotTransformable(f"it calls {name_in_program}, whose code the transformation cannot see")
        self.guards.append((self.namespace, name_in_program, value))
        span = node.span
        active = any(v.active for v in vals)
        if name in ("*", "/") and len(vals) > 2:
            return self.primitive(node, vals[:2], path, lambda head, path: self.primitive(node, [head] + vals[2:], path, k))
        if name in LIST_READS:
            if len(vals) != 1:
                raise NotTransformable(f"it applies {name} to {len(vals)} arguments")
            kind = LIST if LIST_READS[name][0] == "after" else NUMBER
            if vals[0].kind != LIST:
                raise NotTransformable(f"it applies {name} to something that may not be a list of numbers")
        elif name in LIST_TESTS or name in NO_TANGENT:
            kind, active = OTHER, False
        elif name in ZERO_TANGENT:
            kind, active = NUMBER, False
        elif name in BY_RULE or name in SMOOTH:
            if any(v.kind == LIST for v in vals):
                raise NotTransformable(f"it applies {name} to a list")
            kind = NUMBER
            if name not in ("+", "-", "*", "/") and len(vals) != (2 if name == "expt" else 1):
                raise NotTransformable(f"it applies {name} to {len(vals)} arguments")
            if active and name in SMOOTH:
                for primitive in RULE_PRIMITIVES:
                    self.guards.append((self.namespace, primitive, _PRIMITIVE))
        else:
            raise NotTransformable(f"it applies {name} to a value being differentiated")
        self.counter += 1
        variable = Variable(f"v{self.counter}", self.owner)
        val = Val(LocalRef(variable, span), kind, active)
        binding = Binding(variable, name, vals, val)
        val.origin = binding
        offset_binding = None
        if kind == LIST:
            # a suffix: how far into its input list it starts
            val.array = vals[0].array
            count = LIST_READS[name][1]
            if vals[0].offset.__class__ is Const:
                val.offset = Const(vals[0].offset.value + count)
            else:
                offset = Variable(f"{variable.name}-offset", self.owner)
                offset_call = Call(GlobalRef("+", span), [vals[0].offset, Const(count)], span)
                offset_call.plain = "+"
                offset_binding = (offset, offset_call)
                val.offset = LocalRef(offset, span)
        rest = k(val, path + [binding] if active else path)
        if offset_binding is not None:
            rest = Let([offset_binding[0]], [offset_binding[1]], rest, span=span)
        call = Call(GlobalRef(name_in_program, span), [v.atom for v in vals], span)
        if name in PLAIN and all(v.kind == NUMBER and v.atom.__class__ is not GlobalRef for v in vals):
            call.plain = name
        elif name in LIST_READS or name == "null?":
            call.plain = name       # a list of numbers, checked at the entry: its cells read as attributes
        return Let([variable], [call], rest, span=span)

    # -- inlining ----------------------------------------------------------------------------------

    def user_procedure(self, node: Call):
        value = self.namespace.get(node.fn.name)
        if value is None or not callable(value):
            return None
        name = self.names.get(id(value))
        if name is not None and self.builtins[name] is value:
            return None
        return self.source_of(value)

    def inline(self, node: Call, env, path, k):
        source = self.user_procedure(node)
        check_inlining(self, node, source)

        def with_arguments(vals, path):
            callee_env = callee_environment(node, source, vals, lambda value: Val(
                Const(value, node.span), NUMBER if _is_number(value) else OTHER, False))
            self.inlining.append(source.node)
            try:
                return k(callee_env, source.node.body, path)
            finally:
                self.inlining.pop()
        return self.values(node.args, env, path, with_arguments)

    # -- the loop ----------------------------------------------------------------------------------

    def loop_definition(self, node: Let, env, path, end):
        if len(node.inits) != 1 or node.inits[0].__class__ is not Lambda or node.inits[0].rest is not None:
            raise NotTransformable("it defines local procedures other than one loop")
        if self.loop is not None or not end.root:
            raise NotTransformable("it has more than one loop, or a loop inside a loop")
        init = node.inits[0]
        if node.variables[0].assigned or any(p.assigned for p in init.params):
            raise NotTransformable("it assigns a loop variable (set!)")
        info = LoopInfo(node.variables[0], init)
        self.loop = info
        # which parameters hold what: the initial call decides, and every iteration must agree
        env = dict(env)
        env[node.variables[0]] = info
        info.env = env
        info.root_path_end = end
        for _ in range(16):
            info.changed = False
            self.paths = 0
            code = self.transform(node.body, env, path, end)
            if not info.changed:
                return code
        raise NotTransformable("its loop's variables did not settle")

    def global_value(self, name: str):
        try:
            return self.namespace[name]
        except KeyError:
            raise NotTransformable(f"{name} is not defined") from None

    def check_guards(self):
        for namespace, name, expected in self.guards:
            if not guard_holds(namespace, name, expected, self.builtins):
                raise NotTransformable(f"{name} is not the built-in procedure the derivative rules use")


class LoopInfo:
    """The loop of the program: its lambda, what its parameters hold (kinds, activity: joined
    over every call), and the code generated for it: the loop forwards, pushing each
    iteration's inputs, and `backwards`, which pops them.  Values of the function's body that
    the loop reads (a, b of W5) take adjoints in every iteration: `backwards` carries their
    sums (``outer``) beside the adjoints of the loop's own variables."""

    def __init__(self, variable, node: Lambda):
        self.variable = variable
        self.node = node
        self.kinds = None
        self.active = None
        self.changed = False
        self.env = None

    def join(self, vals):
        kinds = [v.kind for v in vals]
        active = [v.active for v in vals]
        if self.kinds is None:
            self.kinds, self.active = kinds, active
            self.arrays = [v.array for v in vals]
            self.changed = True
            return
        for index, (kind, is_active) in enumerate(zip(kinds, active)):
            if kind != self.kinds[index] and (LIST in (kind, self.kinds[index]) or OTHER in (kind, self.kinds[index])):
                raise NotTransformable(f"its loop's variable {self.node.params[index].name} holds "
                                       f"values of different kinds")
            if kind == LIST and vals[index].array is not self.arrays[index]:
                raise NotTransformable(f"its loop's variable {self.node.params[index].name} walks "
                                       f"different lists")
            if is_active and not self.active[index]:
                self.active[index] = True
                self.changed = True

    # -- the call from the function's body -----------------------------------------------------

    def entry(self, t, vals, path, span):
        self.loop_variable = Variable(self.variable.name, t.owner)
        self.back_variable = Variable("backwards", t.owner)
        loop_node = Lambda(self.node.span, self.node.name)
        back_node = Lambda(self.node.span, "backwards")
        self.back_node = back_node
        loop_node.self_var = self.loop_variable
        back_node.self_var = self.back_variable
        outer = {}
        for variable in free_variables(self.node):
            val = self.env.get(variable)
            if val.__class__ is Val and val.active and val.kind != LIST:
                outer[id(val)] = val
        self.outer = list(outer.values())
        saved = t.owner
        try:
            # backwards: the stack, the adjoints of the next iteration's inputs, the sums of the
            # outer values' adjoints
            t.owner = back_node
            self.back_stack = Variable("stack", back_node)
            back_node.params.append(self.back_stack)
            self.adjoint_params = []
            for param, active, kind in zip(self.node.params, self.active, self.kinds):
                adjoint = Variable(param.name + "\u0304", back_node) if active and kind != LIST else None
                if adjoint is not None:
                    back_node.params.append(adjoint)
                self.adjoint_params.append(adjoint)
            self.outer_params = []
            for val in self.outer:
                adjoint = Variable(_name(val) + "\u0304", back_node)
                back_node.params.append(adjoint)
                self.outer_params.append(adjoint)
            # forwards: an iteration's inputs, then the stack of those before
            t.owner = loop_node
            env = dict(self.env)
            self.forward_params = []
            for param, kind, active, array in zip(self.node.params, self.kinds, self.active, self.arrays):
                val = self.parameter(param, kind, active, array, loop_node, loop_node.params)
                env[param] = val
                self.forward_params.append(val)
            self.stack = Variable("stack", loop_node)
            loop_node.params.append(self.stack)
            loop_node.body = t.segment(self.node.body, env, [], root=False, loop=self)
            t.owner = back_node
            back_node.body = If(_stack_call(stack_empty, "stack empty", [LocalRef(self.back_stack)], span),
                                self.finish(t, vals, path, span), self.recompute(t, span), span)
        finally:
            t.owner = saved
        start = Call(LocalRef(self.loop_variable), self.arguments(vals) + [Const(None)], span)
        return Let([self.loop_variable, self.back_variable], [loop_node, back_node], start, recursive=True,
                   span=span)

    def parameter(self, param, kind, active, array, owner, params: list) -> Val:
        """A loop variable as a parameter of generated code: a list comes with its offset."""
        copy = Variable(param.name, owner)
        params.append(copy)
        val = Val(LocalRef(copy), kind, active)
        if kind == LIST:
            offset = Variable(param.name + "-offset", owner)
            params.append(offset)
            val.offset, val.array = LocalRef(offset), array
        return val

    @staticmethod
    def arguments(vals) -> list:
        """The atoms a call of the loop passes: each value, and a list's offset after it."""
        atoms = []
        for val in vals:
            atoms.append(val.atom)
            if val.kind == LIST:
                atoms.append(val.offset)
        return atoms

    def outer_seeds(self):
        seeds = {}
        for val, adjoint in zip(self.outer, self.outer_params):
            seeds[id(val)] = LocalRef(adjoint)
        return seeds

    def finish(self, t, vals, path, span):
        """The stack empty: the adjoints of the loop's first inputs, with the outer sums, go
        back through the function's body to its parameters."""
        seeds = self.outer_seeds()
        for val, adjoint in zip(vals, self.adjoint_params):
            if adjoint is not None and val.active:
                add_seed(seeds, val, LocalRef(adjoint), span)
        return t_backward(t, path, seeds, span, lambda adjoints: t_gradient(t, adjoints, span))

    def recompute(self, t, span):
        """An iteration popped, computed again from its inputs, and run backwards."""
        env = dict(self.env)
        self.recompute_params = []
        restored = []
        for param, kind, active, array in zip(self.node.params, self.kinds, self.active, self.arrays):
            val = self.parameter(param, kind, active, array, t.owner, restored)
            env[param] = val
            self.recompute_params.append(val)
        code = t.segment(self.node.body, env, [], root=False, loop=Recompute(self))
        for position in reversed(range(len(restored))):
            init = _stack_call(stack_item, "stack item", [LocalRef(self.back_stack), Const(position)], span)
            code = Let([restored[position]], [init], code, span=span)
        self.record_length = len(restored)
        return code

    # -- the ends of an iteration --------------------------------------------------------------

    def again(self, t, vals, path, span):
        """Forwards, a call of the loop from its own body: push this iteration's inputs, go on."""
        pushed = _stack_call(stack_push, "stack push", self.arguments(self.forward_params) + [LocalRef(self.stack)],
                             span)
        return Call(LocalRef(self.loop_variable), self.arguments(vals) + [pushed], span)

    def handed_over(self, t, vals, path, span):
        """Computed again in the reverse sweep, the iteration reaches the call that handed over
        to the next one: backwards from that one's adjoints, then the next iteration down."""
        seeds = self.outer_seeds()
        for val, adjoint in zip(vals, self.adjoint_params):
            if adjoint is not None and val.active:
                add_seed(seeds, val, LocalRef(adjoint), span)
        below = _stack_call(stack_item, "stack item",
                            [LocalRef(self.back_stack), Const(len(self.arguments(self.recompute_params)))], span)
        return t_backward(t, path, seeds, span, lambda adjoints: self.call_backwards(
            t, below, self.recompute_params, adjoints, span))

    def last(self, t, val, path, span):
        """Forwards, the iteration that ends with the value: backwards from it, then the stack."""
        seeds = {id(val): Const(1, span)} if val.active else {}
        return t_backward(t, path, seeds, span, lambda adjoints: self.call_backwards(
            t, LocalRef(self.stack), self.forward_params, adjoints, span))

    def call_backwards(self, t, stack, params, adjoints, span):
        args = [stack]
        for val, adjoint in zip(params, self.adjoint_params):
            if adjoint is not None:
                args.append(adjoints.get(id(val)) or Const(0))
        for val in self.outer:
            args.append(adjoints.get(id(val)) or Const(0))
        return Call(LocalRef(self.back_variable), args, span)


class Recompute:
    """The loop, as the reverse sweep computes an iteration again."""

    def __init__(self, info: LoopInfo):
        self.info = info


class End:
    """How a path of a segment ends: with the value, or by calling the loop."""

    def __init__(self, transformer: ReverseTransformer, root: bool, loop):
        self.t = transformer
        self.root = root
        self.loop = loop

    def value(self, val: Val, path, span):
        t = self.t
        if val.kind != NUMBER:
            raise NotTransformable("it may return something other than a number")
        if self.loop.__class__ is Recompute:
            # an iteration computed again ended with the value: it cannot, it handed over
            return Call(Const(unreachable), [], span)
        if self.root:
            seeds = {id(val): Const(1, span)} if val.active else {}
            return t_backward(t, path, seeds, span, lambda adjoints: t_gradient(t, adjoints, span))
        return self.loop.last(t, val, path, span)

    def call(self, info: LoopInfo, vals, path, node: Call):
        t = self.t
        if len(vals) != len(info.node.params):
            raise NotTransformable("it calls its loop with a number of arguments it does not take")
        info.join(vals)
        if self.root:
            return info.entry(t, vals, path, node.span)
        loop = self.loop.info if self.loop.__class__ is Recompute else self.loop
        if info is not loop:
            raise NotTransformable("a loop calls another loop")
        if self.loop.__class__ is Recompute:
            return info.handed_over(t, vals, path, node.span)
        return info.again(t, vals, path, node.span)


def _stack_call(helper, plain: str, args, span):
    call = Call(Const(helper), list(args), span)
    call.plain = plain
    return call


def _name(val) -> str:
    return val.atom.var.name if val.atom.__class__ is LocalRef else "x"


def add_seed(seeds: dict, val, adjoint, span):
    previous = seeds.get(id(val))
    if val.kind == LIST:
        return          # a list's adjoints are in its input's array
    if previous is None:
        seeds[id(val)] = adjoint
    else:
        seeds[id(val)] = _call("+", [previous, adjoint], span)


def t_backward(t, path, seeds: dict, span, finish):
    """Run ``path`` backwards: adjoints start at ``seeds`` (id of a Val → node); each binding
    passes its adjoint to its arguments — an element of an input list to its place in that
    input's adjoints.  finish(adjoints by id of Val) makes the rest."""
    adjoints = dict(seeds)
    bindings = []
    for binding in reversed(path):
        adjoint = adjoints.get(id(binding.val))
        if adjoint is None or binding.val.kind == LIST:
            continue
        if adjoint.__class__ is not Const and adjoint.__class__ is not LocalRef:
            # a sum of seeds: computed once, then used by each argument
            variable = Variable(_name(binding.val) + "\u0304", t.owner)
            bindings.append((variable, adjoint))
            adjoint = adjoints[id(binding.val)] = LocalRef(variable, span)
        for index, arg in enumerate(binding.args):
            if not arg.active:
                continue
            contribution = partial_adjoint(t, binding, index, adjoint, span)
            if arg.kind == LIST:
                kind, (where, value) = contribution
                if kind != "at":
                    continue        # a suffix: its elements' adjoints went to their places
                if arg.offset.__class__ is Const:
                    position = Const(arg.offset.value + where)
                else:
                    position = _call("+", [arg.offset, Const(where)], span)
                effect = Variable("_", t.owner)
                t.effects.add(effect)
                bindings.append((effect, _stack_call(adjoint_add, "adjoint add", [LocalRef(arg.array), position, value],
                                                     span)))
                continue
            previous = adjoints.get(id(arg))
            if previous is None and (contribution.__class__ is LocalRef or contribution.__class__ is Const):
                adjoints[id(arg)] = contribution        # the adjoint passed on as it is: no copy
                continue
            variable = Variable(_name(arg) + "\u0304", t.owner)
            init = contribution if previous is None else _call("+", [previous, contribution], span)
            bindings.append((variable, init))
            adjoints[id(arg)] = LocalRef(variable, span)
    node = finish(adjoints)
    for variable, init in reversed(bindings):
        node = Let([variable], [init], node, span=span)
    return node


def _call(name, args, span):
    """A call of the reverse sweep's arithmetic: adjoints and primals, numbers all."""
    call = Call(GlobalRef(name, span), list(args), span)
    if name in PLAIN:
        call.plain = name
    return call


def _times(a, b, span):
    if a.__class__ is Const and a.value.__class__ is int and a.value == 1:
        return b
    return _call("*", [a, b], span)


def partial_adjoint(t, binding: Binding, index: int, adjoint, span):
    """What v̄ gives to argument ``index`` of v = (op args…); for a list argument, ("at",
    (position, value)) or ("after", (count, list adjoint))."""
    op, args, v = binding.op, binding.args, binding.val.atom
    a = [arg.atom for arg in args]
    if op in LIST_READS:
        kind, where = LIST_READS[op]
        return kind, (where, adjoint)
    if op == "+":
        return adjoint
    if op == "-":
        if len(args) == 1 or index > 0:
            return _call("-", [adjoint], span)
        return adjoint
    if op == "*":
        if len(args) == 1:
            return adjoint
        return _times(adjoint, a[1 - index], span)
    if op == "/":
        if len(args) == 1:
            return _call("-", [_call("/", [_times(adjoint, v, span), a[0]], span)], span)
        if index == 0:
            return _call("/", [adjoint, a[1]], span)
        return _call("-", [_call("/", [_times(adjoint, v, span), a[1]], span)], span)
    if op in ("inexact", "exact->inexact"):
        return adjoint
    if op in BY_RULE:
        return Call(Const(t.rule_partial), [Const(op), Const(index), adjoint] + a, span)
    x = a[0]
    if op == "square":
        return _times(adjoint, _call("*", [Const(2), x], span), span)
    if op == "sin":
        return _times(adjoint, _call("cos", [x], span), span)
    if op == "cos":
        return _times(adjoint, _call("-", [_call("sin", [x], span)], span), span)
    if op == "exp":
        return _times(adjoint, v, span)
    if op == "sinh":
        return _times(adjoint, _call("cosh", [x], span), span)
    if op == "cosh":
        return _times(adjoint, _call("sinh", [x], span), span)
    if op == "tanh":
        return _times(adjoint, _call("-", [Const(1), _call("*", [v, v], span)], span), span)
    if op == "tan":
        return _times(adjoint, _call("+", [Const(1), _call("*", [v, v], span)], span), span)
    if op == "atan":
        return _call("/", [adjoint, _call("+", [Const(1), _call("*", [x, x], span)], span)], span)
    raise AssertionError(f"no adjoint rule for {op}")


def t_gradient(t, adjoints, span):
    """The gradient from the adjoints of the parameters: one per parameter, or a list."""
    parts = []
    for val in t.inputs:
        adjoint = adjoints.get(id(val))
        if val.kind == LIST:
            parts.append(Call(Const(adjoint_list), [LocalRef(val.array)], span))
        else:
            parts.append(adjoint if adjoint is not None else Const(0))
    if len(parts) == 1:
        return parts[0]
    return Call(t.builtin("list"), parts, span)


def _bound(root: Lambda) -> list:
    """The variables the lets under ``root`` bind."""
    found = []
    stack = [root.body]
    while stack:
        node = stack.pop()
        if node.__class__ is Let:
            found.extend(node.variables)
        stack.extend(children(node))
    return found
