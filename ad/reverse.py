"""Reverse mode: the tape (a Wengert list) and the backward pass.

Every operation on a Tracked value appends one entry to its tag's tape: the indices of the
entries it read and the local partial derivatives.  The backward pass walks the tape once,
newest entry first, and accumulates adjoints:

    adjoint[parent] += adjoint[entry] · ∂entry/∂parent

with the generic operations — so an outer derivative can differentiate the pass itself — and
never by recursion: a tape of ten million entries needs no more Python stack than one of ten.
"""

from __future__ import annotations

from .lift import G, is_zero


class Tape:
    __slots__ = ("entries", "notes")

    def __init__(self, annotated: bool = False):
        self.entries: list[tuple] = []   # (parent, partial, parent, partial, …) per entry
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

    def record(self, entry: tuple) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1

    def backward(self, seeds: dict, trace=None) -> list:
        """Adjoints of every entry, given the adjoints ``seeds`` {entry: cotangent} of outputs.
        ``trace(node, parent, partial, contribution, new adjoint)`` sees every update (teaching)."""
        entries = self.entries
        adjoints = [None] * len(entries)
        for node, seed in seeds.items():
            adjoints[node] = seed if adjoints[node] is None else G.add(adjoints[node], seed)
        add, mul = G.add, G.mul
        for node in range(max(seeds, default=-1), -1, -1):
            adjoint = adjoints[node]
            if adjoint is None:
                continue
            entry = entries[node]
            if not entry:
                continue
            plain_adjoint = adjoint.__class__ is float
            if (plain_adjoint and adjoint == 0.0) or (not plain_adjoint and is_zero(adjoint)):
                continue
            for k in range(0, len(entry), 2):
                parent = entry[k]
                partial = entry[k + 1]
                # floats, the common case, are multiplied and added directly
                if plain_adjoint and (partial.__class__ is float or partial.__class__ is int):
                    contribution = adjoint * partial
                else:
                    contribution = mul(adjoint, partial)
                previous = adjoints[parent]
                if previous is None:
                    adjoints[parent] = contribution
                elif previous.__class__ is float and contribution.__class__ is float:
                    adjoints[parent] = previous + contribution
                else:
                    adjoints[parent] = add(previous, contribution)
                if trace is not None:
                    trace(node, parent, partial, contribution, adjoints[parent])
        return adjoints
