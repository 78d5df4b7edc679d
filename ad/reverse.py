"""Reverse mode: the tape (a Wengert list) and the backward pass.

Every operation on a Tracked value appends one entry to its tag's tape: the indices of the
entries it read and the local partial derivatives.  The backward pass walks the tape once,
newest entry first, and accumulates adjoints:

    adjoint[parent] += adjoint[entry] · ∂entry/∂parent

with the generic operations — so an outer derivative can differentiate the pass itself — and
never by recursion: a tape of ten million entries needs no more Python stack than one of ten.
"""

from __future__ import annotations

from itertools import islice

from .lift import G, SingularPartial, is_zero, scaled


class Tape:
    __slots__ = ("entries", "notes", "plain")

    def __init__(self, annotated: bool = False):
        self.entries: list[tuple] = []   # (parent, partial, parent, partial, …) per entry
        # Whether every partial recorded is a float, an exact integer or an exact rational — then
        # the backward pass is Python arithmetic, with no generic operation and no test of a
        # partial's class (an exact result may then be a Fraction of denominator 1, which
        # whoever reads it normalizes: 1/4 · 4 is Fraction(1, 1) in Python, 1 here).  Whoever
        # records another partial clears it (`lift`).
        self.plain = True
        # For the teaching tools only: (operation, value, operands) per entry
        self.notes: list | None = [] if annotated else None

    def note(self, operation, value, operands):
        self.notes.append((getattr(operation, "operation_name", None) or getattr(operation, "__name__", "?"),
                           value, operands))

    def __len__(self) -> int:
        return len(self.entries)

    def new_input(self, value=None) -> int:
        self.entries.append(())
        if self.notes is not None:
            self.notes.append(("input", value, []))
        return len(self.entries) - 1

    def backward(self, seeds: dict, trace=None) -> list:
        """Adjoints of every entry, given the adjoints ``seeds`` {entry: cotangent} of outputs.
        ``trace(node, parent, partial, contribution, new adjoint)`` sees every update (teaching)."""
        try:
            return self._backward(seeds, trace, False)
        except OverflowError:
            if trace is not None:
                raise
            # An exact partial beyond the floats' range met a float adjoint, which Python's
            # operators refuse: again, with the generic operations only (they take it as ±inf.0).
            return self._backward(seeds, None, True)

    def _backward(self, seeds: dict, trace, generic_only: bool) -> list:
        entries = self.entries
        adjoints = [None] * len(entries)
        for node, seed in seeds.items():
            adjoints[node] = seed if adjoints[node] is None else G.add(adjoints[node], seed)
        top = max(seeds, default=-1)
        if trace is None and self.plain and not generic_only and \
                all(seed.__class__ is float or seed.__class__ is int for seed in seeds.values()):
            return self._backward_plain(adjoints, top)
        return self._backward_general(adjoints, top, trace, generic_only=generic_only)

    def _backward_plain(self, adjoints, top):
        """The backward pass over floats and exact numbers, where + and · are Python's."""
        entries = self.entries
        pending = islice(reversed(adjoints), len(adjoints) - 1 - top, None)
        for adjoint, entry in zip(pending, islice(reversed(entries), len(entries) - 1 - top, None)):
            if adjoint is None or adjoint == 0:
                continue
            size = len(entry)
            if size == 4:
                parent, partial, other, other_partial = entry
                previous = adjoints[parent]
                adjoints[parent] = adjoint * partial if previous is None else previous + adjoint * partial
                previous = adjoints[other]
                adjoints[other] = adjoint * other_partial if previous is None else previous + adjoint * other_partial
            elif size == 2:
                parent, partial = entry
                previous = adjoints[parent]
                adjoints[parent] = adjoint * partial if previous is None else previous + adjoint * partial
            elif size == 6:     # an expression of three variables (interpreter/fusion.py)
                parent, partial, other, other_partial, third, third_partial = entry
                previous = adjoints[parent]
                adjoints[parent] = adjoint * partial if previous is None else previous + adjoint * partial
                previous = adjoints[other]
                adjoints[other] = adjoint * other_partial if previous is None else previous + adjoint * other_partial
                previous = adjoints[third]
                adjoints[third] = adjoint * third_partial if previous is None else previous + adjoint * third_partial
            else:       # mostly an n-ary sum: partials of 1, by which an exact rational
                for k in range(0, size, 2):     # adjoint is slow to multiply
                    parent = entry[k]
                    previous = adjoints[parent]
                    partial = entry[k + 1]
                    contribution = adjoint if partial.__class__ is int and partial == 1 else adjoint * partial
                    adjoints[parent] = contribution if previous is None else previous + contribution
        return adjoints

    def _varies(self, node, known: dict) -> bool:
        """Whether entry ``node`` depends, to first order, on the tape's inputs.  Forward mode
        takes the partial of an operation only when the tangent reaching it is nonzero, and
        tangents cancel ((- x x) has none); reverse mode knows the tangent of an operation's
        argument only as a backward pass from it: it varies if that pass reaches an input with a
        nonzero adjoint, or an undefined partial whose own argument varies.  Answers are kept in
        ``known``; nodes waiting for others are stacked, not recursed (a chain of undefined
        partials may be long)."""
        entries = self.entries
        stack = [node]
        while stack:
            current = stack[-1]
            if current in known:
                stack.pop()
                continue
            adjoints = [None] * (current + 1)
            adjoints[current] = 1
            met: list = []
            self._backward_general(adjoints, current, None, met)
            if any(not entries[i] and adjoint is not None and not is_zero(adjoint)
                   for i, adjoint in enumerate(adjoints)):
                known[current] = True
            else:
                waiting = [parent for parent in met if parent not in known]
                if waiting:
                    stack.extend(waiting)
                    continue
                known[current] = any(known[parent] for parent in met)
            stack.pop()
        return known[node]

    @staticmethod
    def _propagate(adjoints, parent, adjoint, partial):
        """adjoints[parent] += adjoint · partial, with the generic operations."""
        contribution = scaled(partial, adjoint)
        previous = adjoints[parent]
        adjoints[parent] = contribution if previous is None else G.add(previous, contribution)
        return contribution

    def _backward_general(self, adjoints, top, trace, undefined=None, generic_only=False):
        """The backward pass over anything the generic operations take (an outer derivative's
        perturbed values, exact rationals); floats still meet here and there and are taken
        directly.  An undefined partial (SingularPartial) that a nonzero adjoint reaches is an
        error if its argument varies with the inputs (see _varies); with ``undefined``, a list,
        such meetings are collected there instead and contribute nothing.  With
        ``generic_only``, floats too take the generic operations."""
        entries = self.entries
        known = None
        for node in range(top, -1, -1):
            adjoint = adjoints[node]
            entry = entries[node]
            if adjoint is None or not entry or is_zero(adjoint):
                continue
            plain_adjoint = adjoint.__class__ is float and not generic_only
            unit_adjoint = adjoint.__class__ is int and adjoint == 1
            for k in range(0, len(entry), 2):
                parent, partial = entry[k], entry[k + 1]
                previous = adjoints[parent]
                if plain_adjoint and (partial.__class__ is float or partial.__class__ is int) and \
                        (previous is None or previous.__class__ is float):
                    contribution = adjoint * partial
                    adjoints[parent] = contribution if previous is None else previous + contribution
                elif partial.__class__ is SingularPartial:
                    if undefined is not None:
                        undefined.append(parent)
                        continue
                    if known is None:
                        known = {}
                    if self._varies(parent, known):
                        raise partial.error
                    continue                    # its argument is a constant: nothing flows back
                elif trace is None:
                    # _propagate, written out: an adjoint is never a bundle, so scaled() comes
                    # down to its shortcuts for a 1 and the generic product
                    if partial.__class__ is int and partial == 1:
                        contribution = adjoint
                    elif unit_adjoint:
                        contribution = partial
                    else:
                        contribution = G.mul(partial, adjoint)
                    adjoints[parent] = contribution if previous is None else G.add(previous, contribution)
                else:
                    contribution = self._propagate(adjoints, parent, adjoint, partial)
                if trace is not None:
                    trace(node, parent, partial, contribution, adjoints[parent])
        return adjoints
