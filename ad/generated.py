"""Generated derivatives in use: which procedures have one, the code compiled for each, and the
guards that decide at run time whether it may run.

For a procedure whose code nablisp can see, the derivative operator transforms that code once
(source_forward.py), compiles the result and keeps it with the procedure's code object — every
closure of one lambda shares it, its captured numbers passed as arguments.  Each use checks
that the globals the generated code assumed are unchanged (a redefined primitive or procedure
sends it back to be transformed again) and that the captured values are still numbers.

The dual numbers stay the ground truth.  When the generated code raises, or gives a tangent
that is not finite or is a floating-point zero, the operator computes the derivative with duals
instead: a dual whose tangent is zero (0.0 too) drops it, so the duals' derivative may be an
exact 0 there, and they skip a zero tangent against an infinite partial.  The user sees their
value or their error, and since the code transformed has no side effects (source_forward.py reads no
`set!`, output or unknown call), running it twice cannot be seen.
"""

from __future__ import annotations

import weakref
from operator import itemgetter

from ..interpreter.core import Lambda
from .lift import is_zero, scaled, tangent_sum
from .operators import NOT_COMPUTED
from .tags import Bundle, Dual, Tracked
from .rules import RULES
from ..lang.datum import Nil, Pair
from .source_reverse import LIST, NUMBER, ReverseTransformer
from .source_forward import (_A_NUMBER, _NOT_A_PROCEDURE, _PRIMITIVE, MAX_CAPTURE_DEPTH, NotTransformable,
                             Source, Transformer, _is_number, builtin_names, number_items)

MAX_FORWARD_DIRECTIONS = 4      # inputs up to which a gradient is generated in forward mode


def rule_tangent(name, *arguments):
    """The tangent of (name primals…) for the given tangents, as the duals compute it: a
    direction that is zero is skipped, so a singular partial is met only where a nonzero
    tangent reaches it and then raises the rule's own error."""
    count = len(arguments) // 2
    primals, tangents = arguments[:count], arguments[count:]
    total = None
    for partial, tangent in zip(RULES[name], tangents):
        if is_zero(tangent):
            continue
        term = scaled(partial if partial.__class__ is int else partial(*primals), tangent)
        total = term if total is None else tangent_sum(total, term)
    return 0 if total is None else total


def rule_adjoint(name, index, adjoint, *primals):
    """What the adjoint of (name primals…) gives to argument ``index``, as the tape computes
    it: nothing for a zero adjoint, so a singular partial raises only where one reaches it."""
    if is_zero(adjoint):
        return 0
    partial = RULES[name][index]
    return scaled(partial if partial.__class__ is int else partial(*primals), adjoint)


def _suspicious(value) -> bool:
    """A float zero or a number that is not finite, also inside the perturbations of an outer
    derivative: the duals or the tape decide what it is (they drop a zero tangent, and never
    multiply one into an infinite partial)."""
    stack = [value]
    while stack:
        value = stack.pop()
        cls = value.__class__
        if cls is float:
            if value == 0 or value - value != 0:
                return True
        elif cls is Dual:
            stack.append(value.primal)
            stack.append(value.tangent)
        elif cls is Tracked:
            stack.append(value.primal)
        elif cls is Bundle:
            stack.extend(value.coefficients.values())
    return False


UNTRANSFORMABLE = object()      # kept on a procedure whose derivative the duals compute


def _holds_data(shape) -> bool:
    """Whether a capture shape has a captured list in it (at any depth)."""
    pending = list(shape)
    while pending:
        part = pending.pop()
        if part == "list":
            return True
        if part.__class__ is tuple:
            pending.extend(part[1])
    return False


def _remember(f, attribute: str, value, enabled: bool):
    """Keep on f what its calls would otherwise look up again: a procedure that has no
    generated code never will (its reason is kept by its code, for good)."""
    if enabled:
        try:
            setattr(f, attribute, value)
        except AttributeError:      # a built-in procedure takes no attributes
            pass


class Generated:
    """The generated derivative of one procedure's code."""

    __slots__ = ("procedure", "node", "guards", "free_values", "reads", "kinds", "__weakref__")

    def __init__(self, procedure, node: Lambda, guards, free_values, builtins):
        self.procedure = procedure          # compiled: (free values…, x) → derivative
        self.node = node                    # its core forms, for derivative-code
        self.guards = guards
        self.free_values = free_values      # procedure f → the values to pass before x
        # the guards as one C-level read per namespace — (read the globals, what they must be,
        # the namespace) — and the globals that must still be numbers, or no procedures
        by_namespace: dict = {}
        self.reads = []
        self.kinds = []
        for namespace, name, expected in guards:
            if expected is _PRIMITIVE:
                expected = builtins.get(name)
            if expected is _NOT_A_PROCEDURE or expected is _A_NUMBER:
                self.kinds.append((namespace, name, expected is _A_NUMBER))
                continue
            names, values = by_namespace.setdefault(id(namespace), (namespace, [], []))[1:]
            names.append(name)
            values.append(expected)
        for namespace, names, values in by_namespace.values():
            self.reads.append((itemgetter(*names), tuple(values) if len(values) > 1 else values[0], namespace))

    def holds(self) -> bool:
        for read, expected, namespace in self.reads:
            try:
                found = read(namespace)
            except KeyError:
                return False
            # procedures compare by identity: == of the tuples is an `is` of each pair
            if found is not expected and found != expected:
                return False
        for namespace, name, number in self.kinds:
            value = namespace.get(name)
            if (not _is_number(value)) if number else callable(value):
                return False
        return True


class GeneratedDerivatives:
    """The generated derivatives of one interpreter.  ``read_procedure(f)`` gives the code
    object, Lambda, free variables' values and namespace of a compiled procedure (or None);
    ``compile_procedure(node, namespace)`` compiles generated core forms."""

    def __init__(self, read_procedure, compile_procedure, builtins: dict):
        self.read_procedure = read_procedure
        self.compile_procedure = compile_procedure
        self.builtins = builtins
        self.names = builtin_names(builtins)
        self.by_code: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.by_shape: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.by_procedure: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.enabled = True
        self.computed = 0       # derivatives the generated code gave (the rest: dual numbers)
        self.gradients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.hessians: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    # -- using them --------------------------------------------------------------------------------

    def derivative(self, f, x):
        """f′(x) by generated code, or NOT_COMPUTED where the duals must compute it."""
        # f keeps its generated derivative and captured values (which cannot change: a variable
        # that set! assigns is never read as a constant), so that a call of (D f) in a loop
        # only checks the guards
        kept = getattr(f, "generated_derivative", None)
        if kept is UNTRANSFORMABLE:
            return NOT_COMPUTED
        if kept is not None and kept[0].holds() and self.enabled:
            generated, values = kept
        else:
            generated = self.lookup(f)
            if generated is None:
                _remember(f, "generated_derivative", UNTRANSFORMABLE, self.enabled)
                return NOT_COMPUTED
            values = generated.free_values(f)
            if values is None:
                return NOT_COMPUTED
            if not any(value.__class__ is Pair or value is Nil for value in values):
                # (a captured list is read again at every call: set-car! may have changed it)
                try:
                    f.generated_derivative = (generated, values)
                except AttributeError:
                    pass
        try:
            result = generated.procedure(*values, x)
        except Exception:       # the duals compute it again, and raise their own error
            return NOT_COMPUTED
        cls = result.__class__
        if (cls is float and (result == 0 or result - result != 0 or x.__class__ is not float)) or \
                (cls is not float and cls is not int and _suspicious(result)):
            # a zero or a tangent that is not finite: where the duals dropped a tangent that was
            # zero (theirs is then an exact 0), or skipped it against an infinite partial; or an
            # exact input, where a dropped 0.0 leaves the duals' derivative exact (1, not 1.0)
            return NOT_COMPUTED
        self.computed += 1
        return result

    def gradient(self, f, xs):
        """∇f at xs (numbers, or lists of numbers) by generated code, or NOT_COMPUTED."""
        if not self.enabled:
            return NOT_COMPUTED
        lengths = self.input_lengths(xs)
        if lengths is None:
            return NOT_COMPUTED
        kinds = [NUMBER if length is None else LIST for length in lengths]
        refused = getattr(f, "untransformable_gradients", None)
        if refused is not None and lengths in refused:
            return NOT_COMPUTED
        generated = None
        if sum(1 if length is None else length for length in lengths) <= MAX_FORWARD_DIRECTIONS:
            # few inputs: every direction in one forward pass beats a stack and a reverse sweep
            generated = self.lookup_gradient(f, ("forward",) + lengths)
        if generated is None:
            generated = self.lookup_gradient(f, tuple(kinds))
        if generated is None:
            if refused is None:
                refused = set()
                _remember(f, "untransformable_gradients", refused, True)
            refused.add(lengths)
            return NOT_COMPUTED
        return self._run(generated, f, xs)

    def hessian(self, f, xs):
        """The Hessian of f at xs by generated code — the forward-mode derivative, in every
        direction, of f's gradient's generated code — or NOT_COMPUTED.  For few input numbers,
        as the gradient is generated in forward mode then; beyond, the Hessian is forward mode
        over the tape."""
        lengths = self.input_lengths(xs)
        if lengths is None or sum(1 if n is None else n for n in lengths) > MAX_FORWARD_DIRECTIONS:
            return NOT_COMPUTED
        generated = self.lookup_hessian(f, lengths)
        if generated is None:
            return NOT_COMPUTED
        return self._run(generated, f, xs)

    def lookup_hessian(self, f, lengths: tuple) -> Generated | None:
        if not self.enabled:
            return None
        gradient = self.lookup_gradient(f, ("forward",) + lengths)
        if gradient is None:
            return None
        code = self.read_procedure(f)[0]
        table = self.hessians.get(code)
        if table is None:
            table = self.hessians[code] = {}
        key = (lengths, self.capture_shape(f))

        def transform(source):
            # the gradient's code, its captured variables the same as f's, read as a procedure
            node = gradient.node
            view = Lambda(node.span, node.name)
            count = len(node.params) - len(lengths)
            view.params = node.params[count:]
            view.body = node.body
            values = gradient.free_values(f)      # the captured numbers, closures' too
            if values is None:
                raise NotTransformable("it captured something other than numbers, lists of numbers and procedures")
            transformer = Transformer(self._source_for_inlining, self.builtins, rule_tangent, self.names)
            hessian = transformer.hessian_forward(Source(view, node.params[:count], values, source.namespace),
                                                  list(lengths))
            transformer.guards = transformer.guards + list(gradient.guards)
            return transformer, hessian
        return self._kept(table, key, f, transform)

    def hessian_reason(self, f, lengths: tuple) -> str | None:
        if self.lookup_hessian(f, lengths) is not None:
            return None
        if self.lookup_gradient(f, ("forward",) + lengths) is None:
            return "its gradient is not generated code: " + self.gradient_reason(f, ("forward",) + lengths)
        table = self.hessians.get(self.read_procedure(f)[0], {})
        return str(table.get((lengths, self.capture_shape(f)), "generated derivatives are switched off"))

    @staticmethod
    def input_lengths(xs):
        """Per argument: None for a number, the length of a list of numbers; None if another."""
        lengths = []
        for x in xs:
            if _is_number(x):
                lengths.append(None)
                continue
            items = number_items(x)
            if items is None:
                return None
            lengths.append(len(items))
        return tuple(lengths)

    def _run(self, generated: Generated, f, xs):
        """Run generated code for f at xs; its result, or NOT_COMPUTED where the duals or the
        tape must give it: an error, a suspicious number, a float derivative at exact inputs."""
        values = generated.free_values(f)
        if values is None:
            return NOT_COMPUTED
        try:
            result = generated.procedure(*values, *xs)
        except Exception:       # the duals or the tape compute it again, and raise their own error
            return NOT_COMPUTED
        exact_input = any(x.__class__ is not float and (x.__class__ is not Pair or
                                                        any(item.__class__ is not float for item in x))
                          for x in xs)
        pending = [result]
        while pending:
            part = pending.pop()
            if part.__class__ is Pair:
                pending.extend(part)
            elif _suspicious(part) or (exact_input and part.__class__ is float):
                return NOT_COMPUTED
        self.computed += 1
        return result

    def lookup_gradient(self, f, kinds: tuple) -> Generated | None:
        if getattr(f, "derivative_of", None) is not None:
            return None
        read = self.read_procedure(f)
        if read is None:
            return None
        table = self.gradients.get(read[0])
        if table is None:
            table = self.gradients[read[0]] = {}
        forward = kinds[:1] == ("forward",)

        def transform(source):
            if forward:
                transformer = Transformer(self._source_for_inlining, self.builtins, rule_tangent, self.names)
                return transformer, transformer.gradient_forward(source, list(kinds[1:]))
            transformer = ReverseTransformer(self._source_for_inlining, self.builtins, rule_adjoint, self.names)
            return transformer, transformer.gradient(source, kinds)
        return self._kept(table, (kinds, self.capture_shape(f)), f, transform)

    def gradient_reason(self, f, kinds: tuple) -> str | None:
        if self.lookup_gradient(f, kinds) is not None:
            return None
        read = self.read_procedure(f)
        if read is None or getattr(f, "derivative_of", None) is not None:
            return "it is not nablisp code (a built-in procedure, or one made in Python)"
        return str(self.gradients.get(read[0], {}).get((kinds, self.capture_shape(f)),
                                                        "generated derivatives are switched off"))

    def lookup(self, f) -> Generated | None:
        if not self.enabled:
            return None
        table, key = self._slot(f)
        if key is None:
            return None

        def transform(source):
            transformer = Transformer(self._source_for_inlining, self.builtins, rule_tangent, self.names)
            return transformer, transformer.derivative(source)
        return self._kept(table, key, f, transform)

    def _kept(self, table, key, f, transform) -> Generated | None:
        """The generated code kept in table[key] for f while its guards hold; else made anew
        by transform(f's Source) → (the transformer, the Lambda), compiled and kept — or the
        reason it cannot be, kept in its place."""
        generated = table.get(key)
        if generated is not None:
            if generated.__class__ is not Generated:
                return None                 # not transformable (the reason is kept)
            if generated.holds():
                return generated
        try:
            source = self.source(f)
            if source is None:
                raise NotTransformable("it is not nablisp code (a built-in procedure, or one made in Python)")
            try:
                transformer, node = transform(source)
            except RecursionError:
                raise NotTransformable("its code is nested too deeply to transform") from None
            guards = transformer.guards
            made = getattr(f, "derivative_of", None)
            if made is not None:        # a derivative of a derivative: the inner one's guards too
                inner = self.lookup(made[1])
                if inner is None:       # the inner one's code went (a guard): not kept for good
                    return None
                guards = guards + list(inner.guards)
            guards = list({(id(ns), name, id(expected)): (ns, name, expected)
                           for ns, name, expected in guards}.values())
            procedure = self.compile_procedure(node, source.namespace)
            generated = Generated(procedure, node, tuple(guards), self._free_values_reader(f), self.builtins)
        except NotTransformable as reason:
            table[key] = reason
            return None
        except Exception as error:
            # a bug of the transformation: the duals still give the right derivative, and
            # derivative-code shows what went wrong
            table[key] = NotTransformable(f"internal error of the transformation: {type(error).__name__}: {error}")
            return None
        table[key] = generated
        return generated

    def reason(self, f) -> str | None:
        """Why f has no generated derivative (None if it has one)."""
        if self.lookup(f) is not None:
            return None
        table, key = self._slot(f)
        if key is None and self.source(f) is not None:
            # what it captured: the transformation's own reading says what it cannot take
            try:
                Transformer(self._source_for_inlining, self.builtins, rule_tangent, self.names).start(self.source(f))
            except NotTransformable as reason:
                return str(reason)
            return "it refers to a variable that holds something other than a number, a list of numbers or a procedure"
        if key is None:
            return "it is not nablisp code (a built-in procedure, or one made in Python)"
        reason = table.get(key)
        return str(reason) if reason is not None else "generated derivatives are switched off"

    def _slot(self, f):
        """Where f's generated derivative is kept: by f itself for a procedure a derivative
        operator made, else by f's code (shared by all closures of one lambda)."""
        if getattr(f, "derivative_of", None) is not None:
            return self.by_procedure, f
        read = self.read_procedure(f)
        if read is None:
            return self.by_code, None
        shape = self.capture_shape(f)
        if shape is None:
            return self.by_code, None     # it captured what generated code cannot take
        if not any(shape):
            return self.by_code, read[0]
        # a closure that captured procedures: one generated derivative per what it captured
        table = self.by_shape.get(read[0])
        if table is None:
            table = self.by_shape[read[0]] = {}
        return table, shape

    # -- what closures captured ----------------------------------------------------------------------

    def capture_shape(self, f):
        """What f captured, as the generated code depends on it: per captured variable, None
        for a number, the primitive for a primitive, (code, its shape) for a closure (whose code
        the generated code writes out).  None where f captured something else."""
        found = self._captures(f)
        return None if found is None else found[0]

    def _captures(self, f, depth: int = 0):
        """(capture_shape, the captured numbers in the order of the generated code's leading
        parameters: depth first, as Transformer.start takes them), or None; kept on f, whose
        captured variables (never assigned, or not read) cannot change."""
        kept = getattr(f, "generated_captures", None)
        if kept is not None:
            return kept
        read = self.read_procedure(f)
        if read is None or read[3] is None or depth > MAX_CAPTURE_DEPTH:
            return None
        shape = []
        numbers = []
        for value in read[3]:
            if _is_number(value):
                shape.append(None)
                numbers.append(value)
            elif number_items(value) is not None:
                shape.append("list")      # data: passed as it is, its elements checked at entry
                numbers.append(value)
            elif callable(value):
                name = self.names.get(id(value))
                if name is not None and self.builtins[name] is value:
                    shape.append(value)
                    continue
                if getattr(value, "derivative_of", None) is not None:
                    return None
                inner = self._captures(value, depth + 1)
                if inner is None:
                    return None
                shape.append((self.read_procedure(value)[0], inner[0]))
                numbers.extend(inner[1])
            else:
                return None
        found = (tuple(shape), numbers)
        if not _holds_data(found[0]):
            # numbers and procedures stay what they are; a list set-car! or set-cdr! may change
            # (into one that holds something else, or a circular one) is looked at every time
            _remember(f, "generated_captures", found, True)
        return found

    # -- making them -------------------------------------------------------------------------------

    def source(self, f) -> Source | None:
        """The code of f as the transformation reads it: a lambda of nablisp code, or the
        generated code of a derivative (so that derivatives of derivatives transform it)."""
        made = getattr(f, "derivative_of", None)
        if made is not None:
            operator, inner = made
            if operator != "derivative":
                return None
            generated = self.lookup(inner)
            if generated is None:
                return None
            values = generated.free_values(inner)
            if values is None:
                return None
            node = generated.node
            free = node.params[:-1]
            view = Lambda(node.span, node.name)
            view.params = node.params[-1:]
            view.body = node.body
            return Source(view, free, values, self._namespace_of(inner))
        read = self.read_procedure(f)
        if read is None:
            return None
        _, node, free, values, namespace = read
        if values is None:
            return None
        return Source(node, free, values, namespace)

    def _namespace_of(self, f):
        made = getattr(f, "derivative_of", None)
        if made is not None:
            return self._namespace_of(made[1])
        read = self.read_procedure(f)
        return read[4] if read is not None else None

    def _source_for_inlining(self, value):
        if not callable(value) or getattr(value, "derivative_of", None) is not None:
            return None
        return self.source(value)

    def _free_values_reader(self, f):
        made = getattr(f, "derivative_of", None)
        if made is not None:
            inner = made[1]
            inner_reader = self.lookup(inner).free_values
            return lambda _: inner_reader(inner)

        def read(g):
            found = self._captures(g)
            return None if found is None else found[1]
        return read
