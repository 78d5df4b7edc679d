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

Reverse mode meets these procedures when a gradient younger than ε calls one: its argument is
then a Tracked value whose primal may come to hold ε, and a tape entry cannot be swapped.  Such
a call is lifted instead, like a primitive: the procedure runs on the primals, and its partial
derivatives, which the tape needs, are computed in forward mode with a fresh tag.
"""

from __future__ import annotations

from fractions import Fraction

from ..lang.datum import is_procedure
from .lift import G, lift, unit
from .structure import is_structure, map_structure
from .tags import Bundle, DifferentiationError, Dual, Tracked, bundle, dual, top_tag


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
                raise DifferentiationError(f"{who}: a reverse-mode value escaped its gradient")
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
        return map_structure(leaf, value)

    def _procedure_part(self, tag, procedure, who, want_tangent):
        def part_of_call(*args):
            if _younger_tape(args, tag):
                return self._lift_through(part_of_call, args, who)
            hidden = self.tags.fresh()
            swapped_args = [self.swap(tag, hidden, arg) for arg in args]
            result = self.apply(procedure, swapped_args)
            return self.swap(tag, hidden, self._part(tag, result, who, want_tangent))
        part_of_call.__name__ = part_of_call.__qualname__ = "derivative" if want_tangent else "primal"
        return part_of_call

    # -- exchanging two tags ----------------------------------------------------------------------

    def swap(self, a, b, value):
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
                if self.swap(a, b, x.primal) is not x.primal:
                    raise DifferentiationError("derivative: a reverse-mode value cannot pass through "
                                               "a procedure returned by a derivative")
                return x
            if is_procedure(x):
                def conjugate(*args):
                    if _younger_tape(args, a if a.level < b.level else b):
                        return self._lift_through(conjugate, args, "derivative")
                    return self.swap(a, b, self.apply(x, [self.swap(a, b, arg) for arg in args]))
                conjugate.__name__ = conjugate.__qualname__ = getattr(x, "__name__", "procedure")
                return conjugate
            return x
        return map_structure(leaf, value)


    def _lift_through(self, procedure, args, who):
        """``procedure`` applied to arguments on a younger tape, as a primitive of that tape."""
        for arg in args:
            if is_structure(arg):
                raise DifferentiationError(f"{who}: lists of reverse-mode values cannot pass through a "
                                           "procedure returned by a derivative; pass numbers")

        def numeric(*primals):
            value = procedure(*primals)
            if not (value.__class__ in (int, float, Fraction, Dual, Tracked)):
                raise DifferentiationError(f"{who}: a gradient of a procedure returned by a derivative "
                                           "must produce numbers")
            return value

        def partial(index):
            def forward_partial(*primals):
                delta = self.tags.fresh()
                shifted = list(primals)
                shifted[index] = dual(delta, primals[index], 1)
                return self.tangent(delta, procedure(*shifted), who)
            return forward_partial
        return lift(numeric, tuple(partial(i) for i in range(len(args))), args)


def _younger_tape(args, tag) -> bool:
    """Whether the newest tag among ``args`` is a reverse-mode tag younger than ``tag``."""
    top = top_tag(args)
    return top is not None and top.tape is not None and top.level > tag.level


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
