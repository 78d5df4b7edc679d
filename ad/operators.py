"""The derivative operators, as procedures of the language.

Each takes a procedure and returns a procedure, so they compose — (derivative (derivative f)),
(jacobian (gradient f)) — and given more arguments applies the result at once:
(derivative f 3) = ((derivative f) 3).  Every application draws a fresh tag, which is all it
takes for nested uses never to confuse their perturbations.

Shapes: a gradient has the shape of the argument it is taken with respect to (one per argument
when there are several); a Jacobian is a list of rows, one per output number, each a list with
one entry per input number, collapsed to a plain list when the output (or the input) is a single
number.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import repeat

from ..lang.datum import Nil, is_procedure, make_list
from ..lang.printer import write_string
from .forward import Forward
from .lift import G, lift
from .reverse import Tape
from .structure import is_structure, leaves, map_structure, same_shape
from .teaching import tape_dot, tape_text
from .tags import (DifferentiationError, Dual, TagSource, Tracked, bundle, dual, is_number, is_tagged,
                   live_value, normalize, plain, tracked)


# what generated code (generated.py) answers where the dual numbers or the tape must compute
NOT_COMPUTED = object()

# differentiate with respect to one number: several arguments are no list to them
_ONE_NUMBER_OPERATORS = ("derivative", "value-and-derivative")


class Operators:
    def __init__(self, apply, arity=None):
        """``apply(f, args)`` calls a procedure of the language; ``arity(f)``, when given, is
        (least, most) numbers of arguments f takes (most None: any more) or None when unknown,
        so that a function given the wrong number of arguments gets a hint, not Python's
        "too few arguments"."""
        self.apply = apply
        self.arity = arity
        self.tags = TagSource()
        self.forward = Forward(self.tags, apply)
        self.generated = None       # GeneratedDerivatives, when the interpreter can compile them

    # -- making operators ------------------------------------------------------------------------

    def table(self) -> dict:
        ops = {
            "derivative": self.operator("derivative", self.derivative),
            "gradient": self.operator("gradient", self.gradient),
            "gradient-forward": self.operator("gradient-forward", self.gradient_forward),
            # its messages say jacobian, the name it is mostly called by (as jacobian_forward's do)
            "jacobian-forward": self.operator("jacobian-forward", self.jacobian_forward, who="jacobian"),
            "jacobian-reverse": self.operator("jacobian-reverse", self.jacobian_reverse),
            "hessian": self.operator("hessian", self.hessian),
            "hessian-vector-product": self.operator("hessian-vector-product", self.hvp, point_only=True,
                                                    who="hvp"),
            "jvp": self.operator("jvp", self.jvp, point_only=True),
            "vjp": self.operator("vjp", self.vjp, point_only=True),
            "value-and-derivative": self.operator("value-and-derivative", self.value_and_derivative),
            "value-and-gradient": self.operator("value-and-gradient", self.value_and_gradient),
            "stop-gradient": stop_gradient,
            "tape->text": self.operator("tape->text", self.tape_text),
            "tape->dot": self.operator("tape->dot", self.tape_dot),
        }
        ops["D"] = ops["derivative"]
        ops["grad"] = ops["gradient"]
        ops["jacobian"] = ops["jacobian-forward"]
        ops["hvp"] = ops["hessian-vector-product"]
        return ops

    def operator(self, name: str, compute, point_only: bool = False, who: str | None = None):
        """The procedure ``name``: (name f) differentiates f, (name f x …) applies that at once.
        ``point_only``: of the arguments only the first, the point, is f's (jvp's tangent is not);
        ``who``: the name its messages use, when not ``name``."""
        who = who or name

        def operator(f, *args):
            if not is_procedure(f):
                raise DifferentiationError(f"{name}: expected a procedure to differentiate, got {write_string(f)}")
            arity = self.arity(f) if self.arity is not None else None
            if args:
                self.check_arguments(who, f, args[:1] if point_only else args, arity)
                return compute(f, args)
            least, most = arity if arity is not None else (0, None)

            def differentiated(*xs):
                # f's arity is read once, here; a call checks only the count (the hot path)
                count = len(xs) if not point_only else min(len(xs), 1)
                if count < least or (most is not None and count > most):
                    self.check_arguments(who, f, xs[:1] if point_only else xs, arity)
                return compute(f, xs)
            differentiated.__name__ = differentiated.__qualname__ = \
                f"({name} {getattr(f, '__name__', 'procedure').split(' λ')[0]})"
            differentiated.derivative_of = (name, f)    # so that its derivative may be generated
            return differentiated
        operator.__name__ = operator.__qualname__ = name
        operator.__doc__ = compute.__doc__      # what ,doc shows (documentation.py)
        return operator

    def check_arguments(self, who, f, xs, arity):
        """An error with a hint when f, of ``arity`` (least, most), cannot take the arguments it
        is to be differentiated at: the classic slip is a function of two numbers given one list
        of two, or the reverse."""
        if arity is None:
            return
        least, most = arity
        count = len(xs)
        if count == 0 or (least <= count and (most is None or count <= most)):
            return      # no arguments: the operator itself says what it expects
        takes = f"{least} argument{'s' if least != 1 else ''}" if least == most else \
            f"{least} or more arguments" if most is None else f"{least} to {most} arguments"
        shown = f"(a {'list' if live_value(xs[0]).__class__ is not list else 'vector'})" \
            if count == 1 and is_structure(live_value(xs[0])) else ""
        message = f"{who}: the function takes {takes} but was given {count}{' ' + shown if shown else ''}"
        if shown and least > 1:
            numbers = leaves(live_value(xs[0]))
            example = " ".join(write_string(number) for number in numbers[:6]) if len(numbers) <= 6 else "x y …"
            message += (f"; to differentiate with respect to several arguments pass them separately: "
                        f"(({who} f) {example}), or make f take a list")
        elif most == 1 and count > 1 and who not in _ONE_NUMBER_OPERATORS and all(is_number(live_value(x)) for x in xs):
            example = " ".join(write_string(live_value(x)) for x in xs[:6]) + (" …" if count > 6 else "")
            message += f"; to differentiate with respect to several numbers of one argument, pass them as a list: (({who} f) '({example}))"
        raise DifferentiationError(message)

    # -- forward mode ----------------------------------------------------------------------------

    def _one_number(self, name, xs):
        if len(xs) != 1:
            raise DifferentiationError(f"{name}: expects a function of one number, called with {len(xs)} "
                                       "arguments; use gradient or jacobian for several variables")
        x = live_value(xs[0])
        if is_structure(x):
            raise DifferentiationError(f"{name}: the argument {write_string(x)} is a list or vector; "
                                       "use gradient (or jacobian) for functions of several variables")
        if not is_number(x):
            raise DifferentiationError(f"{name}: expected a number, got {write_string(x)}")
        return x

    # Every tag drawn below is closed in a `finally` once its calculation has read its result,
    # so that an error or an escaping continuation closes it too (tags.py says why).

    def derivative(self, f, xs):
        """(derivative f) (derivative f x)

        The derivative of f, a function of one number, in forward mode: (derivative f) is the
        procedure f′, and (derivative f x) is f′(x). f may return a number, a list or vector of
        numbers (their derivatives, element by element) or a procedure (a procedure that
        differentiates each time it is called). Exact where f is: ((derivative (lambda (x) (* x x
        x))) 2) is 12. Nests freely with every operator, without perturbation confusion. D is the
        same procedure.
        """
        x = self._one_number("derivative", xs)
        if self.generated is not None:
            result = self.generated.derivative(f, x)
            if result is not NOT_COMPUTED:
                return result
        tag = self.tags.fresh()
        try:
            return self.forward.tangent(tag, self.apply(f, [dual(tag, x, 1)]), "derivative")
        finally:
            tag.close()

    def value_and_derivative(self, f, xs):
        """(value-and-derivative f) (value-and-derivative f x)

        (list f(x) f′(x)), both from one forward pass.
        """
        x = self._one_number("value-and-derivative", xs)
        tag = self.tags.fresh()
        try:
            y = self.apply(f, [dual(tag, x, 1)])
            return make_list([self.forward.primal(tag, y, "value-and-derivative"),
                              self.forward.tangent(tag, y, "value-and-derivative")])
        finally:
            tag.close()

    def _perturb_one(self, who, xs, position, tag):
        """The arguments with their ``position``-th number (counting across all) perturbed."""
        counter = [0]

        def leaf(x):
            if not is_number(x):
                raise DifferentiationError(f"{who}: expected numbers in the arguments, got {write_string(x)}")
            index = counter[0]
            counter[0] += 1
            return dual(tag, x, 1) if index == position else x
        return [map_structure(leaf, x, who) for x in xs]

    def _input_count(self, who, xs) -> int:
        count = 0
        for x in xs:
            for leaf in leaves(x, who):
                if not is_number(leaf):
                    raise DifferentiationError(f"{who}: expected numbers in the arguments, got {write_string(leaf)}")
                count += 1
        return count

    def _forward_columns(self, who, f, xs):
        """(output structure of the first pass, one tangent structure per input number)."""
        columns = []
        for position in range(self._input_count(who, xs)):
            tag = self.tags.fresh()
            try:
                y = self.apply(f, self._perturb_one(who, xs, position, tag))
                columns.append(self.forward.tangent(tag, y, who))
            finally:
                tag.close()
        return columns

    def gradient_forward(self, f, xs):
        """(gradient-forward f) (gradient-forward f x …)

        The gradient of f, as gradient gives it, computed in forward mode: one pass whose tangent
        has a direction per input number. For few inputs it can be faster than reverse mode.
        """
        if self._input_count("gradient-forward", xs) > 1:
            # one pass in a direction per input, rather than a pass per input
            def read(tag, count, y):
                y = live_value(y)
                cls = y.__class__
                if cls is Dual and y.tag is tag:
                    return self._shape_like_inputs(xs, map(y.tangent.coefficients.get, range(count), repeat(0)))
                if cls is int or cls is float or cls is Fraction or \
                        ((cls is Dual or cls is Tracked) and y.tag.level < tag.level):
                    return self._shape_like_inputs(xs, repeat(0))
                return None     # not a number, or a perturbation younger than the pass
            found = self._bundle_pass("gradient-forward", f, xs, read)
            if found is not None:
                return found
            # the passes per input decide (and say what is wrong)
        columns = self._forward_columns("gradient-forward", f, xs)
        for column in columns:
            self._check_scalar("gradient-forward", column)
        return self._shape_like_inputs(xs, iter(columns))

    def _bundle_pass(self, who, f, xs, read):
        """read(tag, input count, value) of one pass of ``f``, every input perturbed in a
        direction of its own (a bundle tangent), read while the pass's tag is open."""
        tag = self.tags.fresh()
        try:
            count = [0]

            def perturbed(x):
                if not is_number(x):
                    raise DifferentiationError(f"{who}: expected numbers in the arguments, got {write_string(x)}")
                count[0] += 1
                return dual(tag, x, bundle({count[0] - 1: 1}))
            y = self.apply(f, [map_structure(perturbed, x, who) for x in xs])
            return read(tag, count[0], y)
        finally:
            tag.close()

    def _bundle_rows(self, who, f, xs):
        """(the value, the rows of its Jacobian) from one pass, every input perturbed in a
        direction of its own (a bundle tag); None when the value is not made of numbers alone."""
        return self._bundle_pass(who, f, xs, lambda tag, count, y: self._rows_of(who, tag, count, y))

    def _rows_of(self, who, tag, count, y):
        columns = range(count)
        zeros = repeat(0)       # the coefficient of every column a row does not mention, endlessly
        rows = []
        for leaf in leaves(y, who):
            cls = leaf.__class__
            if (cls is Dual or cls is Tracked) and not leaf.tag.live:
                leaf = live_value(leaf)
                cls = leaf.__class__
            if cls is Dual and leaf.tag is tag:
                rows.append(list(map(leaf.tangent.coefficients.get, columns, zeros)))
            elif cls is int or cls is float or cls is Fraction or \
                    ((cls is Dual or cls is Tracked) and leaf.tag.level < tag.level):
                rows.append([0] * count)
            elif cls is Dual or cls is Tracked or is_procedure(leaf):
                # a procedure, or a perturbation younger than this pass: the general extraction
                return None
            else:
                raise DifferentiationError(f"{who}: the function returned {write_string(leaf)}, which is not "
                                           "a number (nor a list, vector or procedure of numbers)")
        return y, rows      # y for its shape only

    def jacobian_forward(self, f, xs, who="jacobian"):
        """(jacobian-forward f) (jacobian-forward f x …)

        The Jacobian of f at x in forward mode: a list of rows, one per output number, each with
        one entry per input number; a plain list when the output or the input is a single number.
        x and the value of f may be numbers, lists or vectors. jacobian is the same procedure.
        """
        if not xs:
            raise DifferentiationError(f"{who}: expected at least one argument")
        found = self._bundle_rows(who, f, xs)
        if found is not None:
            y, rows = found
            return self._matrix(xs, y, rows) if rows and rows[0] else Nil
        columns = self._forward_columns(who, f, xs)
        if not columns:
            return Nil
        rows = [list(row) for row in zip(*[leaves(c) for c in columns])]
        return self._matrix(xs, columns[0], rows)

    def jvp(self, f, args, who="jvp"):
        """(jvp f x v)

        The Jacobian-vector product J(x)·v: the tangent of the output of f at x along the
        direction v, which has the shape of x; one forward pass, without forming J.
        """
        if len(args) != 2:
            raise DifferentiationError(f"{who}: expected a point and a tangent, got {len(args)} "
                                       f"argument{'s' if len(args) != 1 else ''}")
        x, v = args
        directions = iter(self._matching(who, x, v, "tangent", "point"))
        tag = self.tags.fresh()
        try:
            def leaf(number):
                if not is_number(number):
                    raise DifferentiationError(f"{who}: expected numbers in the point, got {write_string(number)}")
                return dual(tag, number, next(directions))
            return self.forward.tangent(tag, self.apply(f, [map_structure(leaf, x, who)]), who)
        finally:
            tag.close()

    @staticmethod
    def _matching(who, reference, other, other_name, reference_name) -> list:
        """The numbers of ``other``, which must have the shape of ``reference`` (a tangent that of
        its point, a cotangent that of the function's value)."""
        numbers = leaves(other, who)
        leaves(reference, who)      # finite (or an error saying it is not)
        if not same_shape(reference, other):
            raise DifferentiationError(f"{who}: the {other_name} {write_string(other)} does not have the "
                                       f"shape of the {reference_name} {write_string(reference)}")
        for number in numbers:
            if not is_number(number):
                raise DifferentiationError(f"{who}: expected numbers in the {other_name}, got "
                                           f"{write_string(number)}")
        return [live_value(number) for number in numbers]

    # -- reverse mode ----------------------------------------------------------------------------

    def _record_inputs(self, who, xs, tag):
        tape = tag.tape

        def leaf(x):
            if not is_number(x):
                raise DifferentiationError(f"{who}: expected a number or a list or vector of numbers, "
                                           f"got {write_string(x)}")
            cls = x.__class__
            if cls is Dual or cls is Tracked:
                x = live_value(x)
            return tracked(tag, x, tape.new_input())
        return [map_structure(leaf, x, who) for x in xs]

    def _check_scalar(self, who, y):
        if is_structure(y):
            raise DifferentiationError(f"{who}: the function returned {write_string(y)}, not a number; "
                                       "use jacobian for functions with several outputs")
        if is_procedure(y):
            raise DifferentiationError(f"{who}: the function returned a procedure; use derivative for "
                                       "functions that return functions")
        if not is_number(y):
            raise DifferentiationError(f"{who}: the function returned {write_string(y)}, not a number")

    def _read(self, inputs, adjoints, tag):
        def leaf(tracked):
            adjoint = adjoints[tracked.node] if adjoints is not None else None
            if adjoint is None:
                return 0
            cls = adjoint.__class__
            if cls is Fraction:
                return normalize(adjoint)
            return live_value(adjoint) if cls is Dual or cls is Tracked else adjoint
        return [map_structure(leaf, x) for x in inputs]

    def _gradient_pass(self, who, f, xs):
        tag = self.tags.fresh(Tape())
        try:
            inputs = self._record_inputs(who, xs, tag)
            y = self.apply(f, inputs)
            self._check_scalar(who, y)
            y = live_value(y)       # a closed perturbation may lie over this tape's value
            adjoints = None
            if y.__class__ is Tracked and y.tag is tag:
                adjoints = tag.tape.backward({y.node: 1})
                value = y.primal
            else:
                value = y
            gradients = self._read(inputs, adjoints, tag)
            return value, gradients[0] if len(xs) == 1 else make_list(gradients)
        finally:
            tag.close()

    def gradient(self, f, xs):
        """(gradient f) (gradient f x …)

        The gradient of f, a function to one number, in reverse mode: (gradient f) is the
        procedure ∇f, and (gradient f x) is ∇f(x), with the shape of x (a number, list or vector).
        For a function of several arguments, a list of one gradient per argument. A function that
        returns a list needs jacobian instead. grad is the same procedure.
        """
        if not xs:
            raise DifferentiationError("gradient: expected at least one argument")
        if self.generated is not None:
            result = self.generated.gradient(f, xs)
            if result is not NOT_COMPUTED:
                return result
        return self._gradient_pass("gradient", f, xs)[1]

    def value_and_gradient(self, f, xs):
        """(value-and-gradient f) (value-and-gradient f x …)

        (list f(x) ∇f(x)), both from one reverse pass.
        """
        if not xs:
            raise DifferentiationError("value-and-gradient: expected at least one argument")
        value, gradient = self._gradient_pass("value-and-gradient", f, xs)
        return make_list([value, gradient])

    def jacobian_reverse(self, f, xs):
        """(jacobian-reverse f) (jacobian-reverse f x …)

        The Jacobian of f at x, as jacobian-forward gives it, computed in reverse mode: one
        backward sweep per output number, for functions with fewer outputs than inputs.
        """
        if not xs:
            raise DifferentiationError("jacobian-reverse: expected at least one argument")
        tag = self.tags.fresh(Tape())
        try:
            inputs = self._record_inputs("jacobian-reverse", xs, tag)
            y = self.apply(f, inputs)
            rows = []
            for output in leaves(y, "jacobian-reverse"):
                output = live_value(output)
                if not is_number(output):
                    raise DifferentiationError(f"jacobian-reverse: the function returned {write_string(output)} "
                                               "among its outputs, not a number")
                adjoints = tag.tape.backward({output.node: 1}) \
                    if output.__class__ is Tracked and output.tag is tag else None
                rows.append([leaf for x in self._read(inputs, adjoints, tag) for leaf in leaves(x)])
            return self._matrix(xs, y, rows)
        finally:
            tag.close()

    def vjp(self, f, args):
        """(vjp f x ct)

        The vector-Jacobian product ctᵀ·J(x): the cotangent of the input of f at x, with the shape
        of x, for the cotangent ct of its output (which has the shape of f's value); one reverse
        pass, without forming J.
        """
        if len(args) != 2:
            raise DifferentiationError(f"vjp: expected a point and a cotangent, got {len(args)} "
                                       f"argument{'s' if len(args) != 1 else ''}")
        x, cotangent = args
        tag = self.tags.fresh(Tape())
        try:
            inputs = self._record_inputs("vjp", [x], tag)
            y = self.apply(f, inputs)
            outputs = leaves(y, "vjp")
            weights = self._matching("vjp", y, cotangent, "cotangent", "function's value")
            seeds: dict = {}
            for output, weight in zip(outputs, weights):
                output = live_value(output)
                if not is_number(output):
                    raise DifferentiationError(f"vjp: the function returned {write_string(output)} among its "
                                               "outputs, not a number")
                if output.__class__ is Tracked and output.tag is tag:
                    # an output met twice (a value listed twice) gets the sum of its seeds, which
                    # may carry an outer derivative's perturbation
                    node = output.node
                    seeds[node] = weight if node not in seeds else G.add(seeds[node], weight)
            adjoints = tag.tape.backward(seeds) if seeds else None
            return self._read(inputs, adjoints, tag)[0]
        finally:
            tag.close()

    # -- nested ----------------------------------------------------------------------------------

    def _gradient_for(self, who, f):
        """f's gradient as a procedure whose errors name ``who`` (hessian, hvp), not gradient."""
        def gradient(*xs):
            return self._gradient_pass(who, f, xs)[1]
        gradient.__name__ = gradient.__qualname__ = f"(gradient {getattr(f, '__name__', 'procedure').split(' λ')[0]})"
        return gradient

    def hessian(self, f, xs):
        """(hessian f) (hessian f x …)

        The Hessian of f, a function to one number, at x: the Jacobian of its gradient (forward
        mode over reverse mode), a number for a number x and a matrix (a list of rows) for a list
        or vector x.  With several arguments, as gradient and jacobian take them, the rows and
        the columns run over all their numbers, in order.
        """
        if not xs:
            raise DifferentiationError("hessian: expected at least one argument")
        if self.generated is not None:
            result = self.generated.hessian(f, xs)
            if result is not NOT_COMPUTED:
                return result
        return self.jacobian_forward(self._gradient_for("hessian", f), xs, "hessian")

    def hvp(self, f, args):
        """(hessian-vector-product f x v)

        The Hessian of f at x times the vector v, H(x)·v, computed without forming H: a forward
        pass over the gradient (forward over reverse). hvp is the same procedure.
        """
        return self.jvp(self._gradient_for("hvp", f), args, "hvp")

    # -- teaching --------------------------------------------------------------------------------

    def tape_text(self, f, xs):
        """(tape->text f x …)

        The text show-tape prints: the forward sweep of f at x as numbered assignments, then the
        backward sweep that computes its gradient, one adjoint update a line.
        """
        return tape_text(self, f, *xs)

    def tape_dot(self, f, xs):
        """(tape->dot f x …)

        The expression graph of f at x, as recorded for its gradient, in Graphviz's DOT language
        (render it with dot -Tsvg, or with tape->svg).
        """
        return tape_dot(self, f, *xs)

    # -- shapes ----------------------------------------------------------------------------------

    def _shape_like_inputs(self, xs, values):
        shaped = [map_structure(lambda _: next(values), x) for x in xs]   # xs walked before
        return shaped[0] if len(xs) == 1 else make_list(shaped)

    def _matrix(self, xs, y, rows):
        scalar_in = len(xs) == 1 and not is_structure(xs[0])
        scalar_out = not is_structure(y)
        if scalar_in and scalar_out:
            return rows[0][0]
        if scalar_out:
            return make_list(rows[0])
        if scalar_in:
            column = iter(row[0] for row in rows)
            return map_structure(lambda _: next(column), y)
        return make_list([make_list(row) for row in rows])


def stop_gradient(value):
    """(stop-gradient x)

    x with every perturbation removed: a constant for every derivative, as JAX's
    stop_gradient. x may be a number or a list or vector of numbers.
    """
    return map_structure(lambda x: plain(x) if is_tagged(x) else x, value)


def make_differentiable(apply, function, partials, name: str, parameters=None, apply_partial=None):
    """``function`` with a custom rule: ``partials[i]`` computes ∂function/∂(argument i).  A
    rule computes numbers: a partial, or the function under a derivative, that returns anything
    else is an error naming it.  ``apply_partial`` applies the partials (``apply`` by default)."""
    parameters = parameters or tuple(f"argument {i + 1}" for i in range(len(partials)))

    def numeric(procedure, complaint, apply=apply):
        def compute(*args):
            value = apply(procedure, list(args))
            if not is_number(value):
                raise DifferentiationError(f"{name}: {complaint(write_string(value))}")
            return value
        return compute
    partial_functions = tuple(
        numeric(p, lambda got, parameter=parameter:
                f"the derivative rule's partial with respect to {parameter} returned {got}, not a number",
                apply_partial or apply)
        for p, parameter in zip(partials, parameters))
    value_of = numeric(function, lambda got: "a procedure with a derivative rule must return a number "
                                             f"when differentiated, got {got}")

    def differentiable(*args):
        for arg in args:
            if (arg.__class__ is Dual or arg.__class__ is Tracked) and arg.tag.live:
                if len(args) != len(partial_functions):
                    # a procedure of several arities keeps them all; the rule covers one
                    count = len(partial_functions)
                    raise DifferentiationError(f"{name}: its derivative rule is for {count} argument"
                                               f"{'s' if count != 1 else ''}, but it was differentiated "
                                               f"with {len(args)}")
                return lift(lifted, partial_functions, args)
        return apply(function, [live_value(arg) for arg in args])

    def lifted(*args):      # the value under a derivative: a number, or the rule means nothing
        for arg in args:
            if arg.__class__ is Dual or arg.__class__ is Tracked:
                return lift(lifted, partial_functions, args)
        return value_of(*args)
    differentiable.__name__ = differentiable.__qualname__ = name
    lifted.__name__ = lifted.__qualname__ = name
    return differentiable
