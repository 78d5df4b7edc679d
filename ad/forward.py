"""Forward mode: extracting a derivative from a result, and its extension to results that are
procedures (Manzyuk, Pearlmutter, Radul, Rush, Siskind, JFP 2019).

(derivative f x) = extract(ε, f(x + ε)) with ε fresh.  For a number, extract takes the
coefficient of ε.  For a procedure h, every *call* is a derivative calculation of its own:

    extract(ε, h) = λ a… . swap(ε, ε′, extract(ε, h(swap(ε, ε′, a)…)))      ε′ fresh per call

The swap hides any ε the caller passes in (an outer use of the same derivative, as in
(D̂ (D̂ exp))) as ε′ while h runs, and gives it back afterwards.  It is an involution on tags,
and a procedure is swapped by conjugation, swap(g) = λ b… . swap(g(swap(b)…)), so h's own ε
and the caller's stay apart even when g is an argument.  A swapped value is rebuilt with the
generic operations (primal + tangent·ε″), which restores the older-tags-inside order.

Lifetimes: ε is closed when the derivative returns, and re-opened for each call of h.  The
hidden ε′ stands for the caller's ε, so while h runs it is live exactly when the caller's ε is
(and ε′ is closed after the call, as it never existed for the caller).  A swap exchanges the
two tags' states with their values: inside swap(g), ε is live when ε′ is outside, and the
other way round.

Reverse mode meets these procedures when a gradient younger than ε calls one: its arguments
then hold Tracked values whose primals may come to hold ε, and a tape entry cannot be swapped.
Such a call is lifted instead, like a primitive of that tape: one forward pass with a fresh
bundle tag, a direction per number on the tape among the arguments (in lists and vectors too),
gives the values and every partial derivative the tape needs.
"""

from __future__ import annotations

from fractions import Fraction

from ..lang.datum import Pair, is_procedure
from .lift import G, unit
from .structure import leaves, map_structure
from .tags import Bundle, DifferentiationError, Dual, Tracked, bundle, dual, live_value, tracked


class Forward:
    """The forward-mode machinery of one interpreter: its tags and its way to call procedures."""

    def __init__(self, tags, apply):
        self.tags = tags
        self.apply = apply

    # -- the two parts of a perturbed value -------------------------------------------------------

    def tangent(self, tag, value, who: str):
        return self._part(tag, value, who, want_tangent=True)

    def primal(self, tag, value, who: str):
        return self._part(tag, value, who, want_tangent=False)

    def _part(self, tag, value, who, want_tangent: bool):
        def leaf(x):
            cls = x.__class__
            if (cls is Dual or cls is Tracked) and not x.tag.live:
                x = live_value(x)       # a closed perturbation: the number it stands for
                cls = x.__class__
            if cls is Dual:
                if x.tag is tag:
                    return x.tangent if want_tangent else x.primal
                if x.tag.level < tag.level:
                    return 0 if want_tangent else x
                # a younger tag (from a call of a returned procedure): look inside, rebuild
                return rebuild(x.tag, self._part(tag, x.primal, who, want_tangent),
                               self._part(tag, x.tangent, who, want_tangent))
            if cls is Tracked:
                if x.tag.level < tag.level:
                    return 0 if want_tangent else x
                # a value on a younger tape, reached through a closure: its part, re-recorded
                return self._transformed_tracked(x, lambda v: self._part(tag, v, who, want_tangent), who)
            if cls is int or cls is float or cls is Fraction:
                return 0 if want_tangent else x
            if cls is Bundle:       # the tangent of a younger bundle tag's value: each coefficient
                return bundle({index: self._part(tag, coefficient, who, want_tangent)
                               for index, coefficient in x.coefficients.items()})
            if is_procedure(x):
                return self._procedure_part(tag, x, who, want_tangent)
            from ..lang.printer import write_string
            raise DifferentiationError(f"{who}: the function returned {write_string(x)}, which is "
                                       "not a number (nor a list, vector or procedure of numbers)")
        return map_structure(leaf, value, who)

    def _procedure_part(self, tag, procedure, who, want_tangent):
        def part_of_call(*args):
            tape_tag = _younger_tape(args, tag)
            if tape_tag is not None:
                return self._lift_through(part_of_call, args, tape_tag, who)
            # Into the call's world: the hidden tag takes the caller's ε with its state, ε is
            # free (closed) while the arguments are swapped, then opens for the calculation.
            callers_state = tag.live
            hidden = self.tags.fresh()
            hidden.set_live(callers_state)
            tag.set_live(False)
            try:
                swapped_args = [self.swap(tag, hidden, arg) for arg in args]
                tag.set_live(True)
                result = self._part(tag, self.apply(procedure, swapped_args), who, want_tangent)
            finally:
                # back in the caller's world, where the hidden tag never existed
                tag.set_live(callers_state)
                hidden.close()
            return self.swap(tag, hidden, result)
        part_of_call.__name__ = part_of_call.__qualname__ = "derivative" if want_tangent else "primal"
        return part_of_call

    # -- exchanging two tags ----------------------------------------------------------------------

    def swap(self, a, b, value):
        """``value`` with tags a and b exchanged, run in the world being entered (the tags'
        states already exchanged): a renamed value is rebuilt under its new tag, which then has
        the state its old tag had, so a closed perturbation stays a constant."""
        def leaf(x):
            cls = x.__class__
            if cls is Dual:
                primal = self.swap(a, b, x.primal)
                tangent = self.swap(a, b, x.tangent)
                tag = b if x.tag is a else a if x.tag is b else x.tag
                if tag is x.tag and primal is x.primal and tangent is x.tangent:
                    return x
                return rebuild(tag, primal, tangent)
            if cls is Bundle:
                swapped = {index: self.swap(a, b, coefficient) for index, coefficient in x.coefficients.items()}
                if all(swapped[index] is coefficient for index, coefficient in x.coefficients.items()):
                    return x
                return bundle(swapped)
            if cls is Tracked:
                if not x.tag.live:
                    # the number it stands for, which may hold a or b (not live_value: while the
                    # arguments are swapped a tag is closed on purpose)
                    return self.swap(a, b, x.primal)
                level = x.tag.level
                if level < a.level and level < b.level:
                    return x        # older than both tags: neither can be inside it
                if level > a.level and level > b.level:
                    return self._transformed_tracked(x, lambda v: self.swap(a, b, v), "derivative")
                # between the two: renaming the older tag inside it to the younger one would put
                # a younger tag inside an older tape's value, which no entry can hold
                if self.swap(a, b, x.primal) is not x.primal:
                    raise DifferentiationError("derivative: a gradient's value that carries an outer "
                                               "derivative's perturbation cannot pass through this "
                                               "procedure returned by a derivative")
                return x
            if is_procedure(x):
                def conjugate(*args):
                    tape_tag = _younger_tape(args, a if a.level < b.level else b)
                    if tape_tag is not None:
                        return self._lift_through(conjugate, args, tape_tag, "derivative")
                    # the values inside are renamed, and so are the tags' states
                    a_state, b_state = a.live, b.live
                    a.set_live(b_state)
                    b.set_live(a_state)
                    try:
                        result = self.apply(x, [self.swap(a, b, arg) for arg in args])
                    finally:
                        a.set_live(a_state)
                        b.set_live(b_state)
                    return self.swap(a, b, result)
                conjugate.__name__ = conjugate.__qualname__ = getattr(x, "__name__", "procedure")
                return conjugate
            return x
        return map_structure(leaf, value)

    def _lift_through(self, procedure, args, tape_tag, who):
        """``procedure`` applied to arguments holding values on ``tape_tag``'s tape (younger than
        the procedure's own tag), as a primitive of that tape: one forward pass, every number on
        the tape perturbed in a direction of its own, gives each output number and its partial
        derivatives with respect to them, and each output becomes one tape entry."""
        inputs = []
        delta = self.tags.fresh()
        try:
            def perturbed(x):
                if (x.__class__ is Dual or x.__class__ is Tracked) and x.tag is tape_tag:
                    inputs.append(x.node)
                    return dual(delta, x.primal, bundle({len(inputs) - 1: 1}))
                return x
            y = procedure(*[map_structure(perturbed, arg, who) for arg in args])

            def recorded(leaf):
                if (leaf.__class__ is Dual or leaf.__class__ is Tracked) and not leaf.tag.live:
                    leaf = live_value(leaf)     # delta's perturbation may lie under a closed one
                if leaf.__class__ is Dual and leaf.tag is delta:
                    return self._record_lifted(tape_tag, inputs, leaf.primal, leaf.tangent.coefficients)
                elif is_procedure(leaf):
                    raise DifferentiationError(f"{who}: a procedure returned by a derivative, called inside "
                                               "a gradient, returned a procedure; only numbers (and lists "
                                               "and vectors of them) can be recorded on the gradient's tape")
                return self._part(delta, leaf, who, want_tangent=False) \
                    if leaf.__class__ is Dual or leaf.__class__ is Tracked else leaf
            return map_structure(recorded, y, who)
        finally:
            delta.close()

    def _record_lifted(self, tape_tag, inputs, value, coefficients):
        """An output of a lifted call as an entry of the tape: its partials with respect to the
        arguments' numbers are ``coefficients``.  A closure among the arguments may have brought
        in other numbers of the same tape; they show in ``value`` (then an entry of its own,
        through which the output depends on them with partial 1) and in the coefficients, which
        the tape needs only as numbers."""
        def off_tape(x):
            if (x.__class__ is Dual or x.__class__ is Tracked) and not x.tag.live:
                x = live_value(x)
            return x.primal if x.__class__ is Tracked and x.tag is tape_tag else x
        coefficients = {index: off_tape(c) for index, c in coefficients.items()}
        value = live_value(value) if (value.__class__ is Dual or value.__class__ is Tracked) else value
        if value.__class__ is Tracked and value.tag is tape_tag:
            inputs = inputs + [value.node]
            coefficients[len(inputs) - 1] = 1
            value = value.primal
        return self._record(tape_tag, inputs, value, coefficients)

    def _transformed_tracked(self, x, transform, who):
        """transform(x) for a value x on a live tape younger than the tags ``transform`` acts on
        (extracting a tag's part, or swapping two tags): x's primal, and its partial derivatives
        — which may carry those tags — cannot be changed in place.  transform is linear in those
        tags, so it commutes with differentiation by the tape's inputs: the result is a new entry
        of x's tape whose value is transform(primal) and whose partial with respect to each input
        is transform(∂x/∂input), from one backward pass from x.  (Met when a closure holding the
        gradient's values is passed to a procedure a derivative returned.)"""
        tape_tag = x.tag
        tape = tape_tag.tape
        adjoints = tape.backward({x.node: 1})
        inputs, coefficients = [], {}
        for node, entry in enumerate(tape.entries[:x.node + 1]):
            if not entry and adjoints[node] is not None:
                partial = transform(adjoints[node])
                if partial.__class__ is Bundle:
                    raise DifferentiationError(f"{who}: a value of a gradient, held by a closure, cannot "
                                               "be differentiated in many directions at once here")
                coefficients[len(inputs)] = partial
                inputs.append(node)
        return self._record(tape_tag, inputs, transform(x.primal), coefficients)

    @staticmethod
    def _record(tape_tag, inputs, value, coefficients):
        """``value`` as a new entry of ``tape_tag``'s tape whose partial derivative with respect to
        entry inputs[i] is coefficients[i]."""
        entry = []
        plain = True
        for index, partial in coefficients.items():
            cls = partial.__class__
            if cls is not Dual and cls is not Tracked and partial == 0:
                continue
            plain = plain and (cls is float or cls is int or cls is Fraction)
            entry.append(inputs[index])
            entry.append(partial)
        if not entry:
            return value
        tape = tape_tag.tape
        tape.entries.append(tuple(entry))
        if not plain:
            tape.plain = False
        if tape.notes is not None:
            tape.note("derivative", value, entry[::2])
        return tracked(tape_tag, value, len(tape.entries) - 1)


def _younger_tape(args, tag):
    """The newest live reverse-mode tag younger than ``tag`` at the top of a number among
    ``args`` (lists and vectors included), or None."""
    newest = None
    for arg in args:
        cls = arg.__class__
        found = leaves(arg) if cls is Pair or cls is list else (arg,)
        for value in found:
            cls = value.__class__
            if (cls is Dual or cls is Tracked) and not value.tag.live:
                value = live_value(value)
                cls = value.__class__
            if cls is Dual or cls is Tracked:
                top = value.tag
                if top.live and top.tape is not None and top.level > tag.level and \
                        (newest is None or top.level > newest.level):
                    newest = top
    return newest


def rebuild(tag, primal, tangent):
    """primal + tangent·ε_tag, in canonical form whatever the tags inside primal and tangent."""
    if tangent.__class__ is int and tangent == 0:
        return primal
    if tangent.__class__ is Bundle:
        # primal + Σᵢ cᵢ·εᵢ, one direction at a time
        for index, coefficient in tangent.coefficients.items():
            primal = G.add(primal, G.mul(coefficient, dual(tag, 0, bundle({index: 1}))))
        return primal
    return G.add(primal, G.mul(tangent, unit(tag)))
